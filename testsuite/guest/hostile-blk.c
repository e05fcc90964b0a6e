/*
 * hostile-blk.c - test=hblk kind=K: virtio-blk requests with ranges and
 * sectors out of bounds (discard, write-zeroes, reads and writes past
 * the end); and test=hevent kind=K: EVENT_IDX's used_event set far
 * from where the device is, and the indexes wrapping at 65535 (rng).
 *
 * hblk prints "hblk: KIND status S" per request (0 ok, 1 I/O error, 2
 * unsupported), or for kind=dflood "hblk: dflood N requests M ok";
 * hevent "hevent: KIND served N used I".
 */
#include "virtio.h"
#include "hostile.h"

struct range {
	u64 sector;
	u32 num, flags;
};

static u8 request(struct vq *vq, u32 type, u64 sector, void *data, u32 len,
		  bool in)
{
	struct blk_hdr *h = alloc(sizeof(*h), 16);
	u8 *st = alloc(1, 1);
	struct vbuf b[3] = { { h, sizeof(*h), false }, { data, len, in },
			     { st, 1, true } };
	int n = 0;

	h->type = type;
	h->sector = sector;
	*st = 0xee;
	if (!len)		/* no data: header and status only */
		b[1] = b[2];
	n = len ? 3 : 2;
	if (vq_add(vq, b, n, st) < 0)
		fail("hblk: no room");
	vq_kick(vq);
	vq_wait(vq, NULL);
	return *st;
}

static u8 ranges(struct vq *vq, u32 type, u64 sector, u32 num, u32 flags,
		 int n)
{
	struct range *r = alloc(16 * (u64)n + 16, 16);

	for (int i = 0; i < n; i++)
		r[i] = (struct range){ sector + 8ULL * i, num, flags };
	return request(vq, type, 0, r, 16 * (u32)n, false);
}

static const char *const hblk_kinds[] = {
	"zbeyond", "zwrap", "zzero", "zmany", "zflags", "discardbeyond",
	"discardflags", "sectorbeyond",
};

/* One kind's four requests; false if there is no such kind. */
static bool hblk_one(struct vdev *d, struct vq *vq, const char *kind)
{
	u64 cap = mr32(d->cfg, 0) | (u64)mr32(d->cfg, 4) << 32;
	u32 type = VIRTIO_BLK_T_WRITE_ZEROES;
	u8 *buf = alloc(1024, 512), s[4];

	if (h_prefix(kind, "discard")) {
		if (!(d->features & BIT(VIRTIO_BLK_F_DISCARD)))
			fail("hblk: DISCARD not offered");
		type = VIRTIO_BLK_T_DISCARD;
	} else if (!(d->features & BIT(VIRTIO_BLK_F_WRITE_ZEROES))) {
		fail("hblk: WRITE_ZEROES not offered");
	}

	if (!strcmp(kind, "zbeyond") || !strcmp(kind, "discardbeyond")) {
		s[0] = ranges(vq, type, cap, 8, 0, 1);
		s[1] = ranges(vq, type, cap - 4, 8, 0, 1);
		s[2] = ranges(vq, type, cap + 1, 0, 0, 1);
		s[3] = ranges(vq, type, ~0ULL, 1, 0, 1);
	} else if (!strcmp(kind, "zwrap")) {
		s[0] = ranges(vq, type, ~0ULL - 7, 16, 0, 1);
		s[1] = ranges(vq, type, 1ULL << 55, 8, 0, 1);
		s[2] = ranges(vq, type, 8, 0xffffffff, 0, 1);
		s[3] = ranges(vq, type, 0, 0x80000000, 0, 1);
	} else if (!strcmp(kind, "zzero")) {
		s[0] = ranges(vq, type, 0, 0, 0, 1);
		s[1] = ranges(vq, type, cap, 0, 0, 1);
		s[2] = request(vq, type, 0, buf, 0, false);	/* no range */
		s[3] = request(vq, type, 0, buf, 15, false);	/* part of one */
	} else if (!strcmp(kind, "zmany")) {
		s[0] = ranges(vq, type, 0, 1, 0, 33);
		s[1] = ranges(vq, type, 0, 1, 0, 255);
		s[2] = ranges(vq, type, cap, 1, 0, 32);	/* all beyond */
		s[3] = request(vq, type, 0, buf, 16 * 32 + 8, false);
	} else if (!strcmp(kind, "zflags") || !strcmp(kind, "discardflags")) {
		s[0] = ranges(vq, type, 0, 8, 2, 1);
		s[1] = ranges(vq, type, 0, 8, 0x80000000, 1);
		s[2] = ranges(vq, type, cap, 8, 0xfffffffe, 1);
		s[3] = ranges(vq, type, cap, 8, 1, 1);
	} else if (!strcmp(kind, "sectorbeyond")) {
		s[0] = request(vq, VIRTIO_BLK_T_IN, cap, buf, 512, true);
		s[1] = request(vq, VIRTIO_BLK_T_OUT, cap - 1, buf, 1024, false);
		s[2] = request(vq, VIRTIO_BLK_T_OUT, ~0ULL, buf, 512, false);
		s[3] = request(vq, VIRTIO_BLK_T_IN, ~0ULL >> 9, buf, 1024, true);
	} else {
		return false;
	}
	printf("hblk: %s status %u %u %u %u dev 0x%02x\n", kind, s[0], s[1],
	       s[2], s[3], vdev_status(d));
	return true;
}

