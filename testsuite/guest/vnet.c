/*
 * vnet.c - the net scenario: a virtio-net driver (virtio 1.x, 5.1) with
 * no offloads, answering ARP and ICMP echo for its address, and pinging
 * a peer when asked to.  Every frame starts with the 12-byte
 * virtio_net_hdr (VERSION_1 always has num_buffers), all zero on send.
 * udp.c drives the same device through the net_* helpers at the end.
 */
#include "virtio.h"

#define VIRTIO_NET_F_MAC	5
#define NET_RX			0
#define NET_TX			1
#define NET_HDR			12
#define BUF_LEN			2048
#define NBUFS			32	/* rx buffers posted, tx buffers owned */

#define ETH_ALEN		6
#define ETH_HLEN		14
#define ETH_P_IP		0x0800
#define ETH_P_ARP		0x0806
#define ARP_LEN			28
#define IP_HLEN			20
#define ICMP_ECHO		8
#define ICMP_ECHOREPLY		0
#define PING_ID			0x4c47
#define PING_DATA		56

static struct vdev *dev;
static struct vq *rx, *tx;
/* With VIRTIO_NET_F_MQ (vmq.c) frames may come on any pair's receive
 * queue: they are all looked at, and a frame goes back to its own. */
static struct vq *rxq[VQ_MAX];
static int nrx = 1, rx_from, reply_rx = -1;
static u8 mac[ETH_ALEN], ip[4], peer[4], peer_mac[ETH_ALEN];
static bool peer_known;
static u8 *txbufs;
static bool tx_busy[NBUFS];
static unsigned answered, arps;
bool net_quiet;			/* no line per packet (bench.c) */
static int last_reply = -1;

static const u8 bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

/* RFC 1071: the ones' complement of the ones' complement sum. */
u16 net_csum(const u8 *p, u32 len)
{
	u32 s = 0;

	for (; len > 1; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)~s;
}

static bool parse_ip(const char *s, u8 out[4])
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

void net_mac(struct vdev *d, u8 m[6])
{
	static const u8 fallback[ETH_ALEN] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

	for (int i = 0; i < ETH_ALEN; i++)
		m[i] = d->features & BIT(VIRTIO_NET_F_MAC) ? mr8(d->cfg, i) :
							     fallback[i];
}

/* Take back the tx buffers the device is done with. */
static void tx_reap(void)
{
	u8 *p;

	while ((p = vq_get(tx, NULL)))
		tx_busy[(p - txbufs) / BUF_LEN] = false;
}

/* A free tx buffer, taking back what the device is done with. */
static u8 *tx_buf(void)
{
	u8 *p;

	tx_reap();
	for (int i = 0; i < NBUFS; i++)
		if (!tx_busy[i]) {
			tx_busy[i] = true;
			memset(txbufs + i * BUF_LEN, 0, NET_HDR);
			return txbufs + i * BUF_LEN;
		}
	vq_kick(tx);		/* udp.c may have queued frames unannounced */
	p = vq_wait(tx, NULL);
	memset(p, 0, NET_HDR);
	return p;
}

/* Queue the frame at buf + NET_HDR, @len bytes long; the caller rings. */
static void send(u8 *buf, u32 len)
{
	struct vbuf b;

	if (len < 60) {		/* the Ethernet minimum, without the FCS */
		memset(buf + NET_HDR + len, 0, 60 - len);
		len = 60;
	}
	b = (struct vbuf){ buf, NET_HDR + len, false };
	if (vq_add(tx, &b, 1, buf) < 0)
		fail("net: transmit queue full");
}

static void eth_fill(u8 *f, const u8 *dst, u16 type)
{
	memcpy(f, dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, mac, ETH_ALEN);
	put16(f + 12, type);
}

