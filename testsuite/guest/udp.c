/*
 * udp.c - UDP streams for bench/: udpsend sends datagrams to a peer as
 * fast as the transmit queue takes them, udprecv counts those sent to a
 * port.  Both go through the net scenario's driver (vnet.c), which
 * answers ARP (and pings) meanwhile, and both print only a summary:
 * a console line costs the Launcher more than a packet does.
 *
 * Doorbells are what a packet costs most (each is an exit), so frames
 * are queued BATCH at a time with one vq_kick() for the lot, which
 * rings only if the device has gone to sleep; received buffers go back
 * the same way, BATCH at a time or when nothing more has come in.
 */
#include "virtio.h"

#define ETH_HLEN	14
#define ETH_P_IP	0x0800
#define IP_HLEN		20
#define UDP_HLEN	8
#define IPPROTO_UDP	17
#define UDP_MAX		1472	/* payload that fits a 1500-byte MTU */
#define BATCH		16	/* frames per doorbell; vnet.c owns 32 */

static u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static void put_be16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static u64 port_arg(const char *who)
{
	u64 port = arg_u64("port", 0);

	if (!port || port > 0xffff)
		fail("%s: port=%lu, not 1-65535", who, port);
	return port;
}

/*
 * The IPv4 and UDP headers and the payload, the same for every datagram:
 * built once, copied into each frame.  The UDP checksum is 0, "none",
 * which IPv4 allows; DF set, so the zero IP id is never a fragment's.
 */
void udp_build(u8 *h, const u8 *dst, u16 port, u32 size)
{
	u8 *u = h + IP_HLEN;

	memset(h, 0, IP_HLEN + UDP_HLEN);
	h[0] = 0x45;
	put_be16(h + 2, (u16)(IP_HLEN + UDP_HLEN + size));
	put_be16(h + 6, 0x4000);		/* DF */
	h[8] = 64;				/* TTL */
	h[9] = IPPROTO_UDP;
	memcpy(h + 12, net_ip(), 4);
	memcpy(h + 16, dst, 4);
	put_be16(h + 10, net_csum(h, IP_HLEN));
	put_be16(u, port);
	put_be16(u + 2, port);
	put_be16(u + 4, (u16)(UDP_HLEN + size));
	for (u32 i = 0; i < size; i++)
		u[UDP_HLEN + i] = (u8)(i * 13 + 1);
}

/*
 * test=udpsend peer=A.B.C.D port=P count=N size=S [ip=] [time=1]:
 * ARP for the peer, then N datagrams of S payload bytes (default 1024,
 * at most 1472) from and to port P, BATCH per doorbell; waits until the
 * device has taken them all.
 */
void test_udpsend(void)
{
	const char *peers = arg("peer");
	u64 port = port_arg("udpsend"), count = arg_u64("count", 0),
	    size = arg_u64("size", 1024), t0, cycles;
	u32 len = IP_HLEN + UDP_HLEN + (u32)size;
	const u8 *dmac;
	u8 dip[4], *tmpl;

	if (!peers)
		fail("udpsend: no peer=");
	if (size > UDP_MAX)
		fail("udpsend: size=%lu, more than %u", size, UDP_MAX);
	net_start("udpsend", arg("ip"), peers);
	tsc_per_ms();
	dmac = net_resolve("udpsend");
	memcpy(dip, net_peer_ip(), 4);
	tmpl = alloc(len, 64);
	udp_build(tmpl, dip, (u16)port, (u32)size);

	t0 = rdtsc();
	for (u64 sent = 0; sent < count; sent++) {
		u8 *f = net_frame(dmac, ETH_P_IP);

		memcpy(f + ETH_HLEN, tmpl, len);
		net_frame_send(f, ETH_HLEN + len);
		if (sent % BATCH == BATCH - 1)
			net_kick();
	}
	net_tx_drain();
	cycles = rdtsc() - t0;

	printf("udpsend: %lu packets %lu bytes sent\n", count, size);
	if (arg_u64("time", 0)) {
		u64 us = cycles * 1000 / tsc_per_ms();

		printf("udpsend: guest-measured %lu us, %lu packets/s\n", us,
		       us ? count * 1000000 / us : 0);
	}
	done();
}

