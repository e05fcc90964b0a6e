/*
 * hostile-msix.c - the MSI-X kinds of test=hpci: the table and the
 * pending-bit array written in odd ways.  Whether an interrupt arrived
 * is read from the local APIC's IRR: the guest runs with IF clear, so a
 * delivered vector stays pending there.
 */
#include "virtio.h"
#include "hostile.h"

#define PBA		0x800

static volatile u8 *t;		/* BAR1: the table, then the PBA */

static void entry(int v, u32 addr, u32 data, u32 ctrl)
{
	msix_entry(t, v, addr, data, ctrl);
}

/* MSI-X on, queue 0 set up with @vector, DRIVER_OK. */
static struct vq *setup(struct vdev *d, u16 vector)
{
	struct vq *vq;

	lapic_enable();
	t = (volatile u8 *)(uintptr_t)pci_bar_ensure(d->slot, 1);
	pci_write(d->slot, d->msix_cap + 2, 2, 0x8000);
	vdev_init(d, 0);
	vq = vdev_queue(d, 0, 0, false);
	mw16(d->common, VC_Q_MSIX, vector);
	mw16(d->common, VC_Q_ENABLE, 1);
	vdev_driver_ok(d);
	return vq;
}

bool h_msix(struct vdev *d, const char *kind)
{
	struct vq *vq;

	if (!strcmp(kind, "straddle8")) {
		/* An 8-byte write over entry 1's control word and entry 2's
		 * address: entry 2 only reaches us if its new address was
		 * taken (its old one names an APIC that does not exist). */
		vq = setup(d, 2);
		entry(1, MSI_ADDR(0), 0x42, 1);
		entry(2, MSI_ADDR(1), 0x41, 0);
		*(volatile u64 *)(t + 28) = (u64)MSI_ADDR(0) << 32 | 1;
		printf("hpci: %s entry1 ctrl 0x%x entry2 addr 0x%08x\n", kind,
		       mr32(t, 28), mr32(t, 32));
		printf("hpci: %s read 0x%02x\n", kind, h_read0(d, vq, 2000));
		printf("hpci: %s irr 0x41 %d 0x42 %d\n", kind,
		       lapic_irr_wait(0x41, 500), lapic_irr(0x42));
	} else if (!strcmp(kind, "maskflip")) {
		/* Masked: only the pending bit; unmasked: the message. */
		u32 pba;

		vq = setup(d, 0);
		entry(0, MSI_ADDR(0), 0x51, 1);
		printf("hpci: %s read 0x%02x\n", kind, h_read0(d, vq, 2000));
		delay_ms(50);
		pba = mr32(t, PBA);
		printf("hpci: %s masked pba 0x%x irr %d\n", kind, pba,
		       lapic_irr(0x51));
		for (int i = 0; i < 50; i++)
			mw32(t, 12, i & 1);
		mw32(t, 12, 0);
		printf("hpci: %s unmasked pba 0x%x irr %d\n", kind,
		       mr32(t, PBA), lapic_irr_wait(0x51, 500));
	} else if (!strcmp(kind, "pbawrite")) {
		/* The PBA is read-only; reads past it are zero. */
		vq = setup(d, VIRTIO_MSI_NO_VECTOR);
		mw32(t, PBA, 0xffffffff);
		*(volatile u64 *)(t + PBA) = ~0ULL;
		mw8(t, PBA + 7, 0xff);
		mw32(t, PBA + 8, 0xffffffff);
		printf("hpci: %s pba 0x%016lx 0x%02x 0x%08x 0x%08x\n", kind,
		       *(volatile u64 *)(t + PBA), mr8(t, PBA + 7),
		       mr32(t, PBA + 6), mr32(t, PBA + 8));
		printf("hpci: %s read 0x%02x\n", kind, h_read0(d, vq, 2000));
	} else if (!strcmp(kind, "vecrange")) {
		/* Five vectors (0-4): others read back as NO_VECTOR. */
		u16 r[5];

		vq = setup(d, 0x1234);
		r[0] = mr16(d->common, VC_Q_MSIX);
		mw16(d->common, VC_MSIX, 5);
		r[1] = mr16(d->common, VC_MSIX);
		mw16(d->common, VC_MSIX, 4);
		r[2] = mr16(d->common, VC_MSIX);
		mw16(d->common, VC_MSIX, 0x8000);
		r[3] = mr16(d->common, VC_MSIX);
		mw8(d->common, VC_MSIX + 1, 0x01);	/* half of 0x0104 */
		r[4] = mr16(d->common, VC_MSIX);
		printf("hpci: %s q 0x%04x cfg 0x%04x 0x%04x 0x%04x 0x%04x\n",
		       kind, r[0], r[1], r[2], r[3], r[4]);
		printf("hpci: %s read 0x%02x\n", kind, h_read0(d, vq, 2000));
	} else if (!strcmp(kind, "msixbytes")) {
		/* Entry 3 written a byte and a half-word at a time, then
		 * used; writes at and across the table's end go nowhere. */
		u32 a = MSI_ADDR(0);

		vq = setup(d, 3);
		for (int i = 0; i < 4; i++)
			mw8(t, 48 + i, (u8)(a >> (8 * i)));
		mw16(t, 56, 0x63);
		mw16(t, 58, 0);
		*(volatile u64 *)(t + 76) = ~0ULL;	/* entry 4 ctrl + past */
		mw8(t, 80, 0xff);
		mw8(t, 60, 0);				/* unmask entry 3 */
		printf("hpci: %s entry3 0x%08x 0x%08x ctrl 0x%x end 0x%08x "
		       "0x%08x\n", kind, mr32(t, 48), mr32(t, 56), mr32(t, 60),
		       mr32(t, 76), mr32(t, 80));
		printf("hpci: %s read 0x%02x\n", kind, h_read0(d, vq, 2000));
		printf("hpci: %s irr 0x63 %d\n", kind, lapic_irr_wait(0x63, 500));
	} else {
		return false;
	}
	return true;
}
