/*
 * boot.h - loading a Linux kernel (or the test guest) the way the x86
 * boot protocol asks, and describing the machine to it.
 */
#ifndef LGUEST_X86_BOOT_H
#define LGUEST_X86_BOOT_H

#include "lguest.h"

/* One e820 range; type 1 = usable RAM, 2 = reserved. */
struct e820_range {
	u64 addr, size;
	u32 type;
};

/* The map we give the guest; at most E820_MAX ranges.  Returns the count. */
#define E820_MAX 8
int e820_build(const struct vm *vm, struct e820_range *map);

/*
 * Load a bzImage, an ELF64 vmlinux, or a gzip-compressed one of those.
 * Sets vm->entry and vm->kernel_end, and keeps the kernel's setup header
 * for boot_setup().  Anything else: errx() with what the file is and what
 * is accepted.
 */
void boot_load_kernel(struct vm *vm, const char *file);

/* Place the initrd below the kernel's initrd_addr_max, page aligned.
 * Call after boot_load_kernel(). */
void boot_load_initrd(struct vm *vm, const char *file);

/* Write boot_params (command line, e820, initrd), the GDT and the
 * identity page tables; sets vm->boot_params and vm->boot_cpu. */
void boot_setup(struct vm *vm, const char *cmdline);

/*
 * The same for /dev/lguest (boot32.c): a 32-bit paravirtual bzImage or
 * ELF vmlinux, and boot_params at 0 saying "lguest", for a guest whose
 * RAM is [0, @ram).
 */
void boot32_load_kernel(struct vm *vm, const char *file, u64 ram);
void boot32_load_initrd(struct vm *vm, const char *file, u64 ram);
void boot32_setup(struct vm *vm, const char *cmdline, u64 ram);

/* guest_ptr() for the boot data: there is no booting without it. */
void *boot_ptr(struct vm *vm, u64 gpa, u64 len);

/* The GDT and the identity page tables the kernel starts with, and in
 * vm->boot_cpu the vCPU state that enters it at vm->entry. */
void boot_cpu_setup(struct vm *vm);

/* Build the ACPI tables in the BIOS area, the RSDP at ACPI_RSDP.  Call
 * before boot_setup(), which hands that address to the kernel. */
void acpi_build(struct vm *vm);

/* The byte that makes @len bytes sum to zero (ACPI, SMBIOS). */
u8 table_checksum(const void *p, size_t len);

/* The SMBIOS entry point and tables, at SMBIOS_START. */
void smbios_build(struct vm *vm);

#endif