/* The UDP payload length of frame @f if it is a datagram to @port. */
static int udp_to(const u8 *f, u32 len, u16 port)
{
	const u8 *h = f + ETH_HLEN, *u;
	u32 ihl, tot;

	if (len < ETH_HLEN + IP_HLEN + UDP_HLEN || be16(f + 12) != ETH_P_IP ||
	    h[0] >> 4 != 4 || h[9] != IPPROTO_UDP ||
	    memcmp(h + 16, net_ip(), 4))
		return -1;
	ihl = (h[0] & 0xf) * 4u;
	tot = be16(h + 2);
	if (ihl < IP_HLEN || tot < ihl + UDP_HLEN || ETH_HLEN + tot > len)
		return -1;
	u = h + ihl;
	if (be16(u + 2) != port || be16(u + 4) < UDP_HLEN ||
	    be16(u + 4) > tot - ihl)
		return -1;
	return be16(u + 4) - UDP_HLEN;
}

/*
 * test=udprecv port=P count=N [time=S] [idle=MS] [ip=]: counts the
 * datagrams to port P (answering ARP and pings) until N came, time=
 * seconds (default 30) passed, or, once one came, none came for idle=
 * ms (default 1000): what a sender lost will not come.  Prints how many
 * came and the guest's time from the first to the last.  With check=1
 * each payload must be a big-endian sequence number and then bytes
 * (seq * 7 + i) & 0xff, i its offset; it prints how many were not, and
 * how many came with a number no higher than the one before.
 */
void test_udprecv(void)
{
	u64 port = port_arg("udprecv"), count = arg_u64("count", 0),
	    idle = arg_u64("idle", 1000), pkts = 0, bytes = 0, first = 0,
	    last = 0, dl, quiet, span, bad = 0, back = 0;
	bool check = arg_u64("check", 0);
	unsigned held = 0;
	u32 prev = 0;

	net_start("udprecv", arg("ip"), NULL);
	quiet = idle * tsc_per_ms();
	dl = deadline(arg_u64("time", 30) * 1000);

	while (pkts < count && !expired(dl)) {
		u32 len;
		u8 *f = net_rx_get(&len);
		int n;

		if (!f) {
			if (held) {		/* nothing more yet: top up */
				net_kick();
				held = 0;
			}
			if (pkts && rdtsc() - last > quiet)
				break;
			asm volatile("pause");
			continue;
		}
		n = udp_to(f, len, (u16)port);
		if (n >= 0) {
			last = rdtsc();
			if (!pkts++)
				first = last;
			bytes += (u64)n;
			if (check) {
				const u8 *d = f + ETH_HLEN +
					      (f[ETH_HLEN] & 0xf) * 4u + UDP_HLEN;
				u32 seq = n < 4 ? 0 : (u32)d[0] << 24 |
					  (u32)d[1] << 16 | (u32)d[2] << 8 | d[3];
				bool ok = n >= 4;

				for (int i = 4; ok && i < n; i++)
					ok = d[i] == (u8)(seq * 7 + i);
				bad += !ok;
				if (pkts > 1 && seq <= prev && ++back <= 3)
					printf("udprecv: %u after %u\n", seq, prev);
				prev = seq;
			}
		} else {
			net_rx_other(f, len);
		}
		net_rx_put(f);
		if (++held == BATCH) {
			net_kick();
			held = 0;
		}
	}
	net_kick();
	net_tx_drain();			/* an ARP reply, say */

	span = (last - first) * 1000 / tsc_per_ms();
	printf("udprecv: %lu packets %lu bytes\n", pkts, bytes);
	printf("udprecv: guest-measured %lu us from first to last\n", span);
	if (check)
		printf("udprecv: check %lu bad %lu out of order\n", bad, back);
	done();
}
