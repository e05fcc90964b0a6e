/*
 * hostile.c - test=hostile kind=K: a driver breaking the virtqueue rules
 * on purpose, against the block device.  The Launcher must survive it:
 * either it marks the device DEVICE_NEEDS_RESET (status bit 0x40), which
 * we read and print, or it stops with a one-line error.
 */
#include "virtio.h"

struct raw_req {
	struct blk_hdr hdr;
	u8 data[512];
	u8 status;
};

static struct vring_desc *table(int n)
{
	return alloc(16 * n, 16);
}

static void dset(struct vring_desc *d, const void *addr, u32 len, u16 flags,
		 u16 next)
{
	d->addr = (uintptr_t)addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* A well-formed read of sector 0: header, data, status. */
static void good_chain(struct vring_desc *t, struct raw_req *r)
{
	dset(&t[0], &r->hdr, sizeof(r->hdr), VRING_DESC_F_NEXT, 1);
	dset(&t[1], r->data, sizeof(r->data),
	     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	dset(&t[2], &r->status, 1, VRING_DESC_F_WRITE, 0);
}

static void ring(struct vq *vq)
{
	mb();
	vdev_notify(vq->dev, vq->index, vq->notify_off);
}

/* Kinds that break the status machine rather than a ring; true if @kind
 * is one of them (and it is done). */
static bool status_kind(struct vdev *d, const char *kind)
{
	if (!strcmp(kind, "resetloop")) {
		/* Reset, then ring a queue that is not enabled: each time a
		 * new error, and each reset clears DEVICE_NEEDS_RESET. */
		for (int i = 0; i < 100; i++) {
			vdev_reset(d);
			vdev_notify(d, 0, 0);
		}
	} else if (!strcmp(kind, "renegotiate")) {
		/* After DRIVER_OK, take FEATURES_OK and DRIVER_OK back without
		 * a reset, then set them again: renegotiating under a running
		 * queue. */
		vdev_init(d, BIT(VIRTIO_F_INDIRECT_DESC));
		vdev_queue(d, 0, 0, true);
		vdev_driver_ok(d);
		vdev_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
		vdev_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
				   VIRTIO_S_FEATURES_OK);
		vdev_driver_ok(d);
	} else {
		return false;
	}
	delay_ms(arg_u64("wait", 500));
	printf("hostile: %s status 0x%02x\n", kind, vdev_status(d));
	return true;
}

void test_hostile(void)
{
	const char *kind = arg("kind");
	struct vdev *d = vdev_find(VIRTIO_ID_BLOCK, (int)arg_u64("disk", 0));
	struct raw_req *r = alloc(sizeof(*r), 64);
	struct vring_desc *desc;
	struct vq *vq;
	bool qsize, notenabled;

	if (!kind)
		fail("hostile: no kind=");
	if (!d)
		fail("no virtio-blk device");
	if (status_kind(d, kind))
		done();
	r->hdr.type = VIRTIO_BLK_T_IN;
	r->status = 0xff;
	qsize = !strcmp(kind, "qsize");
	notenabled = !strcmp(kind, "notenabled");

	vdev_init(d, BIT(VIRTIO_F_INDIRECT_DESC));
	vq = vdev_queue(d, 0, 0, !qsize && !notenabled);
	desc = vq->desc;
	if (qsize) {
		/* A split ring's size must be a power of two (2.7). */
		u16 bad = (u16)(vq->size - vq->size / 4);

		if (!(bad & (bad - 1)))
			bad = 3;
		mw16(d->common, VC_Q_SIZE, bad);
		printf("hostile: queue size %u\n", bad);
		mw16(d->common, VC_Q_ENABLE, 1);
	}
	vdev_driver_ok(d);

	if (qsize || notenabled) {
		good_chain(desc, r);
		vq_publish(vq, 0);
	} else if (!strcmp(kind, "loop")) {
		dset(&desc[0], &r->hdr, sizeof(r->hdr), VRING_DESC_F_NEXT, 1);
		/* All readable, so only the loop itself is wrong. */
		dset(&desc[1], r->data, sizeof(r->data), VRING_DESC_F_NEXT, 0);
		vq_publish(vq, 0);
	} else if (!strcmp(kind, "oob")) {
		good_chain(desc, r);
		desc[1].addr = 1ULL << 46;	/* far beyond any RAM */
		vq_publish(vq, 0);
	} else if (!strcmp(kind, "wrap")) {
		good_chain(desc, r);
		desc[1].addr = 0xfffffffffffff000ULL;
		desc[1].len = 0x2000;
		vq_publish(vq, 0);
	} else if (!strcmp(kind, "wrongdir")) {
		good_chain(desc, r);
		desc[0].flags |= VRING_DESC_F_WRITE;
		vq_publish(vq, 0);
	} else if (!strcmp(kind, "availjump")) {
		good_chain(desc, r);
		vq_publish(vq, 0);
		vq->avail->idx = (u16)(vq->avail_idx + vq->size + 5);
	} else if (!strcmp(kind, "badhead")) {
		good_chain(desc, r);
		vq_publish(vq, (u16)(vq->size + 3));
	} else if (!strcmp(kind, "nestedindirect")) {
		struct vring_desc *outer = table(1), *inner = table(3);

		if (!(d->features & BIT(VIRTIO_F_INDIRECT_DESC)))
			fail("hostile: INDIRECT_DESC not offered");
		good_chain(inner, r);
		dset(&outer[0], inner, 3 * 16, VRING_DESC_F_INDIRECT, 0);
		dset(&desc[0], outer, 16, VRING_DESC_F_INDIRECT, 0);
		vq_publish(vq, 0);
	} else {
		fail("hostile: unknown kind=%s", kind);
	}
	ring(vq);

	delay_ms(arg_u64("wait", 500));
	printf("hostile: %s status 0x%02x\n", kind, vdev_status(d));
	done();
}
