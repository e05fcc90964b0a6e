/*
 * cpu.c - the CPL0 side of the test guest: filling the IDT and TSS that
 * entry.S loads, and reporting exceptions.
 *
 * Code here runs emulated on some hosts, so it does as little as it can.
 */
#include "guest.h"

#define KCODE		0x08
#define GATE_INT	0x0e	/* 64-bit interrupt gate: IF cleared */
#define GATE_P		0x80
#define GATE_DPL3	0x60
#define TSS_AVAIL	0x09	/* 64-bit TSS, not busy */
#define TRIP_VECTOR	0x81	/* int $0x81 from CPL3 triple-faults */

struct idt_gate {
	u16 off_lo;
	u16 sel;
	u8 ist;
	u8 attr;
	u16 off_mid;
	u32 off_hi;
	u32 zero;
} __attribute__((packed));

struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));

/* Linked in from entry.S. */
extern const char exc_stubs[], gp_entry[], ud_entry[], trip_handler[],
	kstack_top[];
extern u64 gdt_tss[2];

struct idt_gate idt[256] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));

static void set_gate(int vec, const void *fn, u8 dpl)
{
	u64 off = (uintptr_t)fn;

	idt[vec] = (struct idt_gate){
		.off_lo = (u16)off,
		.sel = KCODE,
		.attr = GATE_P | dpl | GATE_INT,
		.off_mid = (u16)(off >> 16),
		.off_hi = (u32)(off >> 32),
	};
}

void cpu_setup(void)
{
	u64 base = (uintptr_t)&tss, limit = sizeof(tss) - 1;

	for (int i = 0; i < 32; i++)
		set_gate(i, exc_stubs + 16 * i, 0);
	set_gate(6, ud_entry, 0);	/* may be the triplefault scenario */
	set_gate(13, gp_entry, 0);	/* emulates CPL3 port I/O first */
	set_gate(TRIP_VECTOR, trip_handler, GATE_DPL3);

	/* Faults at CPL3 land on the kernel stack; IOPL 3 needs no bitmap. */
	tss.rsp[0] = (uintptr_t)kstack_top;
	tss.iomap_base = sizeof(tss);

	gdt_tss[0] = (limit & 0xffff) | (base & 0xffffff) << 16 |
		     (u64)(GATE_P | TSS_AVAIL) << 40 |
		     ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt_tss[1] = base >> 32;
}

noreturn void exception_report(u64 vec, u64 err, u64 rip, u64 cs, u64 cr2,
			       u64 rflags)
{
	printf("lguest-testguest: exception %lu at 0x%016lx err 0x%lx\n",
	       vec, rip, err);
	printf("lguest-testguest: cs 0x%lx rflags 0x%lx\n", cs, rflags);
	if (vec == 14)
		printf("lguest-testguest: page fault address 0x%016lx (cpl %lu)\n",
		       cr2, cs & 3);
	outb(PORT_PVPANIC, 1);
	for (;;)
		asm volatile("hlt");
}
