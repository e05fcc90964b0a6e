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

/* Network: a quiet ARP and ICMP echo responder. */
#define NET_RX		0
#define NET_TX		1
#define NET_HDR		12
#define NET_BUF		2048
#define NET_NBUFS	32
#define ETH_ALEN	6
#define ETH_HLEN	14
#define ARP_LEN		28
#define IP_HLEN		20
#define NET_F_MAC	5

static struct vq *nrx, *ntx;
static u8 nmac[ETH_ALEN], nip[4];
static u8 *ntxbufs;
static bool ntx_busy[NET_NBUFS];
static u64 narp, necho;

static u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static void put_be16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static u16 ip_csum(const u8 *p, u32 len)
{
	u32 s = 0;

	for (; len > 1; p += 2, len -= 2)
		s += be16(p);
	if (len)
		s += p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)~s;
}

static bool bench_parse_ip(const char *s, u8 out[4])
{
	for (int i = 0; i < 4; i++) {
		u32 v = 0;
		int digits = 0;

		for (; *s >= '0' && *s <= '9'; s++, digits++)
			v = v * 10 + (u32)(*s - '0');
		if (!digits || v > 255 || *s != (i < 3 ? '.' : '\0'))
			return false;
		out[i] = (u8)v;
		s += i < 3;
	}
	return true;
}

static void net_reap(void)
{
	u8 *p;

	while ((p = vq_get(ntx, NULL)))
		ntx_busy[(p - ntxbufs) / NET_BUF] = false;
}

static u8 *net_txbuf(void)
{
	u8 *p;

	net_reap();
	for (int i = 0; i < NET_NBUFS; i++)
		if (!ntx_busy[i]) {
			ntx_busy[i] = true;
			p = ntxbufs + i * NET_BUF;
			memset(p, 0, NET_HDR);
			return p;
		}
	p = vq_wait(ntx, NULL);
	memset(p, 0, NET_HDR);
	return p;
}

static void net_send(u8 *buf, u32 len)
{
	struct vbuf b;

	if (len < 60) {
		memset(buf + NET_HDR + len, 0, 60 - len);
		len = 60;
	}
	b = (struct vbuf){ buf, NET_HDR + len, false };
	if (vq_add(ntx, &b, 1, buf) < 0)
		fail("netbench: transmit queue full");
	vq_kick(ntx);
}

/* Answer @f (an Ethernet frame of @len bytes) if it is ours to answer. */
static void net_answer(const u8 *f, u32 len)
{
	const u8 *a = f + ETH_HLEN, *h = a, *c;
	u8 *buf, *o;
	u32 ihl, tot;

	if (len < ETH_HLEN || (memcmp(f, nmac, ETH_ALEN) &&
			       memcmp(f, "\xff\xff\xff\xff\xff\xff", ETH_ALEN)))
		return;
	len -= ETH_HLEN;
	if (be16(f + 12) == 0x0806) {
		if (len < ARP_LEN || be16(a + 6) != 1 || memcmp(a + 24, nip, 4))
			return;
		buf = net_txbuf();
		o = buf + NET_HDR;
		memcpy(o, a + 8, ETH_ALEN);
		memcpy(o + ETH_ALEN, nmac, ETH_ALEN);
		put_be16(o + 12, 0x0806);
		memcpy(o + ETH_HLEN, a, 6);		/* htype .. plen */
		put_be16(o + ETH_HLEN + 6, 2);
		memcpy(o + ETH_HLEN + 8, nmac, ETH_ALEN);
		memcpy(o + ETH_HLEN + 14, nip, 4);
		memcpy(o + ETH_HLEN + 18, a + 8, ETH_ALEN + 4);
		net_send(buf, ETH_HLEN + ARP_LEN);
		narp++;
		return;
	}
	if (be16(f + 12) != 0x0800 || len < IP_HLEN || h[0] >> 4 != 4)
		return;
	ihl = (h[0] & 0xf) * 4u;
	tot = be16(h + 2);
	if (ihl < IP_HLEN || tot < ihl + 8 || tot > len || h[9] != 1 ||
	    memcmp(h + 16, nip, 4) || ip_csum(h, ihl))
		return;
	c = h + ihl;
	if (c[0] != 8 || ip_csum(c, tot - ihl) ||
	    ETH_HLEN + tot > NET_BUF - NET_HDR)
		return;

	/* The request turned round: addresses swapped, type 0. */
	buf = net_txbuf();
	o = buf + NET_HDR;
	memcpy(o, f + ETH_ALEN, ETH_ALEN);
	memcpy(o + ETH_ALEN, nmac, ETH_ALEN);
	put_be16(o + 12, 0x0800);
	o += ETH_HLEN;
	memcpy(o, h, tot);
	memcpy(o + 12, nip, 4);
	memcpy(o + 16, h + 12, 4);
	o[8] = 64;				/* TTL */
	put_be16(o + 10, 0);
	put_be16(o + 10, ip_csum(o, ihl));
	o[ihl] = 0;				/* echo reply */
	put_be16(o + ihl + 2, 0);
	put_be16(o + ihl + 2, ip_csum(o + ihl, tot - ihl));
	net_send(buf, ETH_HLEN + tot);
	necho++;
}

