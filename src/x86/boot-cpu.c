/*
 * boot-cpu.c - the processor state the 64-bit boot protocol asks for,
 * and the GDT and page tables that state points at.
 */
#include <string.h>

#include "lguest.h"
#include "x86/boot.h"
#include "x86/layout.h"

/* The GDT the kernel starts with: what CS=0x10 and DS=0x18 select. */
static void write_gdt(struct vm *vm)
{
	u64 *gdt = boot_ptr(vm, BOOT_GDT, 4 * sizeof(u64));

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffULL;	/* 64-bit code, present, DPL 0 */
	gdt[3] = 0x00cf93000000ffffULL;	/* 4 GiB flat data, writable */
}

/* PML4 -> one PDPT -> four page directories of 2 MiB pages: 0..4 GiB. */
static void write_page_tables(struct vm *vm)
{
	u64 *pml4 = boot_ptr(vm, BOOT_PML4, 4096);
	u64 *pdpt = boot_ptr(vm, BOOT_PDPT, 4096);
	u64 *pd = boot_ptr(vm, BOOT_PD, 4 * 4096);
	const u64 present_rw = 0x3, huge = 0x80;
	unsigned int i;

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT | present_rw;
	for (i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD + i * 4096) | present_rw;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = (u64)i * 2 * MiB | present_rw | huge;
}

void boot_cpu_setup(struct vm *vm)
{
	write_gdt(vm);
	write_page_tables(vm);
}
