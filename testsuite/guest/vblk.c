/*
 * vblk.c - virtio-blk (virtio 1.x, 5.2) scenarios: blk, blkro, barmove
 * and vreset.  Requests go in batches, one doorbell per batch, because
 * every doorbell is an exit.
 */
#include "virtio.h"


#define CFG_CAPACITY	0
#define CFG_SIZE_MAX	8
#define CFG_SEG_MAX	12
#define CFG_BLK_SIZE	20

#define SECTOR		512
#define CHUNK		(64 * 1024)	/* bytes per request when streaming */
#define BATCH		32		/* requests per doorbell when streaming */
#define INFLIGHT	64
#define ID_BYTES	20
#define VRESET_SECTORS	(BATCH * CHUNK / INFLIGHT / SECTOR)

struct breq {
	struct blk_hdr hdr;
	void *buf;
	u32 len;
	u8 status;
};

static struct breq *reqs;		/* INFLIGHT of them, shared */
static u8 *bufs;			/* BATCH * CHUNK bytes */

static void pool(void)
{
	if (reqs)
		return;
	reqs = alloc(sizeof(*reqs) * INFLIGHT, 64);
	bufs = alloc(BATCH * CHUNK, 4096);
}

/* What we understand, though we act only on RO and FLUSH. */
static u64 blk_want(u64 want)
{
	return want | BIT(VIRTIO_BLK_F_RO) | BIT(VIRTIO_BLK_F_FLUSH) |
	       BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_SEG_MAX) |
	       BIT(VIRTIO_BLK_F_SIZE_MAX);
}

struct vdev *blk_open(int n, u64 want)
{
	struct vdev *d = vdev_find(VIRTIO_ID_BLOCK, n);

	if (!d)
		fail("no virtio-blk device number %d", n);
	vdev_init(d, blk_want(want));
	vdev_queue(d, 0, (u16)arg_u64("qsize", 0), true);
	vdev_driver_ok(d);
	pool();
	return d;
}

/* 4.1.4.3: a 64-bit field is two reads, kept consistent by the
 * configuration generation. */
u64 blk_capacity(struct vdev *d)
{
	u32 lo, hi;
	u8 gen;

	do {
		gen = mr8(d->common, VC_CFGGEN);
		lo = mr32(d->cfg, CFG_CAPACITY);
		hi = mr32(d->cfg, CFG_CAPACITY + 4);
	} while (gen != mr8(d->common, VC_CFGGEN));
	return lo | (u64)hi << 32;
}

static int blk_add(struct vq *vq, struct breq *r)
{
	struct vbuf b[3];
	int n = 0;

	b[n++] = (struct vbuf){ &r->hdr, sizeof(r->hdr), false };
	if (r->len)
		b[n++] = (struct vbuf){ r->buf, r->len,
					r->hdr.type != VIRTIO_BLK_T_OUT };
	b[n++] = (struct vbuf){ &r->status, 1, true };
	r->status = 0xff;
	return vq_add(vq, b, n, r);
}

/* Submit @n requests, ringing once for as many as the ring holds, and
 * wait for them all. */
static void blk_batch(struct vdev *d, struct breq *r, int n)
{
	struct vq *vq = &d->vq[0];
	int sent = 0, got = 0;

	while (got < n) {
		while (sent < n && blk_add(vq, &r[sent]) >= 0)
			sent++;
		vq_kick(vq);
		vq_wait(vq, NULL);
		got++;
		while (got < n && vq_get(vq, NULL))
			got++;
	}
}

static void set_req(struct breq *r, u32 type, u64 sector, void *buf, u32 len)
{
	r->hdr = (struct blk_hdr){ .type = type, .sector = sector };
	r->buf = buf;
	r->len = len;
}

u8 blk_rw(struct vdev *d, u32 type, u64 sector, void *buf, u32 len)
{
	pool();
	set_req(&reqs[0], type, sector, buf, len);
	blk_batch(d, reqs, 1);
	return reqs[0].status;
}

static void pattern(u8 *p, u64 sector, u32 sectors)
{
	for (u32 i = 0; i < sectors * SECTOR; i++)
		p[i] = (u8)((sector + i / SECTOR) * 31 + i % SECTOR) ^ 0xa5;
}

static u32 sector0_crc(struct vdev *d)
{
	u8 st = blk_rw(d, VIRTIO_BLK_T_IN, 0, bufs, SECTOR);

	if (st != VIRTIO_BLK_S_OK)
		fail("blk: read of sector 0: status %u", st);
	return crc32_update(0, bufs, SECTOR);
}

/* INTx mode (no MSI-X enabled): a completion set ISR bit 0, and
 * reading the ISR cleared it.  The device's thread may set it just
 * after used->idx moved, so look a few times. */
static void isr_check(struct vdev *d)
{
	u8 first = 0, second;

	for (int i = 0; i < 100 && !(first & 1); i++)
		first = vdev_isr(d);
	second = vdev_isr(d);
	if (!(first & 1) || second)
		fail("isr: first read 0x%02x second 0x%02x", first, second);
	printf("isr: ok\n");
}