static bool net_poll(void)
{
	u32 len;
	u8 *p = vq_get(nrx, &len);
	struct vbuf b;

	if (!p)
		return false;
	if (len > NET_BUF)
		fail("netbench: %u bytes in a %u-byte buffer", len, NET_BUF);
	if (len > NET_HDR)
		net_answer(p + NET_HDR, len - NET_HDR);
	b = (struct vbuf){ p, NET_BUF, true };
	vq_add(nrx, &b, 1, p);
	vq_kick(nrx);
	return true;
}

/*
 * test=netbench [ip=A.B.C.D] [nic=N] count=N time=S: answers ARP and
 * ICMP echo requests for ip= (default 10.0.2.15), silently, until count=
 * echoes were answered (count=0: none are awaited) or time= seconds
 * (default 60) ran out, which fails if count= was not reached.
 */
void test_netbench(void)
{
	const char *ips = arg("ip");
	u64 count = arg_u64("count", 0), secs = arg_u64("time", 60), dl, t0;
	struct vdev *d;
	u8 *rxbufs;

	if (!ips)
		ips = "10.0.2.15";
	if (!bench_parse_ip(ips, nip))
		fail("netbench: bad ip=%s", ips);
	d = vdev_find(VIRTIO_ID_NET, (int)arg_u64("nic", 0));
	if (!d)
		fail("no virtio-net device");
	vdev_init(d, vdev_want() | BIT(NET_F_MAC));
	nrx = vdev_queue(d, NET_RX, 0, true);
	ntx = vdev_queue(d, NET_TX, 0, true);
	vdev_driver_ok(d);
	net_mac(d, nmac);
	rxbufs = alloc(NET_NBUFS * NET_BUF, 4096);
	ntxbufs = alloc(NET_NBUFS * NET_BUF, 4096);
	for (int i = 0; i < NET_NBUFS && i < nrx->size; i++) {
		struct vbuf b = { rxbufs + i * NET_BUF, NET_BUF, true };

		vq_add(nrx, &b, 1, b.addr);
	}
	vq_kick(nrx);
	tsc_per_ms();
	printf("netbench: ready ip %s mac %02x:%02x:%02x:%02x:%02x:%02x\n",
	       ips, nmac[0], nmac[1], nmac[2], nmac[3], nmac[4], nmac[5]);

	t0 = rdtsc();
	dl = deadline(secs * 1000);
	while (necho < count && !expired(dl))
		if (!net_poll())
			asm volatile("pause");
	if (necho < count)
		fail("netbench: answered %lu of %lu echo requests", necho,
		     count);
	/* The last reply must be on the wire before we power off. */
	dl = deadline(1000);
	for (net_reap(); ntx->num_free != ntx->size && !expired(dl);
	     net_reap())
		asm volatile("pause");
	printf("netbench: answered %lu echo requests %lu arp in %lu us "
	       "(guest-measured)\n", necho, narp, cycles_to_us(rdtsc() - t0));
	done();
}
