/*
 * pvh.S - a second way in: the Xen PVH boot protocol, which QEMU (and
 * Xen, and Firecracker) use to start an ELF kernel directly.
 *
 * A loader that knows PVH finds the XEN_ELFNOTE_PHYS32_ENTRY note below
 * and enters there in 32-bit protected mode: flat CS and data segments,
 * paging off, interrupts off, no stack, and EBX holding the physical
 * address of a struct hvm_start_info (command line, memory map, modules,
 * RSDP).  We switch to long mode with entry.S's own page tables and GDT
 * and join the 64-bit start with a flag saying which protocol brought us.
 *
 * The Launcher's loader ignores the note and enters at e_entry (_start)
 * in long mode, so nothing here runs under it.  This is CPL0 code, which
 * some hosts emulate: it stays a handful of instructions.
 */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define KCODE		0x08		/* entry.S's GDT: 64-bit code */
#define CR0_PE		(1 << 0)
#define CR0_PG		(1 << 31)
#define CR4_PAE		(1 << 5)
#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)

/*
 * The note as Linux writes it: name "Xen", type 18, and the 32-bit entry
 * in an 8-byte descriptor (readers take the low 32 bits or all 64).
 */
	.section .note.Xen, "a", @note
	.balign	4
	.long	2f - 1f			/* namesz */
	.long	4f - 3f			/* descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz	"Xen"
2:	.balign	4
3:	.quad	pvh_start
4:	.balign	4

	.text
	.code32
	.globl	pvh_start
pvh_start:
	cli
	cld
	movl	%ebx, %esi		/* hvm_start_info */

	/* The GDT the 64-bit code uses; lgdt here reads a 32-bit base. */
	lgdt	gdt_ptr

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0		/* long mode, compatibility submode */
	ljmp	$KCODE, $pvh_start64

	.code64
pvh_start64:
	/* The upper halves of the registers are undefined after the switch. */
	movl	%esi, %esi
	movl	$1, %r13d		/* "PVH: %rsi is an hvm_start_info" */
	jmp	start_common

	.section .note.GNU-stack, "", @progbits