static void get_id(struct vdev *d)
{
	char id[ID_BYTES + 1];
	u8 st = blk_rw(d, VIRTIO_BLK_T_GET_ID, 0, bufs, ID_BYTES);
	int n = 0;

	if (st == VIRTIO_BLK_S_UNSUPP) {
		printf("blk: id unsupported\n");
		return;
	}
	if (st != VIRTIO_BLK_S_OK)
		fail("blk: GET_ID status %u", st);
	for (; n < ID_BYTES && bufs[n]; n++)
		id[n] = bufs[n] >= ' ' && bufs[n] < 0x7f ? (char)bufs[n] : '?';
	id[n] = '\0';
	printf("blk: id %s\n", id);
}

static void expect(u8 st, u8 want, const char *what)
{
	if (st != want)
		fail("blk: %s status %u, expected %u", what, st, want);
}

static void writes(struct vdev *d, u64 cap, bool ro)
{
	u64 first = arg_u64("wsector", 1), count = arg_u64("wcount", 8);

	if (!count || count > CHUNK / SECTOR || first + count > cap) {
		printf("blk: no room to write sectors %lu-%lu\n", first,
		       first + count - 1);
		return;
	}
	pattern(bufs, first, count);
	if (ro) {
		expect(blk_rw(d, VIRTIO_BLK_T_OUT, first, bufs, count * SECTOR),
		       VIRTIO_BLK_S_IOERR, "read-only write");
		printf("blk: read-only write ioerr\n");
		return;
	}
	expect(blk_rw(d, VIRTIO_BLK_T_OUT, first, bufs, count * SECTOR),
	       VIRTIO_BLK_S_OK, "write");
	printf("blk: write sectors %lu-%lu ok\n", first, first + count - 1);
	memset(bufs, 0, count * SECTOR);
	expect(blk_rw(d, VIRTIO_BLK_T_IN, first, bufs, count * SECTOR),
	       VIRTIO_BLK_S_OK, "read back");
	for (u64 s = 0; s < count; s++) {
		u8 want[SECTOR];

		pattern(want, first + s, 1);
		if (memcmp(want, bufs + s * SECTOR, SECTOR))
			fail("blk: sector %lu read back differs", first + s);
	}
	printf("blk: readback ok\n");
}

/* INFLIGHT one-sector reads, published before a single doorbell. */
static void inflight(struct vdev *d, u64 cap)
{
	struct vq *vq = &d->vq[0];
	int n = 0, got = 0;

	while (n < INFLIGHT) {
		set_req(&reqs[n], VIRTIO_BLK_T_IN, (u64)n % cap,
			bufs + n * SECTOR, SECTOR);
		if (blk_add(vq, &reqs[n]) < 0)
			break;
		n++;
	}
	vq_kick(vq);
	while (got < n) {
		struct breq *r = vq_wait(vq, NULL);

		if (r->status != VIRTIO_BLK_S_OK)
			fail("blk: in-flight read of sector %lu: status %u",
			     r->hdr.sector, r->status);
		got++;
	}
	printf("blk: inflight %d ok\n", n);
}

/* The whole disk, in order, BATCH requests of CHUNK bytes at a time. */
static void disk_crc(struct vdev *d, u64 cap)
{
	u32 crc = 0;

	for (u64 s = 0; s < cap;) {
		int n = 0;

		for (; n < BATCH && s < cap; n++) {
			u64 k = cap - s < CHUNK / SECTOR ? cap - s : CHUNK / SECTOR;

			set_req(&reqs[n], VIRTIO_BLK_T_IN, s, bufs + n * CHUNK,
				(u32)k * SECTOR);
			s += k;
		}
		blk_batch(d, reqs, n);
		for (int i = 0; i < n; i++) {
			if (reqs[i].status != VIRTIO_BLK_S_OK)
				fail("blk: read of sector %lu: status %u",
				     reqs[i].hdr.sector, reqs[i].status);
			crc = crc32_update(crc, reqs[i].buf, reqs[i].len);
		}
	}
	printf("blk: crc32 0x%08x sectors %lu\n", crc, cap);
}

