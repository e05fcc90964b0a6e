/*
 * pci.c - finding devices on PCI bus 0 with configuration mechanism #1,
 * as a PC kernel does without firmware help: an address to 0xCF8, the
 * data through 0xCFC.  Each access is port I/O, slow at CPL3 here, so
 * we read dwords and remember what we found.
 */
#include "virtio.h"

#define PORT_CONFIG_ADDR	0xcf8
#define PORT_CONFIG_DATA	0xcfc

struct pci_fn pci_fns[PCI_MAX_FNS];
int pci_nfns = -1;

static void select(u8 slot, u8 off)
{
	outl(PORT_CONFIG_ADDR, 0x80000000u | (u32)slot << 11 | (off & 0xfc));
}

u32 pci_read(u8 slot, u8 off, int size)
{
	select(slot, off);
	switch (size) {
	case 1:
		return inb(PORT_CONFIG_DATA + (off & 3));
	case 2:
		return inw(PORT_CONFIG_DATA + (off & 2));
	default:
		return inl(PORT_CONFIG_DATA);
	}
}

void pci_write(u8 slot, u8 off, int size, u32 v)
{
	select(slot, off);
	switch (size) {
	case 1:
		outb(PORT_CONFIG_DATA + (off & 3), (u8)v);
		break;
	case 2:
		outw(PORT_CONFIG_DATA + (off & 2), (u16)v);
		break;
	default:
		outl(PORT_CONFIG_DATA, v);
	}
}

u32 pci_bar(u8 slot, int bar)
{
	return pci_read(slot, PCI_BAR0 + 4 * bar, 4) & ~0xfu;
}

/*
 * The classic sizing dance: with decoding off, write all ones and see
 * which address bits stick.  0 for an unimplemented BAR.
 */
u32 pci_bar_size(u8 slot, int bar)
{
	u8 off = PCI_BAR0 + 4 * bar;
	u16 cmd = pci_read(slot, PCI_COMMAND, 2);
	u32 old = pci_read(slot, off, 4), mask;

	pci_write(slot, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MEMORY);
	pci_write(slot, off, 4, 0xffffffff);
	mask = pci_read(slot, off, 4) & ~0xfu;
	pci_write(slot, off, 4, old);
	pci_write(slot, PCI_COMMAND, 2, cmd);
	return mask ? ~mask + 1 : 0;
}

/* Memory decoding off while the BAR changes, as the spec asks. */
void pci_bar_move(u8 slot, int bar, u32 addr)
{
	u16 cmd = pci_read(slot, PCI_COMMAND, 2);

	pci_write(slot, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MEMORY);
	pci_write(slot, PCI_BAR0 + 4 * bar, 4, addr);
	pci_write(slot, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY);
}

/*
 * Firmware that starts a kernel directly may leave BARs unassigned (the
 * Launcher places every one; QEMU's SeaBIOS does, its qboot does not), so
 * a BAR that reads 0 gets an address here, as Linux's resource
 * assignment would: size-aligned, bottom up in the PCI hole, above every
 * memory BAR already in use.  A 64-bit BAR gets 0 in its upper half.
 */
static u32 bar_next;

static bool bar_is_mem(u8 slot, int bar, bool *is64)
{
	u32 v = pci_read(slot, PCI_BAR0 + 4 * bar, 4);

	*is64 = (v & 0x7) == 0x4;
	return !(v & 1);
}

static void bar_window_init(void)
{
	u64 top = PCI_MMIO_START;

	pci_scan();
	for (int i = 0; i < pci_nfns; i++)
		for (int b = 0; b < 6; b++) {
			u8 slot = pci_fns[i].slot;
			u32 base = pci_bar(slot, b);
			bool is64;

			if (!bar_is_mem(slot, b, &is64))
				continue;
			if (base && base + (u64)pci_bar_size(slot, b) > top)
				top = base + (u64)pci_bar_size(slot, b);
			b += is64;
		}
	bar_next = (u32)top;
}

u32 pci_bar_ensure(u8 slot, int bar)
{
	u32 base = pci_bar(slot, bar), size, at;
	bool is64;

	if (base)
		return base;
	size = pci_bar_size(slot, bar);
	if (!size || !bar_is_mem(slot, bar, &is64))
		return 0;
	if (!bar_next)
		bar_window_init();
	at = (bar_next + size - 1) & ~(size - 1);
	if (at < bar_next || (u64)at + size > PCI_MMIO_END)
		return 0;
	bar_next = at + size;
	if (is64)
		pci_write(slot, PCI_BAR0 + 4 * bar + 4, 4, 0);
	pci_bar_move(slot, bar, at);
	printf("pci: 00:%02x.0 bar%d assigned 0x%08x size 0x%x\n", slot, bar,
	       at, size);
	return at;
}

/*
 * Memory decoding and bus mastering on, as a driver's probe does: a
 * device need not reach guest memory before (QEMU's do not), and the
 * firmware turns it on only for the devices it used itself.
 */
void pci_enable(u8 slot)
{
	const u16 want = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	u16 cmd = pci_read(slot, PCI_COMMAND, 2);

	if ((cmd & want) != want)
		pci_write(slot, PCI_COMMAND, 2, cmd | want);
}

/*
 * The capability after offset @after (0: the first) with ID @id, or 0.
 * The list is the device's to get wrong, so the walk is bounded.
 */
u8 pci_cap_next(u8 slot, u8 after, u8 id)
{
	u8 off;

	if (!(pci_read(slot, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	off = after ? pci_read(slot, after + 1, 1) : pci_read(slot, PCI_CAP_PTR, 1);
	for (int n = 0; n < 48 && off >= 0x40; n++) {
		u32 head = pci_read(slot, off & 0xfc, 4);

		off &= 0xfc;
		if ((head & 0xff) == id)
			return off;
		off = (u8)(head >> 8);
	}
	return 0;
}

/* pci: 00:SS.0 VVVV:DDDD class CCCCCC bar0 0xXXXXXXXX */
void pci_scan(void)
{
	if (pci_nfns >= 0)
		return;
	pci_nfns = 0;
	for (u8 slot = 0; slot < 32; slot++) {
		u32 id = pci_read(slot, 0, 4);
		struct pci_fn *f;

		if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
			continue;
		f = &pci_fns[pci_nfns++];
		f->slot = slot;
		f->vendor = (u16)id;
		f->device = (u16)(id >> 16);
		f->class = pci_read(slot, 0x08, 4) >> 8;
		printf("pci: 00:%02x.0 %04x:%04x class %06x bar0 0x%08x\n",
		       slot, f->vendor, f->device, f->class, pci_bar(slot, 0));
	}
	printf("pci: %d devices\n", pci_nfns);
}
