/*
 * devices.c - the guest's drivers at work: the device page as a whole,
 * the console, the disk and the entropy source, their interrupts, and
 * a device reset and restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootparam.h"
#include "bus.h"

#define WANT_RING	((1ULL << F_RING_EVENT_IDX) | \
			 (1ULL << F_RING_INDIRECT_DESC))

static struct ldev devs[MAX_DEVS];
static int ndevs;
static struct vq vqs[MAX_DEVS][MAX_VQS];

static void scan(struct guest *g)
{
	if (!ndevs)
		ndevs = bus_scan(g, devs, MAX_DEVS);
}

/* The first device of @type, started; the scenario ends without one. */
static struct ldev *start(struct guest *g, u8 type, u64 want)
{
	struct ldev *dev;

	scan(g);
	dev = bus_find(devs, ndevs, type, 0);
	if (!dev) {
		fail("no %s device in the device page", dev_name(type));
		finish(g);
	}
	ldev_start(dev, want | WANT_RING, vqs[dev->index]);
	return dev;
}

static struct vq *vq_of(struct ldev *dev, int i)
{
	struct vq *vq = &vqs[dev->index][i];

	if (i >= dev->num_vq || i >= MAX_VQS || !vq->g) {
		fail("%s has no usable queue %d", dev_name(dev->type), i);
		finish(dev->g);
	}
	return vq;
}

/* A buffer of @len bytes in guest RAM. */
static struct vbuf buf(struct guest *g, u32 len, bool write)
{
	struct vbuf b = { galloc(g, len, 16), len, write };

	return b;
}

/* Put @n buffers on @vq, kick, and wait: the used length, or -1. */
static long request(struct vq *vq, const struct vbuf *b, int n)
{
	u32 len;

	if (vq_add(vq, b, n) < 0) {
		fail("%s queue %d is full", dev_name(vq->dev->type), vq->index);
		return -1;
	}
	vq_kick(vq);
	return vq_wait(vq, &len) < 0 ? -1 : (long)len;
}

/* ---- the device page ---------------------------------------------------- */

static int expected_vqs(u8 type)
{
	switch (type) {
	case VIRTIO_ID_CONSOLE:
	case VIRTIO_ID_NET:
		return 2;
	case VIRTIO_ID_BLOCK:
	case VIRTIO_ID_RNG:
		return 1;
	default:
		return 0;
	}
}

static void check_layout(struct guest *g)
{
	char list[256] = "";
	int irq_dev[LGUEST_IRQS];
	struct vq all[MAX_DEVS * MAX_VQS];
	int nall = 0;

	memset(irq_dev, -1, sizeof(irq_dev));
	for (int i = 0; i < ndevs; i++) {
		struct ldev *d = &devs[i];
		size_t n = strlen(list);

		snprintf(list + n, sizeof(list) - n, "%s%s", n ? " " : "",
			 dev_name(d->type));
		say("devices: %d: %s, %u queues, %u feature bytes, %u config "
		    "bytes", i, dev_name(d->type), d->num_vq, d->feature_len,
		    d->config_len);
		check(d->d[4] == 0, "devices: %d: status %#x before the "
		      "driver", i, d->d[4]);
		check(d->num_vq >= expected_vqs(d->type) && d->num_vq <= MAX_VQS,
		      "devices: %d: %s with %u queues", i, dev_name(d->type),
		      d->num_vq);
		check(!ldev_offers(d, F_VERSION_1), "devices: %d: offers "
		      "VIRTIO_F_VERSION_1 on the legacy lguest bus", i);
		if (d->type == VIRTIO_ID_BLOCK)
			check(d->config_len >= 8, "devices: %d: block config "
			      "of %u bytes has no capacity", i, d->config_len);
		if (d->type == VIRTIO_ID_NET && ldev_offers(d, F_NET_MAC))
			check(d->config_len >= 6, "devices: %d: net offers a "
			      "MAC in %u config bytes", i, d->config_len);
		for (int q = 0; q < d->num_vq && q < MAX_VQS; q++) {
			struct vq *vq = &all[nall];

			if (vq_init(d, q, vq) < 0)
				continue;
			nall++;
			if (irq_dev[vq->irq] >= 0 && irq_dev[vq->irq] != i)
				fail("devices: %d and %d share interrupt %u",
				     irq_dev[vq->irq], i, vq->irq);
			irq_dev[vq->irq] = i;
		}
	}
	for (int a = 0; a < nall; a++)
		for (int b = a + 1; b < nall; b++)
			if (all[a].gpa < all[b].gpa + all[b].size &&
			    all[b].gpa < all[a].gpa + all[a].size)
				fail("devices: the rings at %#lx and %#lx "
				     "overlap", all[a].gpa, all[b].gpa);
	say("devices: list %s", list);
}

