/*
 * entry.S - the test guest's first instructions, at CPL0.
 *
 * The Launcher enters us in long mode with its own GDT and page tables.
 * Guest code at CPL0 is slow (it is emulated on some hosts), so this does
 * the least a kernel must: its own GDT, TSS, IDT and page tables (all
 * built by the assembler, none by loops), then drops to CPL3 with IOPL 3
 * and lets the C code run there natively.  Interrupts stay off throughout.
 */

#define KCODE	0x08
#define KDATA	0x10
#define UDATA	0x18
#define UCODE	0x20
#define TSS_SEL	0x28

#define PTE_P	0x01
#define PTE_W	0x02
#define PTE_U	0x04
#define PTE_PWT	0x08
#define PTE_PCD	0x10
#define PTE_PS	0x80
#define PTE_DIR	(PTE_P | PTE_W | PTE_U)

#define CR4_SMEP (1 << 20)
#define CR4_SMAP (1 << 21)

#define STACK_SIZE 16384

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cli
	cld
	xorl	%r13d, %r13d		/* the 64-bit boot protocol */

/*
 * pvh.S joins here with %r13 = 1 and %rsi = its hvm_start_info; from
 * _start, %r13 = 0 and %rsi = boot_params.
 */
	.globl	start_common
start_common:
	movq	$kstack_top, %rsp
	movq	%rsi, %r12		/* boot_params, survives the bss wipe */

	/* A loader need not zero our bss; vmlinux clears its own too. */
	movq	$__bss_start, %rdi
	movq	$__bss_end, %rcx
	subq	%rdi, %rcx
	shrq	$3, %rcx
	xorl	%eax, %eax
	rep stosq
	movq	%r12, boot_params_phys(%rip)
	movq	%r13, boot_pvh(%rip)

	lgdt	gdt_ptr(%rip)
	movl	$KDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	pushq	$KCODE
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:
	/* Every page is a user page, so CPL0 must be allowed to touch them. */
	movq	%cr4, %rax
	testl	$(CR4_SMEP | CR4_SMAP), %eax
	jz	2f
	andl	$~(CR4_SMEP | CR4_SMAP), %eax
	movq	%rax, %cr4
2:
	movq	$pml4, %rax
	movq	%rax, %cr3

	call	cpu_setup		/* IDT gates and the TSS descriptor */
	lidt	idt_ptr(%rip)
	movl	$TSS_SEL, %eax
	ltr	%ax

	/* iretq to CPL3: IOPL 3 lets C do port I/O, IF stays clear. */
	pushq	$(UDATA | 3)
	pushq	$ustack_top
	pushq	$0x3002
	pushq	$(UCODE | 3)
	pushq	$user_start
	iretq

user_start:
	movq	boot_params_phys(%rip), %rdi
	call	guest_main
	ud2				/* guest_main never returns */

/*
 * Exception stubs, 16 bytes apart so cpu_setup() can find stub N at
 * exc_stubs + 16 * N.  The CPU pushes an error code for some vectors;
 * the others push a zero so the frame always looks the same.
 */
#define HAS_ERR(n) ((n) == 8 || ((n) >= 10 && (n) <= 14) || (n) == 17 || \
		    (n) == 21 || (n) == 29 || (n) == 30)

	.macro	exc_stub n
	.balign	16
	.if	!HAS_ERR(\n)
	pushq	$0
	.endif
	pushq	$\n
	jmp	exc_common
	.endm

	.balign	16
	.globl	exc_stubs
exc_stubs:
	exc_stub 0;  exc_stub 1;  exc_stub 2;  exc_stub 3
	exc_stub 4;  exc_stub 5;  exc_stub 6;  exc_stub 7
	exc_stub 8;  exc_stub 9;  exc_stub 10; exc_stub 11
	exc_stub 12; exc_stub 13; exc_stub 14; exc_stub 15
	exc_stub 16; exc_stub 17; exc_stub 18; exc_stub 19
	exc_stub 20; exc_stub 21; exc_stub 22; exc_stub 23
	exc_stub 24; exc_stub 25; exc_stub 26; exc_stub 27
	exc_stub 28; exc_stub 29; exc_stub 30; exc_stub 31

/*
 * #GP gets a look first: if CPL3 code faulted on one of our own port
 * I/O instructions, do it here and step over it.  CPL3 runs with IOPL 3,
 * but a hypervisor that runs guest user mode natively may not grant it
 * (PVM clears IOPL: the guest's CPL3 would reach the host's ports).
 * The guest's in/out always use %dx (see guest.h), so there are few
 * shapes to know, and %al/%ax/%eax and %dx still hold the guest's values.
 * Stack: error, rip, cs, rflags, rsp, ss.
 */
	.globl	gp_entry
