/*
 * net.c - the guest on the Launcher's tap: it finds the host with ARP,
 * sends it a UDP datagram, and answers the host's ARP requests, pings
 * and datagrams, printing a line for each.
 *
 *   LGMODEL_NET_IP     the guest's address (10.0.2.15)
 *   LGMODEL_NET_PEER   the host's, on the tap (10.0.2.1)
 *   LGMODEL_NET_PINGS  echo requests to answer before finishing (3)
 *   LGMODEL_NET_UDP    datagrams to receive on port 7000 before finishing (1)
 *   LGMODEL_NET_SECONDS how long all that may take (30)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootparam.h"
#include "bus.h"

#define RX_BUFS		16
#define RX_SIZE		2048
#define GUEST_PORT	7000
#define PEER_PORT	7777

struct net {
	struct guest *g;
	struct ldev *dev;
	struct vq *rx, *tx;
	unsigned hdr;		/* virtio_net_hdr: 10, or 12 with MRG_RXBUF */
	bool mrg;
	u8 mac[6], peer_mac[6];
	u32 ip, peer;		/* network order */
	bool peer_known;
	int pings, udps;
	struct vbuf in[RX_BUFS];
};

static u16 csum(const void *p, size_t n, u32 sum)
{
	const u8 *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

static void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static const char *ipstr(u32 ip, char *s)
{
	const u8 *b = (const u8 *)&ip;

	sprintf(s, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return s;
}

/* Send one frame of @len bytes (from the destination MAC on). */
static void send_frame(struct net *n, const u8 *frame, size_t len)
{
	struct vbuf b[2];
	u32 used;

	b[0] = (struct vbuf){ galloc(n->g, n->hdr, 16), n->hdr, false };
	b[1] = (struct vbuf){ galloc(n->g, len, 16), len, false };
	memcpy(gp(n->g, b[1].gpa, len), frame, len);
	if (vq_add(n->tx, b, 2) < 0) {
		fail("net: the transmit queue is full");
		return;
	}
	vq_kick(n->tx);
	vq_wait(n->tx, &used);
}

static size_t eth(struct net *n, u8 *f, const u8 *dst, u16 type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, n->mac, 6);
	put16(f + 12, type);
	return 14;
}

static void send_arp(struct net *n, u16 op, const u8 *tmac, u32 tip)
{
	static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	u8 f[60] = { 0 }, *a = f + eth(n, f, op == 1 ? bcast : tmac, 0x0806);

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, n->mac, 6);
	memcpy(a + 14, &n->ip, 4);
	memcpy(a + 18, tmac, 6);
	memcpy(a + 24, &tip, 4);
	send_frame(n, f, sizeof(f));
}

/* An IPv4 packet of @proto to @dst with @len bytes of payload. */
static void send_ip(struct net *n, const u8 *dmac, u32 dst, u8 proto,
		    const u8 *payload, size_t len)
{
	u8 f[1514], *ip = f + eth(n, f, dmac, 0x0800);

	if (len > sizeof(f) - 34)
		return;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 20 + len);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &n->ip, 4);
	memcpy(ip + 16, &dst, 4);
	*(u16 *)(ip + 10) = csum(ip, 20, 0);
	memcpy(ip + 20, payload, len);
	send_frame(n, f, 34 + len);
}

static void send_udp(struct net *n, const char *text)
{
	u8 u[512];
	size_t len = strlen(text);

	put16(u, GUEST_PORT);
	put16(u + 2, PEER_PORT);
	put16(u + 4, 8 + len);
	put16(u + 6, 0);	/* no checksum: allowed over IPv4 */
	memcpy(u + 8, text, len);
	send_ip(n, n->peer_mac, n->peer, 17, u, 8 + len);
}

static void got_arp(struct net *n, const u8 *a, size_t len)
{
	u32 sip, tip;
	char s[16];

	if (len < 28)
		return;
	memcpy(&sip, a + 14, 4);
	memcpy(&tip, a + 24, 4);
	if (a[7] == 2 && sip == n->peer && !n->peer_known) {
		memcpy(n->peer_mac, a + 8, 6);
		n->peer_known = true;
		say("net: peer %s is at %02x:%02x:%02x:%02x:%02x:%02x",
		    ipstr(sip, s), a[8], a[9], a[10], a[11], a[12], a[13]);
	} else if (a[7] == 1 && tip == n->ip) {
		send_arp(n, 2, a + 8, sip);
	}
}

static void got_ip(struct net *n, const u8 *src, const u8 *ip, size_t len)
{
	size_t hl = (ip[0] & 15) * 4, tot = (ip[2] << 8) | ip[3];
	const u8 *p = ip + hl;
	u32 sip, dip;
	char s[16];

	if (len < 20 || hl < 20 || tot > len || tot < hl)
		return;
	memcpy(&sip, ip + 12, 4);
	memcpy(&dip, ip + 16, 4);
	if (dip != n->ip)
		return;
	if (csum(ip, hl, 0) != 0) {
		fail("net: bad IP header checksum from %s", ipstr(sip, s));
		return;
	}
	if (ip[9] == 1 && tot - hl >= 8 && p[0] == 8) {
		u8 reply[1480];
		size_t plen = tot - hl;

		memcpy(reply, p, plen);
		reply[0] = 0;
		reply[2] = reply[3] = 0;
		*(u16 *)(reply + 2) = csum(reply, plen, 0);
		send_ip(n, src, sip, 1, reply, plen);
		n->pings++;
		say("net: echo request from %s seq %u answered",
		    ipstr(sip, s), (p[6] << 8) | p[7]);
	} else if (ip[9] == 17 && tot - hl >= 8 &&
		   ((p[2] << 8) | p[3]) == GUEST_PORT) {
		size_t ulen = (p[4] << 8) | p[5];

		if (ulen < 8 || ulen > tot - hl)
			return;
		n->udps++;
		say("net: udp from %s: '%.*s'", ipstr(sip, s), (int)(ulen - 8),
		    p + 8);
	}
}