static void arp_send(u16 op, const u8 *tha, const u8 *tpa)
{
	u8 *buf = tx_buf(), *f = buf + NET_HDR, *a = f + ETH_HLEN;

	eth_fill(f, op == 1 ? bcast : tha, ETH_P_ARP);
	put16(a, 1);			/* Ethernet */
	put16(a + 2, ETH_P_IP);
	a[4] = ETH_ALEN;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, mac, ETH_ALEN);
	memcpy(a + 14, ip, 4);
	memcpy(a + 18, op == 1 ? (const u8 *)"\0\0\0\0\0\0" : tha, ETH_ALEN);
	memcpy(a + 24, tpa, 4);
	send(buf, ETH_HLEN + ARP_LEN);
	vq_kick(tx);
}

static void arp_in(const u8 *a, u32 len)
{
	if (len < ARP_LEN || get16(a) != 1 || get16(a + 2) != ETH_P_IP ||
	    a[4] != ETH_ALEN || a[5] != 4)
		return;
	if (get16(a + 6) == 1 && !memcmp(a + 24, ip, 4)) {
		arp_send(2, a + 8, a + 14);
		arps++;
		if (!net_quiet)
			printf("net: arp reply to %u.%u.%u.%u\n", a[14], a[15],
			       a[16], a[17]);
	} else if (get16(a + 6) == 2 && !memcmp(a + 14, peer, 4) &&
		   !peer_known) {
		memcpy(peer_mac, a + 8, ETH_ALEN);
		peer_known = true;
	}
}

/* Build an IPv4 + ICMP echo (or reply) in a tx buffer and send it. */
static void icmp_send(const u8 *dmac, const u8 *dip, u8 type, u16 id,
		      u16 seq, const u8 *data, u32 dlen)
{
	u8 *buf = tx_buf(), *f = buf + NET_HDR, *h = f + ETH_HLEN,
	   *c = h + IP_HLEN;
	u32 ilen = 8 + dlen;

	if (ETH_HLEN + IP_HLEN + ilen > BUF_LEN - NET_HDR)
		return;
	eth_fill(f, dmac, ETH_P_IP);
	memset(h, 0, IP_HLEN + 8);	/* the buffer held an older frame */
	h[0] = 0x45;
	put16(h + 2, (u16)(IP_HLEN + ilen));
	h[8] = 64;			/* TTL */
	h[9] = 1;			/* ICMP */
	memcpy(h + 12, ip, 4);
	memcpy(h + 16, dip, 4);
	put16(h + 10, net_csum(h, IP_HLEN));
	c[0] = type;
	put16(c + 4, id);
	put16(c + 6, seq);
	memcpy(c + 8, data, dlen);
	put16(c + 2, net_csum(c, ilen));
	send(buf, ETH_HLEN + IP_HLEN + ilen);
	vq_kick(tx);
}

static void ip_in(const u8 *f, const u8 *h, u32 len)
{
	u32 ihl = (h[0] & 0xf) * 4, tot;
	const u8 *c;

	if (len < IP_HLEN || h[0] >> 4 != 4 || ihl < IP_HLEN || ihl > len)
		return;
	tot = get16(h + 2);
	if (tot < ihl + 8 || tot > len || h[9] != 1 || memcmp(h + 16, ip, 4))
		return;
	if (net_csum(h, ihl)) {
		printf("net: bad ip checksum\n");
		return;
	}
	c = h + ihl;
	if (net_csum(c, tot - ihl)) {
		printf("net: bad icmp checksum\n");
		return;
	}
	if (c[0] == ICMP_ECHO) {
		icmp_send(f + ETH_ALEN, h + 12, ICMP_ECHOREPLY, get16(c + 4),
			  get16(c + 6), c + 8, tot - ihl - 8);
		answered++;
		if (!net_quiet)
			printf("net: echo request from %u.%u.%u.%u seq %u "
			       "answered\n", h[12], h[13], h[14], h[15],
			       get16(c + 6));
	} else if (c[0] == ICMP_ECHOREPLY && get16(c + 4) == PING_ID &&
		   !memcmp(h + 12, peer, 4)) {
		last_reply = get16(c + 6);
		reply_rx = rx_from;
	}
}