/* kind=dflood: as many discards as the ring holds, each of 32 ranges
 * of a sector, all in flight at once: thousands of fallocate()s for the
 * device to keep track of.  Prints how many came back, and how many ok. */
static void hblk_flood(struct vdev *d, struct vq *vq)
{
	u64 cap = mr32(d->cfg, 0) | (u64)mr32(d->cfg, 4) << 32;
	int n = 0, ok = 0;

	if (!(d->features & BIT(VIRTIO_BLK_F_DISCARD)))
		fail("hblk: DISCARD not offered");
	for (;;) {
		struct blk_hdr *h = alloc(sizeof(*h), 16);
		struct range *r = alloc(16 * 32, 16);
		u8 *st = alloc(1, 1);
		struct vbuf b[3] = { { h, sizeof(*h), false },
				     { r, 16 * 32, false }, { st, 1, true } };

		h->type = VIRTIO_BLK_T_DISCARD;
		for (int i = 0; i < 32; i++)
			r[i] = (struct range){ (n * 32ULL + i) % cap, 1, 0 };
		*st = 0xee;
		if (vq_add(vq, b, 3, st) < 0)
			break;
		n++;
	}
	vq_kick(vq);
	for (int i = 0; i < n; i++)
		ok += *(u8 *)vq_wait(vq, NULL) == 0;
	printf("hblk: dflood %d requests %d ok dev 0x%02x\n", n, ok,
	       vdev_status(d));
}

/* kind=all: every kind, one after the other, on one boot. */
void test_hblk(void)
{
	const char *kind = arg("kind");
	struct vdev *d = vdev_find(VIRTIO_ID_BLOCK, 0);
	struct vq *vq;

	if (!kind || !d)
		fail("hblk: kind= and a disk wanted");
	vdev_init(d, BIT(VIRTIO_BLK_F_WRITE_ZEROES) | BIT(VIRTIO_BLK_F_DISCARD));
	vq = vdev_queue(d, 0, 0, true);
	vdev_driver_ok(d);
	if (!strcmp(kind, "all")) {
		for (size_t i = 0; i < ARRAY_SIZE(hblk_kinds); i++)
			hblk_one(d, vq, hblk_kinds[i]);
	} else if (!strcmp(kind, "dflood")) {
		hblk_flood(d, vq);
	} else if (!hblk_one(d, vq, kind)) {
		fail("hblk: unknown kind=%s", kind);
	}
	done();
}

/* rng, EVENT_IDX: one-byte requests in batches, used_event set by @kind
 * instead of where the driver is. */
void test_hevent(void)
{
	const char *kind = arg("kind");
	struct vdev *d = vdev_find(VIRTIO_ID_RNG, 0);
	u64 total = arg_u64("count", 200);
	u8 *b = alloc(256, 64);
	volatile u16 *ue;
	struct vq *vq;
	u64 served = 0, sent = 0;

	if (!kind || !d)
		fail("hevent: kind= and an rng wanted");
	vdev_init(d, BIT(VIRTIO_F_EVENT_IDX));
	if (!(d->features & BIT(VIRTIO_F_EVENT_IDX)))
		fail("hevent: EVENT_IDX not offered");
	vq = vdev_queue(d, 0, 0, true);
	vdev_driver_ok(d);
	vq->event_idx = false;		/* we ring every time; see below */
	ue = &vq->avail->ring[vq->size];
	while (served < total) {
		struct vbuf v = { b, 1, true };
		int batch = 0;

		while (sent < total && batch < 128 &&
		       vq_add(vq, &v, 1, b) >= 0)
			sent++, batch++;
		if (!strcmp(kind, "ahead"))
			*ue = (u16)(vq->last_used + 0x7000);
		else if (!strcmp(kind, "behind"))
			*ue = (u16)(vq->last_used - 100);
		else if (!strcmp(kind, "wrap"))
			*ue = 0xffff;
		else
			fail("hevent: unknown kind=%s", kind);
		mb();
		vdev_notify(d, 0, vq->notify_off);
		while (batch--) {
			vq_wait(vq, NULL);
			served++;
		}
	}
	printf("hevent: %s served %lu used %u status 0x%02x\n", kind, served,
	       vq->used->idx, vdev_status(d));
	done();
}
