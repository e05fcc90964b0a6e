/*
 * pci.h - a PCI host bridge with configuration mechanism #1.
 */
#ifndef LGUEST_PCI_H
#define LGUEST_PCI_H

#include "lguest.h"
#include "machine.h"

#define PCI_MAX_SLOTS		32
#define PCI_CFG_SIZE		256
#define PCI_NUM_BARS		6

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x02
#define PCI_COMMAND_MASTER	0x04
#define PCI_COMMAND_INTX_OFF	0x400
#define PCI_STATUS		0x06
#define PCI_STATUS_INTX		0x08
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAP_PTR		0x34
#define PCI_INT_LINE		0x3c
#define PCI_INT_PIN		0x3d

/* Interrupt routing, as the DSDT's _PRT describes it: slot S, pin P
 * (0 = INTA) goes to the IOAPIC input x86/irq.h's swizzle gives. */
#include "x86/irq.h"
#define PCI_GSI(slot, pin)	PCI_INTX_GSI(slot, pin)

struct pci_dev;
struct pci_bus;

struct pci_ops {
	/* An access inside one of the device's memory BARs. */
	void (*bar_io)(struct pci_dev *d, int bar, u64 off, u8 *data,
		       int size, bool write);
	/* A BAR started or stopped decoding at an address (0 = none). */
	void (*bar_moved)(struct pci_dev *d, int bar, u64 old, u64 new);
	/* Config space was written (after the generic handling)... */
	void (*cfg_write)(struct pci_dev *d, u32 off, int size);
	/* ...or is about to be read. */
	void (*cfg_read)(struct pci_dev *d, u32 off, int size);
};

struct pci_dev {
	u8 cfg[PCI_CFG_SIZE];
	u8 wmask[PCI_CFG_SIZE];		/* bits the guest may change */
	u32 bar_size[PCI_NUM_BARS];	/* 0: no such BAR */
	u64 bar_addr[PCI_NUM_BARS];	/* where it decodes now, 0: nowhere */
	const struct pci_ops *ops;
	void *opaque;
	struct pci_bus *bus;
	int slot;
	int gsi;
	u8 cap_next;			/* where the next capability goes */
	u8 cap_link;			/* offset of the last "next" pointer */
	char name[32];			/* "00:02.0 virtio-blk", for messages */
};


/* A new function 0 in the next free slot, in command-line order. */
struct pci_dev *pci_add(struct vm *vm, u16 vendor, u16 device, u32 class_rev,
			const struct pci_ops *ops, void *opaque,
			const char *what);

/* A 32-bit memory BAR of @size bytes (a power of two), placed by us as
 * firmware would place it. */
void pci_add_bar(struct pci_dev *d, int bar, u32 size);

/* Append a capability of @len bytes with ID @id; returns its offset. */
u8 pci_add_cap(struct pci_dev *d, u8 id, u8 len);

static inline u16 pci_get16(const struct pci_dev *d, u32 off)
{
	return d->cfg[off] | d->cfg[off + 1] << 8;
}

static inline u32 pci_get32(const struct pci_dev *d, u32 off)
{
	return pci_get16(d, off) | (u32)pci_get16(d, off + 2) << 16;
}

static inline void pci_set16(struct pci_dev *d, u32 off, u16 v)
{
	d->cfg[off] = v;
	d->cfg[off + 1] = v >> 8;
}

static inline void pci_set32(struct pci_dev *d, u32 off, u32 v)
{
	pci_set16(d, off, v);
	pci_set16(d, off + 2, v >> 16);
}

#endif
