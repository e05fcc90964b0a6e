/*
 * irq.c - the interrupt wiring that irq.h describes, as a table.
 */
#include "lguest.h"
#include "x86/irq.h"

_Static_assert(PCI_INTX_FIRST_GSI + PCI_INTX_GSIS <= IOAPIC_PINS,
	       "PCI INTx lines are IOAPIC inputs");
_Static_assert(ISA_IRQS == 2 * PIC_IRQS, "two 8259s carry the ISA IRQs");

const struct irq_override irq_overrides[] = {
	{ IRQ_PIT, 2, 0 },
	{ IRQ_SCI, IRQ_SCI, MPS_ACTIVE_HIGH | MPS_LEVEL },
};

const unsigned int irq_nr_overrides = ARRAY_SIZE(irq_overrides);

unsigned int irq_ioapic_pin(unsigned int gsi)
{
	for (unsigned int i = 0; i < irq_nr_overrides; i++)
		if (irq_overrides[i].irq == gsi)
			return irq_overrides[i].gsi;
	return gsi;
}
