/*
 * irq.h - how the interrupt lines of our PC are wired, said once: the
 * backend builds its interrupt routes from it, the ACPI tables describe
 * it to the kernel, and the chips and PCI functions raise lines by it.
 *
 * The numbers are GSIs, the name ACPI and KVM give an interrupt input.
 * GSIs 0-15 are the ISA IRQs, which reach both 8259 PICs and the IOAPIC;
 * 16-23 reach the IOAPIC only; the ones above are MSI messages.
 */
#ifndef LGUEST_X86_IRQ_H
#define LGUEST_X86_IRQ_H

#include <stdint.h>

/* Eight ISA IRQs on each 8259.  The slave's output goes into IRQ 2 of
 * the master, so no device may use that one. */
#define ISA_IRQS		16
#define PIC_IRQS		8
#define PIC_CASCADE_IRQ		2

#define IOAPIC_PINS		24

/* GSIs from here on carry no wire: they are the MSI routes the backend
 * adds for virtio's MSI-X vectors. */
#define FIRST_MSI_GSI		IOAPIC_PINS

/* The ISA IRQs of the legacy chips. */
#define IRQ_PIT			0
#define IRQ_KBD			1	/* the i8042's keyboard port */
#define IRQ_COM1		4
#define IRQ_RTC			8
#define IRQ_SCI			9	/* ACPI's System Control Interrupt */

/* PCI INTx: slot S's pin P (0 = INTA) goes to one of the eight IOAPIC
 * inputs above the ISA IRQs, swizzled the way a PCI bridge would, so
 * that the INTA of neighbouring slots never share a line. */
#define PCI_INTX_FIRST_GSI	ISA_IRQS
#define PCI_INTX_GSIS		8
#define PCI_INTX_GSI(slot, pin) \
	(PCI_INTX_FIRST_GSI + (((slot) + (pin)) & (PCI_INTX_GSIS - 1)))

/* The local APIC's LINT inputs, as a BIOS leaves them for a kernel that
 * starts in PIC mode. */
#define LAPIC_LINT_EXTINT	0	/* the master 8259's output */
#define LAPIC_LINT_NMI		1

/* An override's polarity and trigger mode (MPS INTI flags); 0 means
 * the bus's own, which for ISA is edge-triggered and active high. */
#define MPS_ACTIVE_HIGH		0x1
#define MPS_LEVEL		0xc

/*
 * The ISA IRQs that do not reach the IOAPIC input of their own number as
 * ISA edge interrupts: on every PC the PIT's IRQ 0 is wired to input 2,
 * and the SCI is level-triggered.  The MADT lists them as interrupt
 * source overrides, and the backend routes by them.
 */
struct irq_override {
	uint8_t irq;		/* the ISA IRQ */
	uint8_t gsi;		/* the IOAPIC input it arrives at */
	uint16_t flags;		/* MPS_* */
};

extern const struct irq_override irq_overrides[];
extern const unsigned int irq_nr_overrides;

/* The IOAPIC input that @gsi arrives at. */
unsigned int irq_ioapic_pin(unsigned int gsi);

#endif