/* A received frame (past the virtio header) and its length, or NULL. */
u8 *net_rx_get(u32 *len)
{
	u8 *p = NULL;

	for (int i = 0; i < nrx && !p; i++)
		if ((p = vq_get(rxq[i], len)))
			rx_from = i;
	if (!p)
		return NULL;
	if (*len > BUF_LEN)
		fail("net: %u bytes in a %u-byte buffer", *len, BUF_LEN);
	*len = *len > NET_HDR ? *len - NET_HDR : 0;
	return p + NET_HDR;
}

/* Give a frame's buffer back to the device, without a doorbell. */
void net_rx_put(u8 *f)
{
	struct vbuf b = { f - NET_HDR, BUF_LEN, true };

	vq_add(rxq[rx_from], &b, 1, b.addr);
}

/* What the net scenario does with a frame: ARP, and ICMP echo. */
void net_rx_other(const u8 *f, u32 len)
{
	if (len >= ETH_HLEN &&
	    (!memcmp(f, mac, ETH_ALEN) || !memcmp(f, bcast, ETH_ALEN))) {
		len -= ETH_HLEN;
		if (get16(f + 12) == ETH_P_ARP)
			arp_in(f + ETH_HLEN, len);
		else if (get16(f + 12) == ETH_P_IP)
			ip_in(f, f + ETH_HLEN, len);
	}
}

unsigned net_answered(void)
{
	return answered;
}

unsigned net_arps(void)
{
	return arps;
}

/* Handle one received frame, if there is one. */
bool net_poll(void)
{
	u32 len;
	u8 *f = net_rx_get(&len);

	if (!f)
		return false;
	net_rx_other(f, len);
	net_rx_put(f);
	vq_kick(rxq[rx_from]);
	return true;
}

/* Up, with the features of @want the device offers: with
 * VIRTIO_NET_F_MQ, max_virtqueue_pairs pairs and the control queue
 * after them; receive buffers on every pair. */
static void net_open(u64 want)
{
	int pairs = 1;
	u8 *rxbufs;

	dev = vdev_find(VIRTIO_ID_NET, (int)arg_u64("nic", 0));
	if (!dev)
		fail("no virtio-net device");
	vdev_init(dev, vdev_want() | BIT(VIRTIO_NET_F_MAC) | want);
	if (dev->features & BIT(VIRTIO_NET_F_MQ))
		pairs = mr16(dev->cfg, 8);	/* max_virtqueue_pairs */
	if (pairs < 1 || 2 * pairs + (pairs > 1) > VQ_MAX)
		fail("net: %d queue pairs, more than we drive", pairs);
	nrx = pairs;
	for (int q = 0; q < 2 * pairs; q++)
		vdev_queue(dev, q, 0, true);
	if (dev->features & BIT(VIRTIO_NET_F_MQ))
		vdev_queue(dev, 2 * pairs, 0, true);
	vdev_driver_ok(dev);
	net_mac(dev, mac);
	rx = &dev->vq[NET_RX];
	tx = &dev->vq[NET_TX];
	rxbufs = alloc((u64)pairs * NBUFS * BUF_LEN, 4096);
	txbufs = alloc(NBUFS * BUF_LEN, 4096);
	for (int p = 0; p < pairs; p++) {
		rxq[p] = &dev->vq[2 * p];
		for (int i = 0; i < NBUFS && i < rxq[p]->size; i++) {
			struct vbuf b = { rxbufs + (p * NBUFS + i) * BUF_LEN,
					  BUF_LEN, true };

			vq_add(rxq[p], &b, 1, b.addr);
		}
		vq_kick(rxq[p]);
	}
}

static bool resolve_peer(void)
{
	for (int tries = 0; tries < 5 && !peer_known; tries++) {
		u64 dl = deadline(1000);

		arp_send(1, NULL, peer);
		while (!peer_known && !expired(dl))
			if (!net_poll())
				asm volatile("pause");
	}
	return peer_known;
}

/* One echo request to the (resolved) peer; the receive queue the reply
 * came on, or -1 if none came within two seconds. */
