/*
 * vmq.c - multiqueue virtio-blk (5.2, VIRTIO_BLK_F_MQ), test=blkmq, and
 * virtio-net (5.1, VIRTIO_NET_F_MQ), test=netmq.
 *
 * blkmq: every request queue is set up with an MSI-X vector of its own,
 * and each completion must raise its queue's vector and no other: with
 * IF clear a delivered vector stays pending in the local APIC's IRR, so
 * that is where we look.  Then all queues at once, on the same disk.
 *
 * netmq: the control queue's VQ_PAIRS_SET, good and bad, and unknown
 * commands; then pings to peer= sent on each pair's transmit queue.
 * The host looks at the tap's queues while we wait for a key.
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

#define NET_CFG_MAX_PAIRS	8	/* u16, virtio_net_config */

struct ctrl_cmd {
	u8 hdr[2];			/* class, command */
	u8 data[4];
	u8 ack;
};

/* One command on the control queue @cq; the ack byte the device wrote
 * (0xee if it wrote none). */
static u8 ctrl(struct vdev *d, int cq, u8 class, u8 cmd, const void *data,
	       u32 len)
{
	static struct ctrl_cmd *c;
	struct vbuf b[3];
	u32 used = 0;
	int n = 0;

	if (!c)
		c = alloc(sizeof(*c), 64);
	c->hdr[0] = class;
	c->hdr[1] = cmd;
	memcpy(c->data, data, len);
	c->ack = 0xee;
	b[n++] = (struct vbuf){ c->hdr, 2, false };
	if (len)
		b[n++] = (struct vbuf){ c->data, len, false };
	b[n++] = (struct vbuf){ &c->ack, 1, true };
	if (vq_add(&d->vq[cq], b, n, c) < 0)
		fail("netmq: control queue full");
	vq_kick(&d->vq[cq]);
	vq_wait(&d->vq[cq], &used);
	if (used != 1)
		fail("netmq: control command used %u bytes, not 1", used);
	return c->ack;
}

static u8 pairs_set(struct vdev *d, int cq, u16 pairs)
{
	u8 ack = ctrl(d, cq, VIRTIO_NET_CTRL_MQ,
		      VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, sizeof(pairs));

	printf("netmq: pairs_set %u ack %u\n", pairs, ack);
	return ack;
}

static void wait_key(const char *what)
{
	printf("netmq: %s, waiting for a key\n", what);
	(void)serial_getc();
}

/* A ping on transmit queue @p; where the reply came. */
static void ping_via(int p, u16 seq)
{
	int rx;

	net_tx_pair(p);
	rx = net_ping(seq);
	if (rx < 0)
		fail("netmq: ping via tx %d: no reply", p);
	printf("netmq: ping via tx %d reply ok rx %d\n", p, rx);
}

void test_netmq(void)
{
	struct vdev *d;
	const u8 *pm;
	u16 seq = 1, n = 1;
	int cq;

	if (!arg("peer"))
		fail("netmq: give peer=");
	d = net_start_mq("netmq", arg("ip"), arg("peer"),
			 BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_VQ));
	if (d->features & BIT(VIRTIO_NET_F_MQ))
		n = mr16(d->cfg, NET_CFG_MAX_PAIRS);
	cq = 2 * n;
	printf("netmq: mq offered %d ctrl_vq offered %d max pairs %u device "
	       "queues %u\n", !!(d->offered & BIT(VIRTIO_NET_F_MQ)),
	       !!(d->offered & BIT(VIRTIO_NET_F_CTRL_VQ)), n,
	       mr16(d->common, VC_NUMQ));
	wait_key("started");
	pm = net_resolve("netmq");
	printf("netmq: peer is at %02x:%02x:%02x:%02x:%02x:%02x\n", pm[0],
	       pm[1], pm[2], pm[3], pm[4], pm[5]);
	if (n == 1) {
		ping_via(0, seq++);
		goto end;
	}

	/* 0 and max + 1 are refused; every count between is taken. */
	for (u16 p = 0; p <= n + 1; p++)
		pairs_set(d, cq, p);
	printf("netmq: short pairs_set ack %u\n",
	       ctrl(d, cq, VIRTIO_NET_CTRL_MQ,
		    VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &n, 1));
	printf("netmq: class 0x7f ack %u\n", ctrl(d, cq, 0x7f, 0, NULL, 0));
	printf("netmq: mq command 0x05 ack %u\n",
	       ctrl(d, cq, VIRTIO_NET_CTRL_MQ, 5, &n, sizeof(n)));

	printf("netmq: pairs %u in use\n", n);
	wait_key("all pairs in use");
	for (int p = 0; p < n; p++)
		ping_via(p, seq++);
	pairs_set(d, cq, 1);
	wait_key("pairs 1 in use");
	ping_via(0, seq++);
	pairs_set(d, cq, n);
end:
	if (arg_u64("reboot", 0)) {
		printf("netmq: key r reboots\n");
		if (serial_getc() == 'r')
			test_reboot();
	}
	done();
}