void scen_devices(struct guest *g)
{
	scan(g);
	check_layout(g);
	for (int i = 0; i < ndevs; i++) {
		struct ldev *d = &devs[i];
		u64 take = ldev_start(d, ~0ULL & ~(1ULL << F_VERSION_1) &
				      0xffffffffULL, vqs[i]);

		check(d->d[4] == (STATUS_ACKNOWLEDGE | STATUS_DRIVER |
				  STATUS_DRIVER_OK),
		      "devices: %d: status %#x after DRIVER_OK", i, d->d[4]);
		for (int q = 0; q < d->num_vq && q < MAX_VQS; q++)
			check(vq_bound(&vqs[i][q]), "devices: %d: %s queue %d "
			      "is not bound to an eventfd after DRIVER_OK", i,
			      dev_name(d->type), q);
		say("devices: %d: %s started, features %#llx", i,
		    dev_name(d->type), (unsigned long long)take);
	}
	for (int i = 0; i < ndevs; i++) {
		ldev_reset(&devs[i]);
		check(devs[i].d[4] == 0, "devices: %d: status %#x after a "
		      "reset", i, devs[i].d[4]);
	}
	say("devices: %d devices started and reset", ndevs);
}

/* ---- console ------------------------------------------------------------ */

static void con_write(struct vq *tx, const char *text)
{
	struct vbuf b = buf(tx->g, strlen(text), false);

	memcpy(gp(tx->g, b.gpa, b.len), text, b.len);
	check(request(tx, &b, 1) >= 0, "console: '%s' was not taken", text);
}

void scen_console(struct guest *g)
{
	struct ldev *dev = start(g, VIRTIO_ID_CONSOLE, 0);
	struct vq *rx = vq_of(dev, 0), *tx = vq_of(dev, 1);
	const char *want = env_str("LGMODEL_CONSOLE_EXPECT", "ping-from-host");
	struct vbuf parts[3], in[4];
	char got[512] = "", line[600];
	size_t ngot = 0;
	u64 end;

	for (int i = 0; i < 4; i++) {
		in[i] = buf(g, 64, true);
		vq_add(rx, &in[i], 1);
	}
	vq_kick(rx);

	con_write(tx, "lgmodel-console: hello from the guest\n");
	/* One line in a chain of three buffers. */
	for (int i = 0; i < 3; i++) {
		static const char *const p[] = { "lgmodel-console: ",
						 "in three ", "parts\n" };

		parts[i] = buf(g, strlen(p[i]), false);
		memcpy(gp(g, parts[i].gpa, parts[i].len), p[i], parts[i].len);
	}
	check(request(tx, parts, 3) >= 0, "console: the chain of three "
	      "was not taken");
	con_write(tx, "lgmodel-console: ready for input\n");

	end = now_ms() + g->timeout_ms;
	while (!strstr(got, want) && now_ms() < end) {
		u32 len;
		int id = vq_get(rx, &len);

		if (id < 0) {
			wait_irq(g, 1U << rx->irq, 20);
			continue;
		}
		for (int i = 0; i < 4; i++) {
			if (in[i].gpa != rx->desc[id].addr)
				continue;
			if (len > in[i].len) {
				fail("console: %u bytes in a buffer of %u",
				     len, in[i].len);
				len = in[i].len;
			}
			if (ngot + len < sizeof(got)) {
				memcpy(got + ngot, gp(g, in[i].gpa, len), len);
				ngot += len;
				got[ngot] = 0;
			}
			vq_add(rx, &in[i], 1);
			vq_kick(rx);
		}
	}
	if (!strstr(got, want)) {
		fail("console: '%s' did not arrive; got '%s'", want, got);
		return;
	}
	say("console: received '%s'", want);
	snprintf(line, sizeof(line), "lgmodel-console: got %s\n", want);
	con_write(tx, line);
}