static void got_frame(struct net *n, const u8 *b, size_t len)
{
	const u8 *f = b + n->hdr;
	u16 type;

	if (len < n->hdr + 14) {
		fail("net: a frame of %zu bytes", len);
		return;
	}
	if (n->mrg)
		check(b[10] == 1 && b[11] == 0, "net: num_buffers %u in a "
		      "frame that fits one buffer", b[10] | (b[11] << 8));
	len -= n->hdr;
	type = (f[12] << 8) | f[13];
	if (type == 0x0806)
		got_arp(n, f + 14, len - 14);
	else if (type == 0x0800)
		got_ip(n, f + 6, f + 14, len - 14);
}

/* Take what arrived, give the buffers back. */
static void poll_rx(struct net *n)
{
	u32 len;
	int id;

	while ((id = vq_get(n->rx, &len)) >= 0) {
		for (int i = 0; i < RX_BUFS; i++) {
			if (n->in[i].gpa != n->rx->desc[id].addr)
				continue;
			if (len > RX_SIZE)
				fail("net: %u bytes in a buffer of %d", len,
				     RX_SIZE);
			else
				got_frame(n, gp(n->g, n->in[i].gpa, len), len);
			vq_add(n->rx, &n->in[i], 1);
			vq_kick(n->rx);
		}
	}
}

void scen_net(struct guest *g)
{
	static struct vq vqs[MAX_VQS];
	static struct ldev devs[MAX_DEVS];
	struct net n = { .g = g };
	long pings = env_num("LGMODEL_NET_PINGS", 3);
	long udps = env_num("LGMODEL_NET_UDP", 1);
	u64 end = now_ms() + env_num("LGMODEL_NET_SECONDS", 30) * 1000;
	u64 take, next_arp = 0;
	int nd = bus_scan(g, devs, MAX_DEVS);
	bool sent = false;
	char s[16];

	n.dev = bus_find(devs, nd, VIRTIO_ID_NET, 0);
	if (!n.dev) {
		fail("no net device in the device page");
		return;
	}
	take = ldev_start(n.dev, (1ULL << F_NET_MAC) | (1ULL << F_NET_MRG_RXBUF) |
			  (1ULL << F_RING_EVENT_IDX), vqs);
	n.rx = &vqs[0];
	n.tx = &vqs[1];
	n.mrg = (take >> F_NET_MRG_RXBUF) & 1;
	n.hdr = n.mrg ? 12 : 10;
	if ((take >> F_NET_MAC) & 1)
		memcpy(n.mac, ldev_config(n.dev), 6);
	else
		memcpy(n.mac, "\x52\x54\x00\x12\x34\x56", 6);
	inet_pton(AF_INET, env_str("LGMODEL_NET_IP", "10.0.2.15"), &n.ip);
	inet_pton(AF_INET, env_str("LGMODEL_NET_PEER", "10.0.2.1"), &n.peer);
	for (int i = 0; i < RX_BUFS; i++) {
		n.in[i] = (struct vbuf){ galloc(g, RX_SIZE, 16), RX_SIZE, true };
		vq_add(n.rx, &n.in[i], 1);
	}
	vq_kick(n.rx);
	say("net: ready ip %s mac %02x:%02x:%02x:%02x:%02x:%02x header %u",
	    ipstr(n.ip, s), n.mac[0], n.mac[1], n.mac[2], n.mac[3], n.mac[4],
	    n.mac[5], n.hdr);

	while (now_ms() < end) {
		if (!n.peer_known && now_ms() >= next_arp) {
			send_arp(&n, 1, (const u8 *)"\0\0\0\0\0\0", n.peer);
			next_arp = now_ms() + 1000;
		}
		if (n.peer_known && !sent) {
			send_udp(&n, "lgmodel-udp hello from the guest");
			say("net: udp sent to %s port %d", ipstr(n.peer, s),
			    PEER_PORT);
			sent = true;
		}
		if (sent && n.pings >= pings && n.udps >= udps)
			break;
		poll_rx(&n);
		wait_irq(g, 1U << n.rx->irq, 20);
	}
	check(n.peer_known, "net: no ARP reply from %s", ipstr(n.peer, s));
	check(n.pings >= pings, "net: %d echo requests answered, not %ld",
	      n.pings, pings);
	check(n.udps >= udps, "net: %d datagrams received, not %ld", n.udps,
	      udps);
	say("net: answered %d echo requests, received %d datagrams", n.pings,
	    n.udps);
}
