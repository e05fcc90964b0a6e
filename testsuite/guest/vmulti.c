/*
 * vmulti.c - the multi scenario: bring up every virtio device on the
 * bus, in slot order, and do one thing with each.
 */
#include "virtio.h"

static void one(struct vdev *d, int n)
{
	switch (d->id) {
	case VIRTIO_ID_BLOCK: {
		u8 *buf = alloc(512, 512), st;
		u64 cap;

		blk_open(n, vdev_want());
		cap = blk_capacity(d);
		st = blk_rw(d, VIRTIO_BLK_T_IN, 0, buf, 512);
		if (st)
			fail("multi: 00:%02x.0 read status %u", d->slot, st);
		printf("multi: 00:%02x.0 blk capacity %lu sector0 crc32 "
		       "0x%08x\n", d->slot, cap, crc32_update(0, buf, 512));
		return;
	}
	case VIRTIO_ID_NET: {
		u8 m[6];

		vdev_init(d, vdev_want() | BIT(5));	/* VIRTIO_NET_F_MAC */
		vdev_queue(d, 0, 0, true);
		vdev_queue(d, 1, 0, true);
		vdev_driver_ok(d);
		net_mac(d, m);
		printf("multi: 00:%02x.0 net mac "
		       "%02x:%02x:%02x:%02x:%02x:%02x\n", d->slot, m[0], m[1],
		       m[2], m[3], m[4], m[5]);
		return;
	}
	case VIRTIO_ID_RNG: {
		u8 *buf = alloc(16, 16);
		struct vq *vq;
		struct vbuf b = { buf, 16, true };
		u32 len;

		vdev_init(d, vdev_want());
		vq = vdev_queue(d, 0, 0, true);
		vdev_driver_ok(d);
		vq_add(vq, &b, 1, buf);
		vq_kick(vq);
		vq_wait(vq, &len);
		printf("multi: 00:%02x.0 rng %u bytes\n", d->slot, len);
		return;
	}
	default:
		vdev_init(d, vdev_want());
		for (int q = 0; q < 2; q++)
			vdev_queue(d, q, 0, true);
		vdev_driver_ok(d);
		printf("multi: 00:%02x.0 %s status 0x%02x\n", d->slot,
		       d->name, vdev_status(d));
	}
}

void test_multi(void)
{
	int seen[5] = { 0 }, total = 0;

	pci_scan();
	for (int i = 0; i < pci_nfns; i++) {
		struct pci_fn *f = &pci_fns[i];
		u16 id = f->device - VIRTIO_PCI_DEVICE(0);
		struct vdev *d;

		if (f->vendor != VIRTIO_VENDOR || id < 1 || id > 4)
			continue;
		d = vdev_find(id, seen[id]);
		if (!d)
			fail("multi: 00:%02x.0 went away", f->slot);
		one(d, seen[id]);
		seen[id]++;
		total++;
	}
	printf("multi: %d virtio devices ok\n", total);
	done();
}
