/*
 * pci.c - the PCI bus: a host bridge in slot 0 and our devices after it.
 *
 * The guest finds devices the way it does on any PC: by writing an
 * address to port 0xCF8 and reading the configuration space through
 * 0xCFC.  We place each BAR in the 32-bit hole as firmware would; the
 * guest may move it, and then the device is told (its doorbells follow).
 */
#include <stdio.h>
#include <string.h>

#include "pci.h"
#include "x86/layout.h"

#define PORT_CONFIG_ADDR	0xcf8
#define PORT_CONFIG_DATA	0xcfc

/* The bus: its slots, the address register, and where the next BAR goes. */
struct pci_bus {
	struct pci_dev *slots[PCI_MAX_SLOTS];
	int nslots;
	struct pci_dev bridge;
	u32 config_addr;
	u64 next_mmio;
};

static void init_header(struct pci_dev *d, u16 vendor, u16 device,
			u32 class_rev)
{
	pci_set16(d, 0x00, vendor);
	pci_set16(d, 0x02, device);
	pci_set32(d, 0x08, class_rev);
	/* Firmware leaves memory decoding and bus mastering on. */
	pci_set16(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	d->wmask[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	d->wmask[PCI_COMMAND + 1] = PCI_COMMAND_INTX_OFF >> 8;
	d->wmask[0x0c] = 0xff;			/* cache line size */
	d->wmask[0x0d] = 0xff;			/* latency timer */
	d->wmask[PCI_INT_LINE] = 0xff;
	d->cap_next = 0x40;
	d->cap_link = PCI_CAP_PTR;
}

struct pci_dev *pci_add(struct vm *vm, u16 vendor, u16 device, u32 class_rev,
			const struct pci_ops *ops, void *opaque,
			const char *what)
{
	struct pci_bus *bus = vm->pci;
	struct pci_dev *d;

	if (bus->nslots == PCI_MAX_SLOTS)
		errx(EXIT_ERROR, "too many devices: a PCI bus has room for %d",
		     PCI_MAX_SLOTS - 1);
	d = malloc_or_die(sizeof(*d));
	d->bus = bus;
	d->slot = bus->nslots;
	d->ops = ops;
	d->opaque = opaque;
	init_header(d, vendor, device, class_rev);
	d->gsi = PCI_GSI(d->slot, 0);
	d->cfg[PCI_INT_PIN] = 1;		/* INTA# */
	d->cfg[PCI_INT_LINE] = d->gsi;		/* what a BIOS would write */
	snprintf(d->name, sizeof(d->name), "%s (00:%02x.0)", what, d->slot);
	bus->slots[bus->nslots++] = d;
	return d;
}

void pci_add_bar(struct pci_dev *d, int bar, u32 size)
{
	struct pci_bus *bus = d->bus;
	u32 off = PCI_BAR0 + 4 * bar;

	bus->next_mmio = (bus->next_mmio + size - 1) & ~(u64)(size - 1);
	if (bus->next_mmio + size > PCI_MMIO_END)
		errx(EXIT_ERROR, "too many devices: the PCI hole is full");
	d->bar_size[bar] = size;
	/* 32-bit non-prefetchable memory: the low flag bits read 0.  The
	 * guest sizes a BAR by writing all ones; the mask does the rest. */
	pci_set32(d, off, bus->next_mmio);
	for (int i = 0; i < 4; i++)
		d->wmask[off + i] = (u8)(~(size - 1) >> (8 * i));
	d->bar_addr[bar] = bus->next_mmio;
	bus->next_mmio += size;
}

u8 pci_add_cap(struct pci_dev *d, u8 id, u8 len)
{
	u8 off = d->cap_next;

	if (off + len > PCI_CFG_SIZE)
		errx(EXIT_ERROR, "%s: configuration space full", d->name);
	d->cfg[off] = id;
	d->cfg[d->cap_link] = off;
	d->cap_link = off + 1;
	d->cap_next = (off + len + 3) & ~3;
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	return off;
}

/* Where does a BAR decode now?  Nowhere while memory decoding is off. */
static u64 bar_decodes(const struct pci_dev *d, int bar)
{
	if (!d->bar_size[bar] || !(d->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY))
		return 0;
	return pci_get32(d, PCI_BAR0 + 4 * bar) & ~(u64)(d->bar_size[bar] - 1);
}

static void update_bars(struct pci_dev *d)
{
	for (int bar = 0; bar < PCI_NUM_BARS; bar++) {
		u64 old = d->bar_addr[bar], new = bar_decodes(d, bar);

		if (old == new)
			continue;
		d->bar_addr[bar] = new;
		verbose("%s: BAR%d 0x%llx -> 0x%llx", d->name, bar,
			(unsigned long long)old, (unsigned long long)new);
		if (d->ops && d->ops->bar_moved)
			d->ops->bar_moved(d, bar, old, new);
	}
}

static void cfg_write(struct pci_dev *d, u32 off, const u8 *data, int size)
{
	for (int i = 0; i < size; i++)
		d->cfg[off + i] = (d->cfg[off + i] & ~d->wmask[off + i]) |
				  (data[i] & d->wmask[off + i]);
	if (off < PCI_BAR0 + 4 * PCI_NUM_BARS && off + size > PCI_COMMAND)
		update_bars(d);
	if (d->ops && d->ops->cfg_write)
		d->ops->cfg_write(d, off, size);
}

static void cfg_read(struct pci_dev *d, u32 off, u8 *data, int size)
{
	if (d->ops && d->ops->cfg_read)
		d->ops->cfg_read(d, off, size);
	memcpy(data, &d->cfg[off], size);
}

/*L:400 Configuration mechanism #1.  The address register names bus,
 * device, function and a dword; the data port's low bits pick the byte.
 * Only bus 0 function 0 exists: anything else reads as all ones. */
static void config_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	struct pci_bus *bus = opaque;
	struct pci_dev *d = NULL;
	u32 off, slot;

	if (port == PORT_CONFIG_ADDR) {
		if (size != 4) {
			if (!write)
				memset(data, 0xff, size);
			return;
		}
		if (write)
			memcpy(&bus->config_addr, data, 4);
		else
			memcpy(data, &bus->config_addr, 4);
		return;
	}

	off = (bus->config_addr & 0xfc) + (port - PORT_CONFIG_DATA);
	slot = (bus->config_addr >> 11) & 0x1f;
	if ((bus->config_addr & 0x80000000) &&
	    !(bus->config_addr & 0x00ff0700) &&
	    slot < (u32)bus->nslots && off + size <= PCI_CFG_SIZE)
		d = bus->slots[slot];
	if (!d) {
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	if (write)
		cfg_write(d, off, data, size);
	else
		cfg_read(d, off, data, size);
}

/* Every access in the hole lands here and goes to the BAR that decodes it. */
static void hole_io(void *opaque, u64 addr, u8 *data, int size, bool write)
{
	struct pci_bus *bus = opaque;

	for (int s = 0; s < bus->nslots; s++) {
		struct pci_dev *d = bus->slots[s];

		for (int bar = 0; bar < PCI_NUM_BARS; bar++) {
			u64 base = d->bar_addr[bar];

			if (!base || addr < base || addr - base >= d->bar_size[bar])
				continue;
			if (addr - base + size > d->bar_size[bar])
				break;	/* straddles the end: ignore */
			d->ops->bar_io(d, bar, addr - base, data, size, write);
			return;
		}
	}
	if (!write)
		memset(data, 0xff, size);
	verbose("unclaimed PCI memory %s at 0x%llx", write ? "write" : "read",
		(unsigned long long)addr);
}

void pci_init(struct vm *vm)
{
	struct pci_bus *bus = malloc_or_die(sizeof(*bus));

	vm->pci = bus;
	bus->next_mmio = PCI_MMIO_START;

	/* Slot 0: a host bridge, so the guest knows this is a PCI bus. */
	init_header(&bus->bridge, 0x1b36, 0x0008, 0x06000000);
	bus->bridge.bus = bus;
	snprintf(bus->bridge.name, sizeof(bus->bridge.name),
		 "host bridge (00:00.0)");
	bus->slots[bus->nslots++] = &bus->bridge;

	/* 0xcf9 between them is the reset register, not ours. */
	pio_register(vm, PORT_CONFIG_ADDR, 1, config_io, bus);
	pio_register(vm, PORT_CONFIG_DATA, 4, config_io, bus);
	mmio_register(vm, PCI_MMIO_START, PCI_MMIO_END - PCI_MMIO_START,
		      hole_io, bus);
}