gp_entry:
	pushq	%rsi
	testb	$3, 24(%rsp)		/* only faults from CPL3 */
	jz	9f
	movq	16(%rsp), %rsi		/* the faulting rip */
	cmpb	$0xee, (%rsi)
	je	.Lout8
	cmpb	$0xec, (%rsi)
	je	.Lin8
	cmpb	$0xef, (%rsi)
	je	.Lout32
	cmpb	$0xed, (%rsi)
	je	.Lin32
	cmpb	$0x66, (%rsi)		/* operand-size prefix: 16 bits */
	jne	9f
	cmpb	$0xef, 1(%rsi)
	je	.Lout16
	cmpb	$0xed, 1(%rsi)
	je	.Lin16
9:	popq	%rsi			/* not ours: a real #GP */
	pushq	$13
	jmp	exc_common

.Lout8:	outb	%al, %dx
	jmp	.Lstep1
.Lin8:	inb	%dx, %al
	jmp	.Lstep1
.Lout32: outl	%eax, %dx
	jmp	.Lstep1
.Lin32:	inl	%dx, %eax
	jmp	.Lstep1
.Lout16: outw	%ax, %dx
	jmp	.Lstep2
.Lin16:	inw	%dx, %ax
.Lstep2: incq	16(%rsp)
.Lstep1: incq	16(%rsp)
	popq	%rsi
	addq	$8, %rsp		/* the error code */
	iretq

/* Stack: vector, error, rip, cs, rflags, rsp, ss. */
exc_common:
	movq	0(%rsp), %rdi
	movq	8(%rsp), %rsi
	movq	16(%rsp), %rdx
	movq	24(%rsp), %rcx
	movq	%cr2, %r8
	movq	32(%rsp), %r9		/* rflags */
	andq	$-16, %rsp
	call	exception_report
3:	hlt
	jmp	3b

/*
 * The triplefault scenario calls trip_now() at CPL3.  Where the DPL3
 * gate 0x81 works, int $0x81 lands in trip_handler.  A hypervisor may
 * refuse int $n from guest user mode (PVM raises #UD), so a #UD inside
 * trip_now() leads there too.  trip_handler takes the IDT away and
 * faults: the #UD cannot be delivered, nor the #GP and #DF that follow,
 * which is a triple fault.
 */
	.globl	trip_now
trip_now:
	int	$0x81
	ud2
trip_now_end:

	.globl	trip_handler
trip_handler:
	lidt	zero_idt_ptr(%rip)
	ud2

/* #UD, no error code: rip is on top. */
	.globl	ud_entry
ud_entry:
	pushq	%rax
	movq	8(%rsp), %rax
	subq	$trip_now, %rax
	cmpq	$(trip_now_end - trip_now), %rax
	popq	%rax			/* flags survive the pop */
	jb	trip_handler
	pushq	$0
	pushq	$6
	jmp	exc_common

	.data
	.balign	16
gdt:
	.quad	0			/* null */
	.quad	0x00af9a000000ffff	/* 0x08 kernel code, 64-bit */
	.quad	0x00cf92000000ffff	/* 0x10 kernel data */
	.quad	0x00cff2000000ffff	/* 0x18 user data */
	.quad	0x00affa000000ffff	/* 0x20 user code, 64-bit */
	.globl	gdt_tss
gdt_tss:
	.quad	0, 0			/* 0x28 TSS, filled by cpu_setup() */
gdt_end:

	.balign	16
	.word	0, 0, 0
	.globl	gdt_ptr
gdt_ptr:
	.word	gdt_end - gdt - 1
	.quad	gdt

	.word	0, 0, 0
idt_ptr:
	.word	256 * 16 - 1
	.quad	idt

	.word	0, 0, 0
zero_idt_ptr:
	.word	0
	.quad	0

/*
 * Identity map of 0..4 GiB in 2 MiB pages, user-accessible at every
 * level; the last GiB (the PCI hole, IOAPIC and LAPIC) uncached.
 */
	.balign	4096
	.globl	pml4
pml4:
	.quad	pdpt + PTE_DIR
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x0000 + PTE_DIR
	.quad	pd + 0x1000 + PTE_DIR
	.quad	pd + 0x2000 + PTE_DIR
	.quad	pd + 0x3000 + PTE_DIR
	.fill	508, 8, 0
pd:
	.set	addr, 0
	.rept	1536
	.quad	addr + PTE_DIR + PTE_PS
	.set	addr, addr + 0x200000
	.endr
	.rept	512
	.quad	addr + PTE_DIR + PTE_PS + PTE_PCD + PTE_PWT
	.set	addr, addr + 0x200000
	.endr

	.bss
	.balign	8
	.globl	boot_params_phys
boot_params_phys:
	.quad	0
	.globl	boot_pvh
boot_pvh:
	.quad	0			/* 1: entered through pvh.S */

	.balign	16
kstack:
	.skip	STACK_SIZE
	.globl	kstack_top
kstack_top:
ustack:
	.skip	STACK_SIZE
ustack_top:

	.section .note.GNU-stack, "", @progbits
