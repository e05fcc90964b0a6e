/*
 * hostile-pci.c - test=hpci kind=K: a driver abusing the virtio-PCI
 * transport of the first disk: queue setup out of order, the status
 * machine, the configuration-space window, odd-sized and straddling
 * register accesses, BARs moved over RAM or each other.  MSI-X abuse is
 * in hostile-msix.c.
 *
 * Each kind prints "hpci: KIND ..." with what the driver can see, then
 * "hpci: KIND status 0xSS" and finishes.
 */
#include "virtio.h"
#include "hostile.h"

#define FAR		(1ULL << 46)

static struct vdev *dev;

/* A read of sector 0 on queue 0; the blk status, or 0xee if no answer
 * came in @ms. */
u8 h_read0(struct vdev *d, struct vq *vq, u64 ms)
{
	struct blk_hdr *h = alloc(sizeof(*h), 16);
	u8 *data = alloc(512, 64), *st = alloc(1, 1);
	struct vbuf b[3] = {
		{ h, sizeof(*h), false }, { data, 512, true }, { st, 1, true },
	};
	u16 want = (u16)(vq->last_used + 1);
	u64 dl = deadline(ms);

	(void)d;
	h->type = VIRTIO_BLK_T_IN;
	*st = 0xee;
	vq->indirect = false;
	if (vq_add(vq, b, 3, NULL) < 0)
		fail("hpci: no room in the queue");
	mb();
	vdev_notify(vq->dev, vq->index, vq->notify_off);
	while (vq->used->idx != want && !expired(dl))
		asm volatile("pause");
	if (vq->used->idx == want)
		vq_get(vq, NULL);
	return *st;
}

/* The configuration-space window (VIRTIO_PCI_CAP_PCI_CFG, type 5). */
static u8 window_cap(struct vdev *d)
{
	for (u8 c = pci_cap_next(d->slot, 0, PCI_CAP_VENDOR); c;
	     c = pci_cap_next(d->slot, c, PCI_CAP_VENDOR))
		if (pci_read(d->slot, c + 3, 1) == 5)
			return c;
	fail("hpci: no PCI_CFG capability");
}

static u32 window(struct vdev *d, u8 bar, u32 off, u32 len, bool write,
		  u32 v)
{
	u8 c = window_cap(d);

	pci_write(d->slot, c + 4, 1, bar);
	pci_write(d->slot, c + 8, 4, off);
	pci_write(d->slot, c + 12, 4, len);
	if (write) {
		pci_write(d->slot, c + 16, 4, v);
		return 0;
	}
	return pci_read(d->slot, c + 16, 4);
}

static void setup(bool enable)
{
	vdev_init(dev, 0);
	vdev_queue(dev, 0, 0, enable);
}

