/*
 * bench.c - the scenarios bench/ measures: blkbench streams block
 * requests, netbench answers pings.  Both print nothing per request:
 * every byte on the UART is a few exits and a write() on the host,
 * which would drown what the Launcher does for the request itself.
 *
 * Each prints its summary once, so a run with n=0 (or count=0) costs
 * the host the same start-up and shutdown as a long one, and the
 * difference is the price of the requests alone.
 */
#include "virtio.h"

/* main.c calls these (guest.h leaves the scenarios of bench/ out). */
void test_blkbench(void);
void test_netbench(void);

#define SECTOR		512
#define SIZE_MAX_BENCH	(1024 * 1024)	/* bytes per block request */
#define BUFS_MAX	(32 * 1024 * 1024)	/* all the data buffers */
/* How long a block request may take, in TSC cycles: blkbench does not
 * calibrate the TSC unless asked (time=1), because calibrating reads
 * the PM timer, each read an exit, and how many varies from run to run. */
#define SPIN_CYCLES	(50ULL * 1000 * 1000 * 1000)

struct bench_req {
	struct blk_hdr hdr;
	u8 status;
	u16 slot;
};

static u64 cycles_to_us(u64 c)
{
	return c * 1000 / tsc_per_ms();
}

static void *bench_wait(struct vq *vq)
{
	u64 t0 = rdtsc();
	void *c;

	while (!(c = vq_get(vq, NULL))) {
		if (rdtsc() - t0 > SPIN_CYCLES) {
			printf("virtio: timeout\n");
			fail("blkbench: no answer in %llu TSC cycles",
			     SPIN_CYCLES);
		}
		asm volatile("pause");
	}
	return c;
}

/* Block: the chain a driver builds, header, data, status byte (a flush
 * has no data). */
static int bench_add(struct vq *vq, struct bench_req *r, void *buf, u32 len)
{
	struct vbuf b[3] = {
		{ &r->hdr, sizeof(r->hdr), false },
		{ buf, len, r->hdr.type != VIRTIO_BLK_T_OUT },
		{ &r->status, 1, true },
	};

	r->status = 0xff;
	if (r->hdr.type == VIRTIO_BLK_T_FLUSH) {
		b[1] = b[2];
		return vq_add(vq, b, 2, r);
	}
	return vq_add(vq, b, 3, r);
}

