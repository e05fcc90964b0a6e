/*
 * boot32.c - loading a 32-bit paravirtual kernel for /dev/lguest.
 *
 *L:147 An lguest guest is a 32-bit kernel built with CONFIG_LGUEST_GUEST,
 * entered in protected mode at its 32-bit entry point with boot_params
 * at guest-physical 0.  There it finds hardware_subarch 1, "lguest",
 * and goes straight to lguest_init() instead of probing for a PC; it
 * must keep the segments the host set up (KEEP_SEGMENTS).  The memory
 * map is one range of RAM, the command line follows boot_params, and
 * the initrd sits at the top of RAM.  The page above RAM is the lguest
 * bus (virtio/lgbus.c), which the guest finds on its own.
 */
#include <elf.h>
#include <string.h>
#include <asm/bootparam.h>

#include "lguest.h"
#include "x86/boot.h"
#include "x86/image.h"

#define LG_BOOT_PARAMS		0x0
#define LG_CMDLINE		0x1000	/* just after boot_params */
#define LG_CMDLINE_MAX		2048	/* COMMAND_LINE_SIZE on i386 */
#define LG_KERNEL_LOAD		0x100000
#define SUBARCH_LGUEST		1

static const char accepted32[] = "on /dev/lguest, lguest boots a 32-bit "
				 "bzImage or ELF vmlinux built with "
				 "CONFIG_LGUEST_GUEST";

/* [gpa, gpa + len) must be RAM below @ram, the end of what the guest
 * is told of. */
static void *ram32(struct vm *vm, u64 ram, const char *name, u64 gpa, u64 len)
{
	void *p = gpa <= ram && len <= ram - gpa ? guest_ptr(vm, gpa, len) :
						    NULL;

	if (!p)
		errx(EXIT_ERROR, "%s: needs %llu MiB of memory at 0x%llx; give "
		     "lguest more memory (at least %llu MiB)", name,
		     (unsigned long long)mib_up(len), (unsigned long long)gpa,
		     (unsigned long long)mib_up(gpa + len));
	return p;
}

static void load_bzimage32(struct vm *vm, u64 ram, const struct image *img)
{
	struct setup_header h;
	u8 sect[1024];
	u64 setup_size;
	unsigned int sects;

	img_read(img, sect, 0, sizeof(sect));
	memcpy(&h, sect + SETUP_HDR, sizeof(h));
	vm->kernel->hdr_len = min64(0x202 + sect[0x201] - SETUP_HDR,
				    SETUP_HDR_MAX);
	memcpy(vm->kernel->hdr, sect + SETUP_HDR, vm->kernel->hdr_len);

	/* hardware_subarch came with boot protocol 2.07. */
	if (h.version < 0x0207)
		errx(EXIT_ERROR, "%s: bzImage boot protocol %u.%02u is too old "
		     "for lguest's paravirtual entry (2.07 or later)",
		     img->name, h.version >> 8, h.version & 0xff);
	if (h.version >= 0x020c && (h.xloadflags & XLF_KERNEL_64))
		errx(EXIT_ERROR, "%s: is a 64-bit kernel; %s (or use "
		     "--hypervisor=kvm)", img->name, accepted32);
	if (!(h.loadflags & LOADED_HIGH))
		errx(EXIT_ERROR, "%s: is a zImage, not a bzImage; %s",
		     img->name, accepted32);
	sects = h.setup_sects ? h.setup_sects : 4;
	setup_size = (sects + 1) * 512ULL;
	if (setup_size >= img->size)
		errx(EXIT_ERROR, "%s: truncated bzImage", img->name);
	if (h.code32_start != LG_KERNEL_LOAD)
		errx(EXIT_ERROR, "%s: its 32-bit code starts at 0x%x, not at "
		     "1 MiB where bzImages load", img->name, h.code32_start);

	img_read(img, ram32(vm, ram, img->name, LG_KERNEL_LOAD,
			    img->size - setup_size),
		 setup_size, img->size - setup_size);
	vm->kernel->bzimage = true;
	vm->kernel->cmdline_max = h.cmdline_size;
	vm->kernel->initrd_max = (u64)h.initrd_addr_max + 1;
	vm->entry = h.code32_start;
	vm->kernel_end = LG_KERNEL_LOAD + img->size - setup_size;
	verbose("%s: 32-bit bzImage, boot protocol %u.%02u, %llu KiB at 0x%x",
		img->name, h.version >> 8, h.version & 0xff,
		(unsigned long long)((img->size - setup_size) / KiB),
		LG_KERNEL_LOAD);
}

/* A vmlinux: its segments at their physical addresses, entered at its
 * entry point, which for i386 kernels is physical too. */
