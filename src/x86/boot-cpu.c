/*
 * boot-cpu.c - the processor state the 64-bit boot protocol asks for,
 * and the GDT and page tables that state points at.  It is left in
 * vm->boot_cpu for the backend to load into the vCPU.
 */
#include <string.h>

#include "lguest.h"
#include "x86/boot.h"
#include "x86/cpu.h"
#include "x86/layout.h"

#define BOOT_CS		0x10	/* the kernel's __BOOT_CS and __BOOT_DS */
#define BOOT_DS		0x18
#define GDT_ENTRIES	4

static const struct cpu_seg flat_code = {
	.limit = 0xffffffff, .selector = BOOT_CS,
	.type = 0xb,			/* execute/read, accessed */
	.s = 1, .present = 1, .l = 1, .g = 1,
};

static const struct cpu_seg flat_data = {
	.limit = 0xffffffff, .selector = BOOT_DS,
	.type = 0x3,			/* read/write, accessed */
	.s = 1, .present = 1, .db = 1, .g = 1,
};

/* A segment as its descriptor sits in the GDT. */
static u64 descriptor(const struct cpu_seg *s)
{
	u32 limit = s->g ? s->limit >> 12 : s->limit;
	u64 access = s->type | s->s << 4 | s->dpl << 5 | s->present << 7;
	u64 flags = s->avl | s->l << 1 | s->db << 2 | s->g << 3;

	return (limit & 0xffff) | (s->base & 0xffffff) << 16 | access << 40 |
	       (u64)(limit >> 16 & 0xf) << 48 | flags << 52 |
	       (s->base >> 24 & 0xff) << 56;
}

/* The GDT the kernel starts with: what CS and DS select. */
static void write_gdt(struct vm *vm, const struct boot_cpu *c)
{
	u64 *gdt = boot_ptr(vm, BOOT_GDT, GDT_ENTRIES * sizeof(u64));

	memset(gdt, 0, GDT_ENTRIES * sizeof(u64));
	gdt[c->cs.selector >> 3] = descriptor(&c->cs);
	gdt[c->ds.selector >> 3] = descriptor(&c->ds);
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

/*L:145 The 64-bit boot protocol: long mode with paging on, the loader's
 * identity map in CR3, a flat GDT with __BOOT_CS at 0x10 and __BOOT_DS at
 * 0x18, interrupts off and %rsi pointing at boot_params. */
void boot_cpu_setup(struct vm *vm)
{
	struct boot_cpu *c = malloc_or_die(sizeof(*c));

	c->cs = flat_code;
	c->ds = c->es = c->fs = c->gs = c->ss = flat_data;
	/* No TSS or LDT until the kernel loads its own, but Intel's VM
	 * entry insists on a present, busy 64-bit TSS in TR. */
	c->tr = (struct cpu_seg){ .limit = 0xffff, .type = 0xb,
				  .present = 1 };
	c->ldt = (struct cpu_seg){ .type = 0x2, .unusable = 1 };
	c->gdt.base = BOOT_GDT;
	c->gdt.limit = GDT_ENTRIES * 8 - 1;
	c->idt.base = 0;
	c->idt.limit = 0;

	c->cr0 = 0x80050033;	/* PG | AM | WP | NE | ET | MP | PE */
	c->cr3 = BOOT_PML4;
	c->cr4 = 0x20;		/* PAE */
	c->efer = 0x500;	/* LME | LMA */

	c->rflags = 2;		/* bit 1 is always set; IF is clear */
	c->rip = vm->entry;
	c->rsi = vm->boot_params;
	c->rsp = BOOT_STACK;
	c->fcw = 0x37f;		/* all x87 and SSE exceptions masked, */
	c->mxcsr = 0x1f80;	/* as FNINIT and a reset leave them */

	write_gdt(vm, c);
	write_page_tables(vm);
	vm->boot_cpu = c;
}
