/*
 * net.c - virtio-net (virtio 1.x, 5.1) on a host tap device.
 *
 *L:720 lguest's network was a tap device: the guest's frames come out of
 * a network interface on the host, where the usual tools (addresses,
 * bridges, iptables) take over.  The tap speaks virtio's own header
 * (IFF_VNET_HDR), so frames go between the tap and the guest's buffers
 * untouched, checksum offload and segmentation hints included: the
 * driver and the host kernel do all the work, we just carry the bytes.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <string.h>

#include "host/tap.h"
#include "iov.h"
#include "machine.h"
#include "virtio/virtio.h"

/* struct virtio_net_hdr_v1: num_buffers is its last field. */
#define NET_HDR_LEN			12
#define NET_HDR_NUM_BUFFERS		10

/* The longest frame a driver may send: header, Ethernet header and a
 * 64 KiB IP packet (TSO included); the tap is not asked to take more. */
#define TX_MAX				(NET_HDR_LEN + 14 + 65535)

#define F(bit)				(1ULL << VIRTIO_NET_F_##bit)

struct virtio_net_config {
	u8 mac[6];
	u16 status;
} __attribute__((packed));

struct net {
	struct tap tap;
	struct virtio_net_config config;
};

static void set_offload(struct net *n, const struct virtio_dev *d)
{
	unsigned off = 0;

	/* The tap may hand us what the driver said it can take; TSO is
	 * only allowed with checksum offload, as in the spec (5.1.3.1). */
	if (d && virtio_has(d, VIRTIO_NET_F_GUEST_CSUM)) {
		off = TUN_F_CSUM;
		if (virtio_has(d, VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (virtio_has(d, VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if (virtio_has(d, VIRTIO_NET_F_GUEST_ECN) &&
		    (off & (TUN_F_TSO4 | TUN_F_TSO6)))
			off |= TUN_F_TSO_ECN;
	}
	tap_set_offload(&n->tap, off);
}

/*L:722 At DRIVER_OK the features are settled: tell the tap which
 * offloads it may use for frames it gives us. */
static void net_start(struct virtio_dev *d)
{
	set_offload(d->priv, d);
}

/* After a reset the next driver may take no offloads at all. */
static void net_reset(struct virtio_dev *d)
{
	set_offload(d->priv, NULL);
}

/* Wait for a frame on the tap, or for the queue to be stopped.  Kicks
 * mean nothing while we hold a buffer; we only consume them. */
static bool wait_tap(struct virtqueue *vq, struct net *n)
{
	struct pollfd p[2] = {
		{ .fd = n->tap.fd, .events = POLLIN },
		{ .fd = vq->kick_fd, .events = POLLIN },
	};

	for (;;) {
		if (vq->stopping)
			return false;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			warn("virtio-net: poll");
			return false;
		}
		if (p[1].revents)
			vq_wait_kick(vq);
		if (vq->stopping)
			return false;
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			warnx("virtio-net: %s has gone away", n->tap.ifname);
			p[0].fd = -1;
		} else if (p[0].revents) {
			return true;
		}
	}
}

/*L:724 Receive: take a buffer chain, then wait for a frame to put in it.
 * While the guest has given us no buffers, vq_get() sleeps until it does
 * and frames wait in the tap's queue.  Frames go straight from the tap
 * into the guest's buffers, header first.  We interrupt once the tap is
 * empty, not per frame. */
static void net_rx(struct virtqueue *vq)
{
	struct net *n = vq->dev->priv;
	struct iovec iov[VQ_MAX_IOV];
	unsigned out, in;
	size_t room;
	ssize_t len;
	u16 one = 1;
	int head;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		room = iov_total(iov, in);
		if (out || room < NET_HDR_LEN) {
			virtio_broken(vq->dev, "receive buffer of %zu writable "
				      "bytes after %u readable ones", room, out);
			return;
		}
		/* Poll first, then read: a read that finds the tap empty
		 * would cost a system call per frame for nothing.  The
		 * interrupt for what we pushed goes before we may sleep. */
		for (;;) {
			vq_interrupt(vq);
			if (!wait_tap(vq, n))
				return;
			len = readv(n->tap.fd, iov, in);
			if (len >= 0)
				break;
			/* EFAULT: a frame too big for the buffer, which
			 * the tap has dropped. */
			if (errno != EAGAIN && errno != EINTR &&
			    errno != EFAULT)
				warn("virtio-net: %s: read", n->tap.ifname);
		}
		/* The tap reports the frame's length even if it was cut to
		 * fit; the driver must never see more than it gave. */
		if ((size_t)len > room)
			len = room;
		if (len < NET_HDR_LEN)
			len = NET_HDR_LEN;

		/* No MRG_RXBUF: every frame takes exactly one chain.  The
		 * tap leaves num_buffers alone, so we fill it in. */
		iov_to(iov, in, NET_HDR_NUM_BUFFERS, &one, sizeof(one));
		vq_push(vq, head, len);
	}
}

/* Transmit: the driver's header and frame go to the tap as they are.  A
 * frame the tap refuses is dropped, as a real wire would. */
static void net_tx(struct virtqueue *vq)
{
	struct net *n = vq->dev->priv;
	struct iovec iov[VQ_MAX_IOV];
	unsigned out, in;
	size_t len;
	int head;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		len = iov_total(iov, out);
		if (in || len < NET_HDR_LEN || len > TX_MAX) {
			virtio_broken(vq->dev, "transmit buffer of %zu "
				      "readable bytes and %u writable buffers",
				      len, in);
			return;
		}
		while (writev(n->tap.fd, iov, out) < 0 && errno == EINTR)
			;
		vq_push(vq, head, 0);
	}
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = F(CSUM) | F(GUEST_CSUM) | F(MAC) | F(GUEST_TSO4) |
		    F(GUEST_TSO6) | F(GUEST_ECN) | F(HOST_TSO4) |
		    F(HOST_TSO6) | F(HOST_ECN) | F(STATUS),
	.num_queues = 2,
	.service = { net_rx, net_tx },
	.config_size = sizeof(struct virtio_net_config),
	.start = net_start,
	.reset = net_reset,
};

/* The @nth NIC (from 1) of the command line: the same on every boot,
 * so nth - 1 names the tap kept across a reboot, and ends the MAC
 * address a NIC gets when none is given. */
static void net_add(struct vm *vm, const char *arg, int nth)
{
	struct net *n = malloc_or_die(sizeof(*n));
	struct tunnet t;

	tunnet_parse(&t, arg, nth - 1);
	memcpy(n->config.mac, t.mac, sizeof(n->config.mac));
	n->config.status = VIRTIO_NET_S_LINK_UP;
	tap_open(&n->tap, &t, nth - 1, NET_HDR_LEN);
	verbose("--tunnet=%s: %s, MAC %02x:%02x:%02x:%02x:%02x:%02x", arg,
		n->tap.ifname, n->config.mac[0], n->config.mac[1],
		n->config.mac[2], n->config.mac[3], n->config.mac[4],
		n->config.mac[5]);
	virtio_add(vm, &net_ops, n, &n->config);
}

const struct device_type net_device = {
	.option = "tunnet",
	.has_arg = true,
	.help =
"  --tunnet=IPADDR[/PREFIX][:MAC]\n"
"  --tunnet=bridge:BRIDGE[:MAC]\n"
"  --tunnet=tap:NAME[:MAC]\n"
"                  a virtio NIC on a new tap with that host address, on a\n"
"                  new tap added to BRIDGE, or on an existing tap NAME\n",
	.add = net_add,
};
