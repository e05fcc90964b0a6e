/*
 * hostile-ring.c - test=hring dev=D kind=K: one chain that breaks (or
 * bends) the split-ring rules, put on one queue of one device.
 *
 * dev= is blk, netrx, nettx, conrx, contx or rng.  Each kind builds its
 * chain by hand in the queue's table, publishes it and rings, then waits
 * and prints what the driver can see:
 *   hring: DEV KIND status 0xSS used N len L [byte 0xBB]
 * used is how many chains came back, len the first one's length, byte
 * the blk status byte (or the first data byte the device wrote).
 */
#include "virtio.h"
#include "hostile.h"

#define BIG		(24ULL << 20)	/* one buffer of a > 4 GiB chain */
#define FAR		(1ULL << 46)	/* beyond any guest RAM */

struct hdev {
	const char *name;
	u16 id, queue;
	bool in;		/* the queue's buffers are device-writable */
};

static const struct hdev hdevs[] = {
	{ "blk",	VIRTIO_ID_BLOCK,   0, false },
	{ "netrx",	VIRTIO_ID_NET,	   0, true },
	{ "nettx",	VIRTIO_ID_NET,	   1, false },
	{ "conrx",	VIRTIO_ID_CONSOLE, 0, true },
	{ "contx",	VIRTIO_ID_CONSOLE, 1, false },
	{ "rng",	VIRTIO_ID_RNG,	   0, true },
};

static struct vring_desc *tab;	/* the table we build chains in */
static int ntab;

static void put(u64 addr, u32 len, u16 flags)
{
	struct vring_desc *d = &tab[ntab];

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = (u16)(ntab + 1);
	if (ntab)
		tab[ntab - 1].flags |= VRING_DESC_F_NEXT;
	ntab++;
}

static void buf(const void *p, u32 len, bool in)
{
	put((uintptr_t)p, len, in ? VRING_DESC_F_WRITE : 0);
}

/* Room for an indirect table of @n entries. */
static struct vring_desc *itable(int n)
{
	return alloc(16 * (u64)n, 16);
}

static struct blk_hdr *blk_req(u32 type, u64 sector)
{
	struct blk_hdr *h = alloc(sizeof(*h), 16);

	h->type = type;
	h->sector = sector;
	return h;
}

/*
 * The chain for @kind on a queue whose buffers go in direction @in.  For
 * blk the chain is a read of sector 0 (header, data, status byte) unless
 * the kind says otherwise; @st is where the status byte goes.
 */