/* ---- block -------------------------------------------------------------- */

static u32 crc32(const u8 *p, size_t n)
{
	u32 c = 0xffffffff;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320 & -(c & 1));
	}
	return ~c;
}

/* One request: header, @ndata data buffers, the status byte.  The
 * status, or -1 when the request never came back. */
static int blk_req(struct vq *vq, u32 type, u64 sector, struct vbuf *data,
		   int ndata, u32 *used_len)
{
	struct guest *g = vq->g;
	struct vbuf b[6];
	u8 *hdr, *st;
	long len;

	b[0] = buf(g, 16, false);
	hdr = gp(g, b[0].gpa, 16);
	memcpy(hdr, &type, 4);
	memset(hdr + 4, 0, 4);
	memcpy(hdr + 8, &sector, 8);
	memcpy(b + 1, data, ndata * sizeof(*data));
	b[ndata + 1] = buf(g, 1, true);
	st = gp(g, b[ndata + 1].gpa, 1);
	*st = 0xff;
	len = request(vq, b, ndata + 2);
	if (used_len)
		*used_len = len;
	return len < 0 ? -1 : *st;
}

static u8 pattern(u64 s, int i)
{
	return ((s * 31 + i) & 0xff) ^ 0xa5;
}

void scen_block(struct guest *g)
{
	struct ldev *dev = start(g, VIRTIO_ID_BLOCK, 1ULL << 9);
	struct vq *vq = vq_of(dev, 0);
	u64 cap, w = env_num("LGMODEL_BLK_WSECTOR", 8);
	u64 r = env_num("LGMODEL_BLK_RSECTOR", 2);
	struct vbuf d[2];
	bool flush = ldev_offers(dev, 9);
	u32 len;
	int st;
	u8 *p;

	memcpy(&cap, ldev_config(dev), 8);
	say("block: capacity %llu sectors, flush %s",
	    (unsigned long long)cap, flush ? "offered" : "not offered");
	if (env_num("LGMODEL_BLK_SECTORS", 0))
		check(cap == (u64)env_num("LGMODEL_BLK_SECTORS", 0),
		      "block: capacity %llu, not %ld", (unsigned long long)cap,
		      env_num("LGMODEL_BLK_SECTORS", 0));

	/* Eight sectors of the pattern, in one buffer. */
	d[0] = buf(g, 4096, false);
	p = gp(g, d[0].gpa, 4096);
	for (int i = 0; i < 4096; i++)
		p[i] = pattern(w + i / 512, i % 512);
	st = blk_req(vq, BLK_T_OUT, w, d, 1, &len);
	check(st == BLK_S_OK, "block: write of sectors %llu+8: status %d",
	      (unsigned long long)w, st);
	check(st < 0 || len == 1, "block: a write's used length is %u, not 1",
	      len);
	if (flush) {
		st = blk_req(vq, BLK_T_FLUSH, 0, d, 0, NULL);
		check(st == BLK_S_OK, "block: flush: status %d", st);
	}
	/* Read back, in two buffers, without the indirect table. */
	vq->indirect = false;
	d[0] = buf(g, 2048, true);
	d[1] = buf(g, 2048, true);
	st = blk_req(vq, BLK_T_IN, w, d, 2, &len);
	check(st == BLK_S_OK && len == 4097, "block: read back of sectors "
	      "%llu+8: status %d, used length %u", (unsigned long long)w, st,
	      len);
	p = gp(g, d[0].gpa, 4096);
	for (int i = 0; st == BLK_S_OK && i < 4096; i++) {
		if (p[i] != pattern(w + i / 512, i % 512)) {
			fail("block: read back differs at byte %d", i);
			break;
		}
	}
	/* A sector the test wrote. */
	d[0] = buf(g, 512, true);
	st = blk_req(vq, BLK_T_IN, r, d, 1, NULL);
	check(st == BLK_S_OK, "block: read of sector %llu: status %d",
	      (unsigned long long)r, st);
	say("block: sector %llu crc32 0x%08x", (unsigned long long)r,
	    crc32(gp(g, d[0].gpa, 512), 512));
	/* Past the end, and across it. */
	st = blk_req(vq, BLK_T_IN, cap, d, 1, NULL);
	check(st == BLK_S_IOERR, "block: read of sector %llu (the end): "
	      "status %d, not IOERR", (unsigned long long)cap, st);
	d[0] = buf(g, 1024, false);
	st = blk_req(vq, BLK_T_OUT, cap - 1, d, 1, NULL);
	check(st == BLK_S_IOERR, "block: write across the end: status %d, "
	      "not IOERR", st);
	d[0] = buf(g, 20, true);
	st = blk_req(vq, BLK_T_GET_ID, 0, d, 1, NULL);
	check(st == BLK_S_OK || st == BLK_S_UNSUPP, "block: GET_ID: status "
	      "%d", st);
	say("block: requests done");
}