/* randread: xorshift64, the same sequence every run. */
static u64 bench_rand(void)
{
	static u64 x = 0x9e3779b97f4a7c15ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static void bench_done(struct bench_req *r, u16 *free_slots, u64 *nfree)
{
	if (r->status != VIRTIO_BLK_S_OK)
		fail("blkbench: request at sector %lu: status %u",
		     r->hdr.sector, r->status);
	free_slots[(*nfree)++] = r->slot;
}

/*
 * test=blkbench n=N depth=D size=S rw=read|write|randread|flush [disk=N]:
 * N requests of S bytes, sequential and wrapping at the end of the disk
 * (randread: at size-aligned places drawn at random), D in flight;
 * rw=flush sends N flushes, one at a time.
 * As a driver with EVENT_IDX does it: publish what fits, one vq_kick()
 * for the lot (which rings only if the device is asleep), then reap
 * every completion there is before publishing again.
 */
void test_blkbench(void)
{
	u64 n = arg_u64("n", 0), depth = arg_u64("depth", 32),
	    size = arg_u64("size", 4096), sent = 0, got = 0, nfree = 0,
	    cap, span, room, t0, cycles;
	const char *rw = arg("rw");
	bool write = rw && !strcmp(rw, "write"),
	     rnd = rw && !strcmp(rw, "randread"),
	     flush = rw && !strcmp(rw, "flush");
	u32 type = write ? VIRTIO_BLK_T_OUT :
		   flush ? VIRTIO_BLK_T_FLUSH : VIRTIO_BLK_T_IN;
	struct bench_req *reqs, *r;
	struct vdev *d;
	struct vq *vq;
	u16 *free_slots;
	u8 *bufs;

	if (rw && !write && !rnd && !flush && strcmp(rw, "read"))
		fail("blkbench: rw=%s, not read, write, randread or flush", rw);
	if (!size || size % SECTOR || size > SIZE_MAX_BENCH)
		fail("blkbench: size=%lu, not a multiple of %u up to %u", size,
		     SECTOR, SIZE_MAX_BENCH);
	d = blk_open((int)arg_u64("disk", 0), vdev_want());
	vq = &d->vq[0];
	cap = blk_capacity(d);
	if (cap < size / SECTOR)
		fail("blkbench: %lu sectors, fewer than one request", cap);
	span = cap - size / SECTOR + 1;

	/* One descriptor a request with indirect tables, three without. */
	room = vq->indirect ? vq->size : vq->size / 3;
	if (!depth || depth > room)
		depth = room;
	if (flush)
		depth = 1;
	if (depth * size > BUFS_MAX)
		depth = BUFS_MAX / size;
	reqs = alloc(sizeof(*reqs) * depth, 64);
	free_slots = alloc(sizeof(*free_slots) * depth, 2);
	bufs = alloc(depth * size, 4096);
	for (u64 i = 0; i < depth; i++) {
		reqs[i].slot = (u16)i;
		free_slots[nfree++] = (u16)(depth - 1 - i);
	}
	if (write)
		for (u64 i = 0; i < depth * size; i++)
			bufs[i] = (u8)(i * 7 + 3);

	t0 = rdtsc();
	while (got < n) {
		while (sent < n && nfree) {
			r = &reqs[free_slots[--nfree]];
			r->hdr = (struct blk_hdr){
				.type = type,
				.sector = flush ? 0 :
					  rnd ? bench_rand() % (cap /
						(size / SECTOR)) * (size / SECTOR) :
					  sent * (size / SECTOR) % span,
			};
			if (bench_add(vq, r, bufs + r->slot * size,
				      (u32)size) < 0) {
				nfree++;
				break;
			}
			sent++;
		}
		vq_kick(vq);
		bench_done(bench_wait(vq), free_slots, &nfree);
		got++;
		while ((r = vq_get(vq, NULL))) {
			bench_done(r, free_slots, &nfree);
			got++;
		}
	}
	cycles = rdtsc() - t0;

	printf("blkbench: %lu requests %lu bytes depth %lu ok\n", n, size,
	       depth);
	printf("blkbench: guest-measured %lu tsc cycles, %lu per request\n",
	       cycles, n ? cycles / n : 0);
	if (arg_u64("time", 0)) {
		u64 us = cycles_to_us(cycles);

		printf("blkbench: guest-measured %lu us, %lu requests/s\n", us,
		       us ? n * 1000000 / us : 0);
	}
	done();
}

/*
 * test=netbench [ip=A.B.C.D] [nic=N] count=N time=S: the net scenario's
 * ARP and ICMP echo responder (vnet.c), silent, until count= echoes were
 * answered (count=0: none are awaited) or time= seconds (default 60) ran
 * out, which fails if count= was not reached.
 */
void test_netbench(void)
{
	u64 count = arg_u64("count", 0), secs = arg_u64("time", 60), dl, t0;

	/* Calibrate before we say we are ready: it takes exits of its own. */
	tsc_per_ms();
	net_quiet = true;
	net_start("netbench", arg("ip"), NULL);

	t0 = rdtsc();
	dl = deadline(secs * 1000);
	while (net_answered() < count && !expired(dl))
		if (!net_poll())
			asm volatile("pause");
	if (net_answered() < count)
		fail("netbench: answered %u of %lu echo requests",
		     net_answered(), count);
	/* The last reply must be on the wire before we power off. */
	net_tx_drain();
	printf("netbench: answered %u echo requests %u arp in %lu us "
	       "(guest-measured)\n", net_answered(), net_arps(),
	       cycles_to_us(rdtsc() - t0));
	done();
}
