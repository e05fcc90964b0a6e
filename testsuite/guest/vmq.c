/*
 * vmq.c - multiqueue virtio-blk (5.2, VIRTIO_BLK_F_MQ): test=blkmq.
 *
 * Every request queue is set up with an MSI-X vector of its own, and
 * each completion must raise its queue's vector and no other: with IF
 * clear a delivered vector stays pending in the local APIC's IRR, so
 * that is where we look.  Then all queues at once, on the same disk.
 */
#include "virtio.h"

#define CFG_NUM_QUEUES	34		/* u16, virtio_blk_config */
#define SECTOR		512
#define PER_QUEUE	32		/* requests in flight on each queue */
#define VEC_BASE	0x70		/* queue q raises vector 0x70 + q */

struct mreq {
	struct blk_hdr hdr;
	u8 status;
};

static struct mreq *mreqs;		/* VQ_MAX * PER_QUEUE */
static u8 *mbuf;			/* a sector for each of them */

static void submit(struct vq *vq, struct mreq *r, u32 type, u64 sector,
		   u8 *buf)
{
	struct vbuf b[3];
	int n = 0;

	r->hdr = (struct blk_hdr){ .type = type, .sector = sector };
	r->status = 0xff;
	b[n++] = (struct vbuf){ &r->hdr, sizeof(r->hdr), false };
	if (buf)
		b[n++] = (struct vbuf){ buf, SECTOR,
					type == VIRTIO_BLK_T_IN };
	b[n++] = (struct vbuf){ &r->status, 1, true };
	if (vq_add(vq, b, n, r) < 0)
		fail("blkmq: queue %u full", vq->index);
}

/* One request on queue @q, waited for; its status. */
static u8 one(struct vdev *d, int q, u32 type, u64 sector, u8 *buf)
{
	struct vq *vq = &d->vq[q];

	submit(vq, &mreqs[0], type, sector, buf);
	vq_kick(vq);
	vq_wait(vq, NULL);
	return mreqs[0].status;
}

/* The blk scenario's pattern, which the host side knows too. */
static void fill(u8 *p, u64 sector)
{
	for (int i = 0; i < SECTOR; i++)
		p[i] = (u8)(sector * 31 + i) ^ 0xa5;
}

/* A read on each queue in turn: its vector, and only its vector, is
 * pending afterwards (the earlier queues' stay pending too). */
static void vectors(struct vdev *d, int nq)
{
	for (int q = 0; q < nq; q++) {
		bool mine, others = false;
		u8 st = one(d, q, VIRTIO_BLK_T_IN, q, mbuf);

		if (st != VIRTIO_BLK_S_OK)
			fail("blkmq: read on queue %d: status %u", q, st);
		mine = lapic_irr_wait(VEC_BASE + q, 1000);
		for (int k = q + 1; k < nq; k++)
			others |= lapic_irr(VEC_BASE + k);
		printf("blkmq: queue %d vector 0x%x pending %d later queues' "
		       "%d\n", q, VEC_BASE + q, mine, others);
	}
}

/* PER_QUEUE writes on every queue, all published before one doorbell
 * each; then read back, every sector on a queue other than the one that
 * wrote it; then a flush on each queue. */
static void together(struct vdev *d, int nq)
{
	int total = nq * PER_QUEUE, got;
	u8 st;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < total; i++) {
			int q = (i / PER_QUEUE + pass) % nq;
			u8 *buf = mbuf + (u64)i * SECTOR;

			if (!pass)
				fill(buf, i);
			else
				memset(buf, 0, SECTOR);
			submit(&d->vq[q], &mreqs[i], pass ?
			       VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT, i, buf);
		}
		for (int q = 0; q < nq; q++)
			vq_kick(&d->vq[q]);
		for (got = 0; got < total;) {
			struct mreq *r = NULL;

			for (int q = 0; q < nq && !r; q++)
				r = vq_get(&d->vq[q], NULL);
			if (!r) {
				asm volatile("pause");
				continue;
			}
			if (r->status != VIRTIO_BLK_S_OK)
				fail("blkmq: request %ld: status %u",
				     (long)(r - mreqs), r->status);
			got++;
		}
	}
	for (int i = 0; i < total; i++) {
		u8 want[SECTOR];

		fill(want, i);
		if (memcmp(want, mbuf + (u64)i * SECTOR, SECTOR))
			fail("blkmq: sector %d reads back wrong", i);
	}
	printf("blkmq: %d queues x %d writes, read back across queues ok\n",
	       nq, PER_QUEUE);
	for (int q = 0; q < nq; q++)
		if ((st = one(d, q, VIRTIO_BLK_T_FLUSH, 0, NULL)) !=
		    VIRTIO_BLK_S_OK)
			fail("blkmq: flush on queue %d: status %u", q, st);
	printf("blkmq: flush on every queue ok\n");
}

void test_blkmq(void)
{
	struct vdev *d = vdev_find(VIRTIO_ID_BLOCK, (int)arg_u64("disk", 0));
	volatile u8 *table;
	int nq, devq;

	if (!d)
		fail("no virtio-blk device");
	lapic_enable();
	table = (volatile u8 *)(uintptr_t)pci_bar_ensure(d->slot, 1);
	pci_write(d->slot, d->msix_cap + 2, 2, 0x8000);	/* MSI-X on */
	vdev_init(d, vdev_want() | BIT(VIRTIO_BLK_F_MQ) |
		     BIT(VIRTIO_BLK_F_FLUSH));
	devq = mr16(d->common, VC_NUMQ);
	printf("blkmq: mq offered %d num_queues %u device queues %d\n",
	       !!(d->offered & BIT(VIRTIO_BLK_F_MQ)),
	       mr16(d->cfg, CFG_NUM_QUEUES), devq);
	nq = d->offered & BIT(VIRTIO_BLK_F_MQ) ?
	     mr16(d->cfg, CFG_NUM_QUEUES) : 1;
	if (nq < 1 || nq > devq)
		fail("blkmq: %d request queues, %d queues", nq, devq);
	if (nq > VQ_MAX)
		nq = VQ_MAX;

	for (int q = 0; q < nq; q++) {
		msix_entry(table, q, MSI_ADDR(0), VEC_BASE + q, 0);
		vdev_queue(d, q, PER_QUEUE * 4, false);
		mw16(d->common, VC_Q_MSIX, (u16)q);
		if (mr16(d->common, VC_Q_MSIX) != q)
			fail("blkmq: queue %d refused vector %d", q, q);
		mw16(d->common, VC_Q_ENABLE, 1);
	}
	vdev_driver_ok(d);
	mreqs = alloc(sizeof(*mreqs) * VQ_MAX * PER_QUEUE, 64);
	mbuf = alloc((u64)SECTOR * VQ_MAX * PER_QUEUE, 4096);

	vectors(d, nq);
	together(d, nq);
	done();
}