static void load_elf32(struct vm *vm, u64 ram, const struct image *img)
{
	Elf32_Ehdr eh;
	Elf32_Phdr ph;
	u64 end = 0;
	bool entry_ok = false;
	int loaded = 0;

	img_read(img, &eh, 0, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS32 || eh.e_machine != EM_386 ||
	    eh.e_type != ET_EXEC || eh.e_phentsize != sizeof(ph))
		errx(EXIT_ERROR, "%s: is an ELF file, but not an i386 "
		     "executable; %s", img->name, accepted32);
	for (int i = 0; i < eh.e_phnum; i++) {
		u8 *p;

		img_read(img, &ph, eh.e_phoff + (u64)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_paddr < LG_KERNEL_LOAD)
			errx(EXIT_ERROR, "%s: ELF segment %d does not load at "
			     "1 MiB or above", img->name, i);
		p = ram32(vm, ram, img->name, ph.p_paddr, ph.p_memsz);
		img_read(img, p, ph.p_offset, ph.p_filesz);
		memset(p + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (eh.e_entry >= ph.p_paddr &&
		    eh.e_entry - ph.p_paddr < ph.p_memsz)
			entry_ok = true;
		end = max64(end, (u64)ph.p_paddr + ph.p_memsz);
		loaded++;
	}
	if (!loaded || !entry_ok)
		errx(EXIT_ERROR, "%s: ELF file has %s", img->name, loaded ?
		     "its entry point outside what it loads" : "nothing to load");
	vm->kernel->bzimage = false;
	vm->kernel->cmdline_max = LG_CMDLINE_MAX - 1;
	vm->kernel->initrd_max = 0x38000000;	/* i386's initrd_addr_max */
	vm->entry = eh.e_entry;
	vm->kernel_end = end;
	verbose("%s: i386 ELF, %d segments up to 0x%llx, entry 0x%x",
		img->name, loaded, (unsigned long long)end, eh.e_entry);
}

void boot32_load_kernel(struct vm *vm, const char *file, u64 ram)
{
	struct image img = { .name = file };
	u8 m[0x206];

	vm->kernel = malloc_or_die(sizeof(*vm->kernel));
	memset(vm->kernel, 0, sizeof(*vm->kernel));
	img.fd = open_image("kernel", file, "a kernel", &img.size);
	if (img.size < sizeof(m))
		errx(EXIT_ERROR, "%s: too small to be a kernel; %s", file,
		     accepted32);
	img_read(&img, m, 0, sizeof(m));
	if (!memcmp(m, ELFMAG, SELFMAG))
		load_elf32(vm, ram, &img);
	else if (!memcmp(m + 0x202, "HdrS", 4))
		load_bzimage32(vm, ram, &img);
	else
		errx(EXIT_ERROR, "%s: not a kernel: no bzImage header and no "
		     "ELF magic; %s", file, accepted32);
}

void boot32_load_initrd(struct vm *vm, const char *file, u64 ram)
{
	struct image img = { .name = file };
	u64 top = min64(ram, vm->kernel->initrd_max), bottom, addr;

	img.fd = open_image("initrd", file, "an initrd", &img.size);
	bottom = (vm->kernel_end + 0xfff) & ~0xfffULL;
	if (img.size > top || ((top - img.size) & ~0xfffULL) < bottom)
		errx(EXIT_ERROR, "%s: initrd of %llu MiB does not fit in %llu "
		     "MiB of memory above the kernel; give lguest more memory",
		     file, (unsigned long long)mib_up(img.size),
		     (unsigned long long)(ram / MiB));
	addr = (top - img.size) & ~0xfffULL;
	img_read(&img, ram32(vm, ram, file, addr, img.size), 0, img.size);
	vm->kernel->initrd_addr = addr;
	vm->kernel->initrd_size = img.size;
	verbose("%s: initrd, %llu bytes at 0x%llx", file,
		(unsigned long long)img.size, (unsigned long long)addr);
}

void boot32_setup(struct vm *vm, const char *cmdline, u64 ram)
{
	struct boot_params *bp = ram32(vm, ram, "boot_params", LG_BOOT_PARAMS,
				       sizeof(*bp));
	size_t len = strlen(cmdline);
	u64 max = min64(vm->kernel->cmdline_max, LG_CMDLINE_MAX - 1);

	memset(bp, 0, sizeof(*bp));
	if (vm->kernel->bzimage)
		memcpy((u8 *)bp + SETUP_HDR, vm->kernel->hdr,
		       vm->kernel->hdr_len);
	if (bp->hdr.version < 0x0207)
		bp->hdr.version = 0x0207;
	bp->hdr.hardware_subarch = SUBARCH_LGUEST;
	bp->hdr.loadflags |= KEEP_SEGMENTS;
	bp->hdr.type_of_loader = 0xff;

	if (len > max)
		errx(EXIT_ERROR, "command line is %zu bytes; this kernel "
		     "accepts at most %llu", len, (unsigned long long)max);
	memcpy(ram32(vm, ram, "command line", LG_CMDLINE, len + 1), cmdline,
	       len + 1);
	bp->hdr.cmd_line_ptr = LG_CMDLINE;
	bp->hdr.ramdisk_image = vm->kernel->initrd_addr;
	bp->hdr.ramdisk_size = vm->kernel->initrd_size;

	bp->e820_entries = 1;
	bp->e820_table[0].addr = 0;
	bp->e820_table[0].size = ram;
	bp->e820_table[0].type = 1;	/* usable */
	verbose("e820: [mem 0x0000000000000000-0x%016llx] usable",
		(unsigned long long)(ram - 1));
	vm->boot_params = LG_BOOT_PARAMS;
}
