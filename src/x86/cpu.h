/*
 * cpu.h - the state an x86 vCPU starts in, in no hypervisor's terms.
 *
 * The loader decides what the kernel finds in the registers when it
 * starts (see boot-cpu.c) and leaves it in vm->boot_cpu; a backend only
 * spells it its own way (KVM's kvm_sregs, kvm_regs and kvm_fpu), and
 * needs to know nothing of boot protocols.
 */
#ifndef LGUEST_X86_CPU_H
#define LGUEST_X86_CPU_H

#include "lguest.h"

/*
 * A segment register with its hidden part, the descriptor it caches,
 * unpacked.  The limit is in bytes, as the CPU checks it: with g set, the
 * descriptor holds it in 4 KiB units.
 */
struct cpu_seg {
	u64 base;
	u32 limit;
	u16 selector;
	u8 type;		/* the descriptor's 4 type bits */
	u8 s;			/* 1: code or data, 0: a system segment */
	u8 dpl;
	u8 present;
	u8 l;			/* 64-bit code */
	u8 db;			/* 32-bit default operand size */
	u8 g;			/* 4 KiB granularity */
	u8 avl;
	u8 unusable;		/* holds a null selector */
};

/* Where the GDT or IDT is. */
struct cpu_dtable {
	u64 base;
	u16 limit;
};

struct boot_cpu {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 rip, rflags;

	struct cpu_seg cs, ds, es, fs, gs, ss, tr, ldt;
	struct cpu_dtable gdt, idt;
	u64 cr0, cr3, cr4, efer;

	u16 fcw;		/* x87 control word */
	u32 mxcsr;		/* SSE control and status */
};

#endif