static bool build(const struct hdev *h, const char *kind, u8 *data,
		  u8 *st)
{
	bool blk = h->id == VIRTIO_ID_BLOCK, in = h->in;
	struct blk_hdr *hdr = blk_req(VIRTIO_BLK_T_IN, 0);

	ntab = 0;
	if (!strcmp(kind, "oob")) {
		if (blk)
			buf(hdr, sizeof(*hdr), false);
		put(FAR, 512, in || blk ? VRING_DESC_F_WRITE : 0);
		if (blk)
			buf(st, 1, true);
	} else if (!strcmp(kind, "wrongdir")) {
		/* A writable buffer on an output queue, a readable one on an
		 * input queue (blk: the header writable). */
		if (blk) {
			buf(hdr, sizeof(*hdr), true);
			buf(st, 1, true);
		} else {
			if (!in)
				buf(data, 64, false);
			buf(data + 64, 64, !in);
		}
	} else if (!strcmp(kind, "loop")) {
		buf(data, 64, in);
		buf(data + 64, 64, in);
		tab[1].flags |= VRING_DESC_F_NEXT;
		tab[1].next = 0;
	} else if (!strcmp(kind, "huge")) {
		/* 254 buffers of 24 MiB, all the same memory: 6 GiB. */
		u8 *big = alloc(BIG, 4096);

		if (blk)
			buf(hdr, sizeof(*hdr), false);
		else if (!in)
			buf(data, 12, false);	/* a virtio-net header */
		for (int i = 0; i < 254; i++)
			buf(big, (u32)BIG, in || blk);
		if (blk)
			buf(st, 1, true);
	} else if (!strcmp(kind, "zerolen")) {
		if (blk) {
			buf(hdr, sizeof(*hdr), false);
			buf(data, 0, false);
			buf(data, 0, true);
			buf(st, 1, true);
		} else {
			buf(data, 0, in);
			buf(data, in ? 8 : 0, in);
		}
	} else if (!strcmp(kind, "split")) {
		/* The header in odd pieces: legal, and served. */
		if (blk) {
			buf(hdr, 3, false);
			buf((u8 *)hdr + 3, 5, false);
			buf((u8 *)hdr + 8, 8, false);
			buf(data, 100, true);
			buf(data + 100, 412, true);
			buf(st, 1, true);
		} else {
			/* virtio-net header (12 bytes, zero) and a frame. */
			memset(data + 12, 0xff, 6);	/* broadcast */
			data[12 + 12] = 0x88;		/* local experimental */
			data[12 + 13] = 0xb5;
			buf(data, 1, false);
			buf(data + 1, 11, false);
			buf(data + 12, 7, false);
			buf(data + 19, 53, false);
		}
	} else if (!strcmp(kind, "shorthdr")) {
		buf(data, 8, false);		/* less than a net header */
	} else if (!strcmp(kind, "chainlong")) {
		/* Every descriptor of the table in one chain: legal. */
		buf(hdr, sizeof(*hdr), false);
		for (int i = 0; i < 254; i++)
			buf(data, 512, true);
		buf(st, 1, true);
	} else if (h_prefix(kind, "ind")) {
		struct vring_desc *t = itable(300);
		u64 len = 48;
		u16 flags = VRING_DESC_F_INDIRECT;

		t[0] = (struct vring_desc){ (uintptr_t)hdr, 16, VRING_DESC_F_NEXT, 1 };
		t[1] = (struct vring_desc){ (uintptr_t)data, 512,
					    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2 };
		t[2] = (struct vring_desc){ (uintptr_t)st, 1, VRING_DESC_F_WRITE, 0 };
		if (!blk)	/* rng: one writable buffer */
			t[0] = (struct vring_desc){ (uintptr_t)data, 64,
						    VRING_DESC_F_WRITE, 0 };
		if (!strcmp(kind, "indlen"))
			len = 40;
		else if (!strcmp(kind, "indzero"))
			len = 0;
		else if (!strcmp(kind, "indnext"))
			flags |= VRING_DESC_F_NEXT;
		else if (!strcmp(kind, "indlong"))
			len = 16 * 300;
		else if (!strcmp(kind, "indoob"))
			t = (struct vring_desc *)(uintptr_t)FAR;
		else if (!strcmp(kind, "indmisalign"))
			t = (struct vring_desc *)((u8 *)itable(4) + 8);
		else
			return false;
		put((uintptr_t)t, (u32)len, flags);
		if (!strcmp(kind, "indnext"))	/* NEXT to a good status */
			tab[0].next = 1, tab[1] = (struct vring_desc){
				(uintptr_t)st, 1, VRING_DESC_F_WRITE, 0 }, ntab = 2;
	} else {
		return false;
	}
	if (strcmp(kind, "loop")) {	/* the loop's end links back */
		tab[ntab - 1].flags &= (u16)~VRING_DESC_F_NEXT;
		tab[ntab - 1].next = 0;
	}
	return true;
}

void test_hring(void)
{
	const char *kind = arg("kind"), *dname = arg("dev");
	const struct hdev *h = NULL;
	struct vdev *d;
	struct vq *vq;
	u8 *data, *st;
	u16 used;
	u32 len = 0;
	u64 dl;

	for (size_t i = 0; dname && i < ARRAY_SIZE(hdevs); i++)
		if (!strcmp(hdevs[i].name, dname))
			h = &hdevs[i];
	if (!kind || !h)
		fail("hring: dev= and kind= wanted");
	d = vdev_find(h->id, 0);
	if (!d)
		fail("hring: no %s device", dname);
	vdev_init(d, BIT(VIRTIO_F_INDIRECT_DESC));
	vq = vdev_queue(d, h->queue, 0, true);
	vdev_driver_ok(d);
	data = alloc(4096, 64);
	st = alloc(64, 64);
	*st = 0xee;
	tab = vq->desc;
	if (!build(h, kind, data, st))
		fail("hring: unknown kind=%s", kind);
	vq_publish(vq, 0);
	mb();
	vdev_notify(d, vq->index, vq->notify_off);

	dl = deadline(arg_u64("wait", 500));
	while (vq->used->idx == 0 && !expired(dl))
		asm volatile("pause");
	delay_ms(50);		/* a second line, should one follow */
	used = vq->used->idx;
	if (used)
		len = vq->used->ring[0].len;
	printf("hring: %s %s status 0x%02x used %u len %u byte 0x%02x\n",
	       dname, kind, vdev_status(d), used, len,
	       h->id == VIRTIO_ID_BLOCK ? *st : data[0]);
	done();
}