int net_ping(u16 seq)
{
	u8 data[PING_DATA];
	u64 dl = deadline(2000);

	for (int i = 0; i < PING_DATA; i++)
		data[i] = (u8)i;
	icmp_send(peer_mac, peer, ICMP_ECHO, PING_ID, seq, data, PING_DATA);
	while (last_reply != (int)seq && !expired(dl))
		if (!net_poll())
			asm volatile("pause");
	return last_reply == (int)seq ? reply_rx : -1;
}

static void ping_peer(const char *who, unsigned count)
{
	if (!resolve_peer())
		fail("net: no arp reply from %s", who);
	printf("net: peer %s is at %02x:%02x:%02x:%02x:%02x:%02x\n", who,
	       peer_mac[0], peer_mac[1], peer_mac[2], peer_mac[3],
	       peer_mac[4], peer_mac[5]);
	for (unsigned seq = 1; seq <= count; seq++) {
		if (net_ping((u16)seq) < 0)
			fail("net: ping %s seq %u no reply", who, seq);
		printf("net: ping %s seq %u reply ok\n", who, seq);
	}
}

/*
 * What udp.c builds on: bring the NIC up for ip= (and peer=), then send
 * and receive frames, ringing the doorbells when it chooses to.
 */
void net_start(const char *who, const char *ips, const char *peers)
{
	net_start_mq(who, ips, peers, 0);
}

struct vdev *net_start_mq(const char *who, const char *ips,
			  const char *peers, u64 want)
{
	if (!ips)
		ips = "10.0.2.15";
	if (!parse_ip(ips, ip))
		fail("%s: bad ip=%s", who, ips);
	if (peers && !parse_ip(peers, peer))
		fail("%s: bad peer=%s", who, peers);
	net_open(want);
	printf("%s: ready ip %s mac %02x:%02x:%02x:%02x:%02x:%02x\n", who,
	       ips, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return dev;
}

/* Transmit on pair @p from now on, once the old queue has sent all. */
void net_tx_pair(int p)
{
	net_tx_drain();
	tx = &dev->vq[2 * p + 1];
}

const u8 *net_ip(void)
{
	return ip;
}

const u8 *net_peer_ip(void)
{
	return peer;
}

/* The peer's MAC, asked for by ARP (answering what comes meanwhile). */
const u8 *net_resolve(const char *who)
{
	if (!resolve_peer())
		fail("%s: no arp reply from %u.%u.%u.%u", who, peer[0],
		     peer[1], peer[2], peer[3]);
	return peer_mac;
}

/* A free transmit frame with its Ethernet header filled in. */
u8 *net_frame(const u8 *dst, u16 type)
{
	u8 *f = tx_buf() + NET_HDR;

	eth_fill(f, dst, type);
	return f;
}

/* Queue frame @f of @len bytes (Ethernet header on), no doorbell. */
void net_frame_send(u8 *f, u32 len)
{
	send(f - NET_HDR, len);
}

/* One doorbell for what was queued on either queue, if the device
 * wants one. */
void net_kick(void)
{
	vq_kick(tx);
	vq_kick(rx);
}

/* Wait (a second at most) until the device has taken every frame. */
void net_tx_drain(void)
{
	u64 dl = deadline(1000);

	vq_kick(tx);
	for (tx_reap(); tx->num_free != tx->size && !expired(dl); tx_reap())
		asm volatile("pause");
}

void test_net(void)
{
	const char *peers = arg("peer");
	u64 count = arg_u64("count", 0), secs;

	net_start("net", arg("ip"), peers);

	if (peers)
		ping_peer(peers, (unsigned)arg_u64("pings", 3));
	/* Answer for time= seconds or until count= echoes; with a peer
	 * and neither, we are done. */
	secs = arg_u64("time", peers && !count ? 0 : 30);
	if (secs || count) {
		u64 dl = deadline(secs ? secs * 1000 : 600000);

		while (!expired(dl) && (!count || answered < count))
			if (!net_poll())
				asm volatile("pause");
		if (count && answered < count)
			fail("net: answered %u of %lu echo requests", answered,
			     count);
	}
	printf("net: answered %u echo requests\n", answered);
	done();
}