/* ---- entropy ------------------------------------------------------------ */

/* @n buffers filled, one after the other; false after a failed check. */
static bool rng_fill(struct guest *g, struct vq *vq, int n, u8 *first)
{
	int before = lgm_failures;

	for (int k = 0; k < n; k++) {
		struct vbuf b = buf(g, 64, true);
		long len = request(vq, &b, 1);
		const u8 *p = gp(g, b.gpa, 64);
		bool same = true;

		if (len <= 0 || len > 64) {
			fail("rng: used length %ld for 64 bytes", len);
			continue;
		}
		for (long i = 1; i < len; i++)
			same &= p[i] == p[0];
		check(!same || len < 8, "rng: %ld bytes all %#x", len, p[0]);
		if (first && k == 0)
			memcpy(first, p, 8);
		else if (first)
			check(memcmp(first, p, 8), "rng: the same bytes twice");
	}
	return lgm_failures == before;
}

void scen_rng(struct guest *g)
{
	struct ldev *dev = start(g, VIRTIO_ID_RNG, 0);
	u8 first[8];

	if (rng_fill(g, vq_of(dev, 0), 3, first))
		say("rng: 3 buffers filled");
}

/* ---- a small request for any device ------------------------------------- */

/* Buffers in @b for one small request on @dev (a read of sector 0, 32
 * random bytes, a line of @text on the console); how many, and the
 * queue they go on in @vq.  0 for a device without one. */
static int small_request(struct ldev *dev, struct vbuf *b, struct vq **vq,
			 const char *text)
{
	struct guest *g = dev->g;

	switch (dev->type) {
	case VIRTIO_ID_RNG:
		*vq = vq_of(dev, 0);
		b[0] = buf(g, 32, true);
		return 1;
	case VIRTIO_ID_BLOCK:
		*vq = vq_of(dev, 0);
		b[0] = buf(g, 16, false);
		b[1] = buf(g, 512, true);
		b[2] = buf(g, 1, true);
		*(u8 *)gp(g, b[2].gpa, 1) = 0xff;
		return 3;
	case VIRTIO_ID_CONSOLE:
		*vq = vq_of(dev, 1);
		b[0] = buf(g, strlen(text), false);
		memcpy(gp(g, b[0].gpa, b[0].len), text, b[0].len);
		return 1;
	default:
		return 0;
	}
}

/* ---- interrupts --------------------------------------------------------- */

/* One request on @vq: its interrupt must come, and only once the used
 * ring has moved. */
static void irq_after_used(struct vq *vq, struct vbuf *b, int n)
{
	struct guest *g = vq->g;
	u32 mask = 1U << vq->irq, len;
	u16 before = vq->last_used;
	bool moved;

	take_irqs(g, mask);
	if (vq_add(vq, b, n) < 0)
		return;
	vq_kick(vq);
	if (!wait_irq(g, mask, g->timeout_ms)) {
		fail("interrupts: no interrupt %u from %s queue %d", vq->irq,
		     dev_name(vq->dev->type), vq->index);
		vq_wait(vq, &len);
		return;
	}
	moved = *(volatile u16 *)&vq->used[1] != before;
	check(moved, "interrupts: interrupt %u from %s queue %d came before "
	      "its used ring moved", vq->irq, dev_name(vq->dev->type),
	      vq->index);
	vq_wait(vq, &len);
	say("interrupts: %s queue %d: interrupt %u after the used ring",
	    dev_name(vq->dev->type), vq->index, vq->irq);
}