/* Kinds the ring is never set up right for: the device must break. */
static bool setup_kind(const char *kind)
{
	volatile u8 *c = dev->common;

	if (!strcmp(kind, "ringmisalign") || !strcmp(kind, "ringoob")) {
		setup(false);
		mw32(c, VC_Q_DESC, (u32)(uintptr_t)dev->vq[0].desc +
			 (kind[4] == 'm' ? 8 : 0));
		if (kind[4] == 'o')
			mw32(c, VC_Q_DESC + 4, (u32)(FAR >> 32));
		mw16(c, VC_Q_ENABLE, 1);
		vdev_driver_ok(dev);
	} else if (!strcmp(kind, "enabletwice")) {
		setup(true);
		mw16(c, VC_Q_ENABLE, 1);
		vdev_driver_ok(dev);
	} else if (!strcmp(kind, "sizeafterenable")) {
		setup(true);
		mw16(c, VC_Q_SIZE, 16);
		vdev_driver_ok(dev);
	} else if (!strcmp(kind, "nofeaturesok")) {
		vdev_reset(dev);
		vdev_set_status(dev, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
		vdev_set_status(dev, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
				     VIRTIO_S_DRIVER_OK);
	} else if (!strcmp(kind, "statusclear")) {
		setup(true);
		vdev_driver_ok(dev);
		vdev_set_status(dev, VIRTIO_S_ACKNOWLEDGE |
				     VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
	} else if (!strcmp(kind, "enableafterbroken")) {
		/* Rung while not enabled: broken.  Enabling it afterwards
		 * must not bring it back without a reset. */
		struct vq *vq;

		setup(false);
		vdev_driver_ok(dev);
		vdev_notify(dev, 0, 0);
		delay_ms(100);
		printf("hpci: %s first status 0x%02x\n", kind,
		       vdev_status(dev));
		vq = &dev->vq[0];
		mw16(c, VC_Q_SELECT, 0);
		mw16(c, VC_Q_ENABLE, 1);
		printf("hpci: %s served 0x%02x\n", kind,
		       h_read0(dev, vq, 500));
	} else {
		return false;
	}
	return true;
}

/* Kinds that a device takes without complaint: what the driver sees. */
static bool quiet_kind(const char *kind)
{
	volatile u8 *c = dev->common, *cfg = dev->cfg;
	struct vq *vq = &dev->vq[0];

	if (!strcmp(kind, "featuresafter")) {
		setup(true);
		mw32(c, VC_GFSELECT, 1);
		mw32(c, VC_GF, 0);		/* VERSION_1 taken back */
		mw32(c, VC_GFSELECT, 0);
		mw32(c, VC_GF, 0xffffffff);
		mw32(c, VC_GFSELECT, 1);
		printf("hpci: %s gf1 0x%08x\n", kind, mr32(c, VC_GF));
	} else if (h_prefix(kind, "cfgwin")) {
		u32 df, got;

		setup(true);
		mw32(c, VC_DFSELECT, 1);
		df = mr32(c, VC_DF);
		if (!strcmp(kind, "cfgwinok")) {
			got = window(dev, 0, VC_DF, 4, false, 0);
			printf("hpci: %s df 0x%08x window 0x%08x\n", kind, df,
			       got);
		} else if (!strcmp(kind, "cfgwinwrap")) {
			/* Offsets that would wrap, status 0 as the data:
			 * had it landed, the device would be reset. */
			window(dev, 0, 0xfffffffc, 4, true, 0);
			window(dev, 0, 0xfffffffc, 8, true, 0);
			window(dev, 1, 0xfffffff8, 8, true, 0);
			window(dev, 0, 0xffffffff, 1, true, 0);
			got = window(dev, 0, 0xfffffffc, 4, false, 0);
		} else if (!strcmp(kind, "cfgwinlen")) {
			window(dev, 0, VC_STATUS, 3, true, 0);
			window(dev, 0, VC_STATUS, 0, true, 0);
			window(dev, 0, VC_STATUS, 0xffffffff, true, 0);
			window(dev, 0, VC_STATUS & ~3u, 8, true, 0);
		} else if (!strcmp(kind, "cfgwinbar")) {
			for (u8 bar = 2; bar < 8; bar++)
				window(dev, bar, VC_STATUS, 1, true, 0);
			window(dev, 0xff, 0, 4, true, 0);
		} else {
			fail("hpci: unknown kind=%s", kind);
		}
	} else if (!strcmp(kind, "straddle")) {
		u64 v;

		setup(false);
		/* num_queues to queue_select in one read. */
		v = *(volatile u64 *)(c + VC_MSIX);
		printf("hpci: %s numq %u status 0x%02x\n", kind,
		       (u16)(v >> 16), (u8)(v >> 32));
		/* queue_size and queue_msix_vector in one write. */
		*(volatile u32 *)(c + VC_Q_SIZE) = 0xffff0000u | 64;
		printf("hpci: %s qsize %u\n", kind, mr16(c, VC_Q_SIZE));
		mw16(c, VC_Q_SIZE, vq->size);
		/* Past the end of the common structure, and across it. */
		printf("hpci: %s past 0x%08x 0x%04x\n", kind,
		       mr32(c, 0x38), *(volatile u16 *)(c + 0x37));
		mw16(c, VC_Q_ENABLE, 1);
	} else if (!strcmp(kind, "pastend")) {
		/* virtio-blk's configuration is 60 bytes. */
		setup(true);
		printf("hpci: %s cap 0x%016lx end 0x%08x 0x%016lx byte 0x%02x "
		       "isr 0x%08x\n", kind, *(volatile u64 *)cfg,
		       mr32(cfg, 58), *(volatile u64 *)(cfg + 56),
		       mr8(cfg, 0x100), mr32(dev->isr, 0));
		mw32(cfg, 58, 0xffffffff);
		mw32(cfg, 0, 0);		/* capacity is read-only */
		printf("hpci: %s cap after 0x%016lx\n", kind,
		       *(volatile u64 *)cfg);
	} else if (!strcmp(kind, "barram") || !strcmp(kind, "baroverlap")) {
		u32 b0 = pci_bar(dev->slot, 0), b1 = pci_bar(dev->slot, 1);
		u32 to = kind[3] == 'r' ? 0x01000000 : b0;
		int bar = kind[3] == 'r' ? 0 : 1;
		u32 from = bar ? b1 : b0;

		setup(true);
		vdev_driver_ok(dev);
		pci_bar_move(dev->slot, bar, to);
		/* Through what now sits at the address. */
		(void)mr8((volatile u8 *)(uintptr_t)to, VC_STATUS);
		mw16((volatile u8 *)(uintptr_t)to, 0x3000, 0);
		mw32((volatile u8 *)(uintptr_t)to, 0x10, 0);
		pci_bar_move(dev->slot, bar, from);
		printf("hpci: %s moved back\n", kind);
	} else {
		return false;
	}
	if (!(vdev_status(dev) & VIRTIO_S_DRIVER_OK))
		vdev_driver_ok(dev);
	printf("hpci: %s read 0x%02x\n", kind, h_read0(dev, vq, 2000));
	return true;
}

void test_hpci(void)
{
	const char *kind = arg("kind");

	dev = vdev_find(VIRTIO_ID_BLOCK, 0);
	if (!kind || !dev)
		fail("hpci: kind= and a disk wanted");
	if (!setup_kind(kind) && !quiet_kind(kind) && !h_msix(dev, kind))
		fail("hpci: unknown kind=%s", kind);
	delay_ms(arg_u64("wait", 300));
	printf("hpci: %s status 0x%02x\n", kind, vdev_status(dev));
	done();
}