static void blk_run(bool want_ro)
{
	struct vdev *d = blk_open((int)arg_u64("disk", 0), vdev_want());
	u64 cap = blk_capacity(d), o = d->offered;
	bool ro = o & BIT(VIRTIO_BLK_F_RO);

	printf("blk: capacity %lu sectors\n", cap);
	printf("blk: offered ro=%d flush=%d discard=%d write_zeroes=%d "
	       "blk_size=%d seg_max=%d size_max=%d\n", ro,
	       !!(o & BIT(VIRTIO_BLK_F_FLUSH)),
	       !!(o & BIT(VIRTIO_BLK_F_DISCARD)),
	       !!(o & BIT(VIRTIO_BLK_F_WRITE_ZEROES)),
	       !!(o & BIT(VIRTIO_BLK_F_BLK_SIZE)),
	       !!(o & BIT(VIRTIO_BLK_F_SEG_MAX)),
	       !!(o & BIT(VIRTIO_BLK_F_SIZE_MAX)));
	if (want_ro && !ro)
		fail("blkro: the device does not offer VIRTIO_BLK_F_RO");
	if (!cap)
		fail("blk: capacity 0");

	printf("blk: sector 0 crc32 0x%08x\n", sector0_crc(d));
	isr_check(d);
	get_id(d);
	if (arg_u64("blkwrite", 1))
		writes(d, cap, ro);
	if (d->features & BIT(VIRTIO_BLK_F_FLUSH)) {
		expect(blk_rw(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0),
		       VIRTIO_BLK_S_OK, "flush");
		printf("blk: flush ok\n");
	} else {
		printf("blk: flush not offered\n");
	}

	expect(blk_rw(d, VIRTIO_BLK_T_IN, cap, bufs, SECTOR),
	       VIRTIO_BLK_S_IOERR, "past-end read");
	printf("blk: past-end read ioerr\n");
	expect(blk_rw(d, VIRTIO_BLK_T_IN, cap - 1, bufs, 2 * SECTOR),
	       VIRTIO_BLK_S_IOERR, "straddling read");
	printf("blk: straddling read ioerr\n");
	if (arg_u64("blkwrite", 1)) {
		memset(bufs, 0x55, SECTOR);
		expect(blk_rw(d, VIRTIO_BLK_T_OUT, cap, bufs, SECTOR),
		       VIRTIO_BLK_S_IOERR, "past-end write");
		printf("blk: past-end write ioerr\n");
	}

	inflight(d, cap);
	disk_crc(d, cap);
	done();
}

void test_blk(void)
{
	blk_run(false);
}

void test_blkro(void)
{
	blk_run(true);
}

/* Move the device's BAR to the top of the hole, above every BAR in use,
 * and check that the device (doorbells included) follows. */
void test_barmove(void)
{
	struct vdev *d = blk_open((int)arg_u64("disk", 0), vdev_want());
	u8 bar = d->common_r.bar;
	u32 old = pci_bar(d->slot, bar), size = pci_bar_size(d->slot, bar);
	u32 crc = sector0_crc(d), top = 0, to;

	if (!size)
		fail("barmove: BAR%u has no size", bar);
	for (int i = 0; i < pci_nfns; i++)
		for (int b = 0; b < 6; b++) {
			u32 base = pci_bar(pci_fns[i].slot, b), end;

			if (!base)
				continue;
			end = base + pci_bar_size(pci_fns[i].slot, b);
			if (end > top)
				top = end;
		}
	to = (u32)((PCI_MMIO_END - size) & ~(u64)(size - 1));
	if (to < top)
		fail("barmove: no room above 0x%08x for 0x%x bytes", top, size);

	pci_bar_move(d->slot, bar, to);
	printf("barmove: bar%u 0x%08x -> 0x%08x size 0x%x\n", bar, old,
	       pci_bar(d->slot, bar), size);
	if (pci_bar(d->slot, bar) != to)
		fail("barmove: BAR%u reads 0x%08x", bar, pci_bar(d->slot, bar));
	if (*(volatile u8 *)(uintptr_t)(old + d->common_r.off + VC_STATUS) != 0xff)
		fail("barmove: the old address still answers");
	printf("barmove: old address unclaimed\n");
	vdev_map(d);
	if (!(vdev_status(d) & VIRTIO_S_DRIVER_OK))
		fail("barmove: status 0x%02x after the move", vdev_status(d));
	if (sector0_crc(d) != crc)
		fail("barmove: sector 0 reads differently after the move");
	inflight(d, blk_capacity(d));
	printf("barmove: ok\n");
	done();
}

/* Reset the device with requests in flight, then start it again. */
void test_vreset(void)
{
	struct vdev *d = blk_open((int)arg_u64("disk", 0), vdev_want());
	u64 cap = blk_capacity(d);
	u32 crc = sector0_crc(d);
	struct vq *vq = &d->vq[0];
	int n = 0;
	u16 used;

	/* Big reads, so that some are still going when the reset comes. */
	while (n < INFLIGHT) {
		u64 k = cap < VRESET_SECTORS ? cap : VRESET_SECTORS;

		set_req(&reqs[n], VIRTIO_BLK_T_IN, (n * k) % (cap - k + 1),
			bufs + n * k * SECTOR, (u32)k * SECTOR);
		if (blk_add(vq, &reqs[n]) < 0)
			break;
		n++;
	}
	vq_kick(vq);
	vdev_reset(d);
	used = (u16)(vq->used->idx - vq->last_used);
	printf("vreset: reset with %d submitted, %u completed\n", n, used);

	vdev_init(d, blk_want(vdev_want()));
	vdev_queue(d, 0, (u16)arg_u64("qsize", 0), true);
	vdev_driver_ok(d);
	if (sector0_crc(d) != crc)
		fail("vreset: sector 0 reads differently after the reset");
	inflight(d, cap);
	printf("vreset: ok\n");
	done();
}