void scen_interrupts(struct guest *g)
{
	static const u8 types[] = { VIRTIO_ID_RNG, VIRTIO_ID_BLOCK,
				    VIRTIO_ID_CONSOLE };
	int done = 0;

	scan(g);
	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		struct ldev *dev = bus_find(devs, ndevs, types[t], 0);
		struct vbuf b[3];
		struct vq *vq;
		int n;

		if (!dev)
			continue;
		ldev_start(dev, 0, vqs[dev->index]);
		n = small_request(dev, b, &vq, "lgmodel-console: irq\n");
		irq_after_used(vq, b, n);
		done++;
	}
	check(!g->m->irq_count[0], "interrupts: interrupt 0 was raised %u "
	      "times", g->m->irq_count[0]);
	say("interrupts: %d devices checked", done);
}

/* Requests left with the entropy source (LGMODEL_BUSY of them), for a
 * guest that then dies at once: the Launcher's queue thread finishes
 * them for a guest that is gone. */
void leave_busy(struct guest *g)
{
	long n = env_num("LGMODEL_BUSY", 0);
	struct ldev *dev;
	struct vq *vq;

	if (n <= 0)
		return;
	dev = start(g, VIRTIO_ID_RNG, 0);
	vq = vq_of(dev, 0);
	for (long i = 0; i < n && i < vq->num; i++) {
		struct vbuf b = buf(g, 4096, true);

		vq_add(vq, &b, 1);
	}
	vq_kick(vq);
	say("%ld requests left with the rng", n);
}

/* ---- reset -------------------------------------------------------------- */

/* The entropy source started, used, reset and started again, twice: a
 * Launcher that makes a new eventfd for the queue each time it starts
 * is never told of the later kicks (a binding cannot be undone). */
void scen_reset(struct guest *g)
{
	struct ldev *dev = start(g, VIRTIO_ID_RNG, 0);

	rng_fill(g, vq_of(dev, 0), 1, NULL);
	for (int round = 1; round <= 2; round++) {
		ldev_reset(dev);
		check(dev->d[4] == 0, "reset: status %#x after a reset",
		      dev->d[4]);
		ldev_start(dev, WANT_RING, vqs[dev->index]);
		if (rng_fill(g, vq_of(dev, 0), 2, NULL))
			say("reset: round %d: the restarted queue works", round);
	}
}

/* ---- a Linux 3.x driver ------------------------------------------------- */

/* How Linux 3.3 to 3.18 (lguest_device.c) starts a device: the status
 * bits written without a word, the Launcher told only once the features
 * are settled; the driver's probe uses a queue before DRIVER_OK (a disk
 * reads its partition table there), and DRIVER_OK itself is never
 * notified.  Each device type present is used once before DRIVER_OK and
 * once after. */
static void linux3_start(struct ldev *dev, struct vq *vq)
{
	u8 ok = STATUS_ACKNOWLEDGE | STATUS_DRIVER;

	dev->d[4] = STATUS_ACKNOWLEDGE;
	dev->d[4] = ok;
	ldev_accept(dev, 0);
	notify(dev->g, dev->gpa);
	for (int i = 0; i < dev->num_vq && i < MAX_VQS; i++)
		vq_init(dev, i, &vq[i]);
}

static void linux3_use(struct ldev *dev, const char *when)
{
	char line[64];
	struct vbuf b[3];
	struct vq *vq;
	int n;

	snprintf(line, sizeof(line), "lgmodel-console: %s\n", when);
	n = small_request(dev, b, &vq, line);
	if (!n || request(vq, b, n) < 0)
		return;
	if (dev->type == VIRTIO_ID_BLOCK)
		check(*(u8 *)gp(dev->g, b[2].gpa, 1) == BLK_S_OK, "linux3: "
		      "block read %s: status %u", when,
		      *(u8 *)gp(dev->g, b[2].gpa, 1));
	say("linux3: %s used %s", dev_name(dev->type), when);
}

void scen_linux3(struct guest *g)
{
	scan(g);
	for (int i = 0; i < ndevs; i++) {
		struct ldev *dev = &devs[i];

		if (dev->type == VIRTIO_ID_NET)
			continue;
		linux3_start(dev, vqs[i]);
		linux3_use(dev, "before DRIVER_OK");
		dev->d[4] |= STATUS_DRIVER_OK;
		linux3_use(dev, "after DRIVER_OK");
	}
}
