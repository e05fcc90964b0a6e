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
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "host/tap.h"
#include "iov.h"
#include "machine.h"
#include "virtio/virtio.h"

/* struct virtio_net_hdr_v1: num_buffers is its last field.  A legacy
 * driver without MRG_RXBUF (the lguest bus's) has no num_buffers. */
#define NET_HDR_LEN			12
#define NET_HDR_LEGACY_LEN		10
#define NET_HDR_NUM_BUFFERS		10

/* The longest frame a driver may send: header, Ethernet header and a
 * 64 KiB IP packet (TSO included); the tap is not asked to take more. */
#define TX_MAX				(NET_HDR_LEN + 14 + 65535)

#define F(bit)				(1ULL << VIRTIO_NET_F_##bit)

struct virtio_net_config {
	u8 mac[6];
	u16 status;
	u16 max_virtqueue_pairs;	/* with VIRTIO_NET_F_MQ */
} __attribute__((packed));

_Static_assert(offsetof(struct virtio_net_config, max_virtqueue_pairs) == 8,
	       "virtio_net_config.max_virtqueue_pairs is at offset 8 (5.1.4)");

/*
 * Queue pair i is receiveq 2i and transmitq 2i + 1, each served by its
 * own thread through the tap's queue i; with several pairs the control
 * queue comes after them all.  Pairs the driver has not asked for stay
 * idle, their tap queues detached.
 */
struct net {
	struct tap tap;
	int hdr_len;			/* NET_HDR_LEN, or the legacy one */
	int max_pairs;
	/* Pairs in use: set by the control queue's thread, read by the
	 * receive threads (atomically), 1 after a reset (5.1.6.5.5). */
	int pairs;
	struct virtio_net_config config;
	struct virtio_ops ops;		/* the queues differ from NIC to NIC */
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

static bool pair_active(struct net *n, int pair)
{
	return pair < __atomic_load_n(&n->pairs, __ATOMIC_ACQUIRE);
}

/*L:723 After a reset (and at startup, which may follow a reboot that
 * left them attached: @force) only the first pair is in use, and the
 * other tap queues are detached.  No queue thread runs now. */
static void idle_pairs(struct net *n, bool force)
{
	for (int q = 1; q < n->max_pairs; q++)
		if (!tap_queue_attach(&n->tap, q, false, force))
			warn("virtio-net: %s: cannot detach queue %d",
			     n->tap.ifname, q);
	__atomic_store_n(&n->pairs, 1, __ATOMIC_RELEASE);
}

static void net_reset(struct virtio_dev *d)
{
	set_offload(d->priv, NULL);
	idle_pairs(d->priv, false);
}

/* Wait for a frame on the tap, or for the queue to be stopped.  Kicks
 * mean nothing while we hold a buffer; we only consume them.  An idle
 * pair's tap queue is detached and not watched: the control queue's
 * thread kicks us when that changes. */
static bool wait_tap(struct virtqueue *vq, struct net *n)
{
	int pair = vq->index / 2;
	bool gone = false, active;
	struct pollfd p[2];

	for (;;) {
		if (vq->stopping)
			return false;
		active = pair_active(n, pair);
		p[0] = (struct pollfd){ .fd = active && !gone ?
					n->tap.fd[pair] : -1, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = vq->kick_fd, .events = POLLIN };
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
		/* A queue detached under us polls as an error, too. */
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			if (pair_active(n, pair)) {
				warnx("virtio-net: %s has gone away",
				      n->tap.ifname);
				gone = true;
			}
		} else if (p[0].revents) {
			return true;
		}
	}
}

/*L:724 Receive: take a buffer chain, then read a frame into it.  Frames
 * go straight from the tap into the guest's buffers, header first, and
 * the guest is interrupted once a batch, when the thread is about to
 * sleep.  How it sleeps depends on the traffic.  A frame now and then
 * (a ping) is best met by poll() and one read: two system calls.  A
 * flood is best read until the tap is empty (EAGAIN), one system call a
 * frame, with no poll() between.  The sign of a flood is a poll() that
 * did not sleep: frames were waiting already.  So after such a poll()
 * the thread reads until EAGAIN, and after EAGAIN it polls again.  While
 * the guest has given us no buffers, vq_get() sleeps (interrupting
 * first) and frames wait in the tap's queue. */
#define POLL_SLEPT_US	20

static void net_rx(struct virtqueue *vq)
{
	struct net *n = vq->dev->priv;
	struct iovec iov[VQ_MAX_IOV];
	int pair = vq->index / 2, head;
	bool burst = false;		/* read without polling first */
	unsigned out, in;
	u64 room, t;
	ssize_t len;
	u16 one = 1;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		room = iov_total(iov, in);
		if (out || room < (u64)n->hdr_len) {
			virtio_broken(vq->dev, "receive buffer of %llu writable "
				      "bytes after %u readable ones",
				      (unsigned long long)room, out);
			return;
		}
		for (;;) {
			if (!burst) {
				vq_interrupt(vq);
				t = now_us();
				if (!wait_tap(vq, n))
					return;
				burst = now_us() - t < POLL_SLEPT_US;
			} else if (vq->stopping) {
				return;
			}
			len = readv(n->tap.fd[pair], iov, in);
			/* A frame read as the pair was given up is dropped:
			 * the driver no longer looks at this queue. */
			if (len >= 0 && pair_active(n, pair))
				break;
			if (len >= 0)
				continue;
			if (errno != EFAULT)
				burst = false;
			/* EFAULT: a frame too big for the buffer, which
			 * the tap has dropped.  EBADFD: the queue was
			 * detached as we read. */
			if (errno != EAGAIN && errno != EINTR &&
			    errno != EFAULT &&
			    !(errno == EBADFD && !pair_active(n, pair)))
				warn("virtio-net: %s: read", n->tap.ifname);
		}
		/* The tap reports the frame's length even if it was cut to
		 * fit; the driver must never see more than it gave. */
		if ((u64)len > room)
			len = room;
		if (len < n->hdr_len)
			len = n->hdr_len;

		/* No MRG_RXBUF: every frame takes exactly one chain.  The
		 * tap leaves num_buffers alone, so we fill it in. */
		if (n->hdr_len == NET_HDR_LEN)
			iov_to(iov, in, NET_HDR_NUM_BUFFERS, &one, sizeof(one));
		vq_push(vq, head, len);
	}
}

/* Transmit: the driver's header and frame go to the tap as they are.  A
 * frame the tap refuses is dropped, as a real wire would: so is one on
 * an idle pair, whose tap queue is detached. */
static void net_tx(struct virtqueue *vq)
{
	struct net *n = vq->dev->priv;
	struct iovec iov[VQ_MAX_IOV];
	int fd = n->tap.fd[vq->index / 2], head;
	unsigned out, in;
	u64 len;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		len = iov_total(iov, out);
		if (in || len < (u64)n->hdr_len || len > TX_MAX) {
			virtio_broken(vq->dev, "transmit buffer of %llu "
				      "readable bytes and %u writable buffers",
				      (unsigned long long)len, in);
			return;
		}
		while (writev(fd, iov, out) < 0 && errno == EINTR)
			;
		vq_push(vq, head, 0);
	}
}

/*L:725 VQ_PAIRS_SET: the driver uses @pairs pairs from now on.  New
 * ones' tap queues are attached before the receive threads may look at
 * them, old ones' detached after they no longer do; either way their
 * receive threads are kicked to notice.  Only this thread changes the
 * pairs while the device runs. */
static bool set_pairs(struct virtio_dev *d, struct net *n, int pairs)
{
	int old = n->pairs, q;
	u64 one = 1;

	for (q = old; q < pairs; q++) {
		if (!tap_queue_attach(&n->tap, q, true, false)) {
			warn("virtio-net: %s: cannot attach queue %d",
			     n->tap.ifname, q);
			while (--q >= old)
				tap_queue_attach(&n->tap, q, false, false);
			return false;
		}
	}
	__atomic_store_n(&n->pairs, pairs, __ATOMIC_RELEASE);
	for (q = pairs; q < old; q++)
		if (!tap_queue_attach(&n->tap, q, false, false))
			warn("virtio-net: %s: cannot detach queue %d",
			     n->tap.ifname, q);
	for (q = pairs < old ? pairs : old; q < (pairs < old ? old : pairs);
	     q++)
		if (write(d->vq[2 * q].kick_fd, &one, sizeof(one)) < 0)
			warn("virtio-net: cannot wake receive queue %d", q);
	return true;
}

/*L:727 The control queue (5.1.6.5): a class and a command byte, the
 * command's data, and an ack byte we write.  We know one command, the
 * number of queue pairs (MQ VQ_PAIRS_SET, a 16-bit count from 1 to
 * max_virtqueue_pairs); anything else is VIRTIO_NET_ERR. */
static void net_ctrl(struct virtqueue *vq)
{
	struct iovec iov[VQ_MAX_IOV];
	struct net *n = vq->dev->priv;
	struct { u8 class, cmd; } h;
	unsigned out, in;
	u64 len;
	u16 pairs;
	u8 ack;
	int head;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		len = iov_total(iov, out);
		if (len < sizeof(h) || iov_total(iov + out, in) < 1) {
			virtio_broken(vq->dev, "control command of %llu readable "
				      "bytes and %u writable buffers",
				      (unsigned long long)len, in);
			return;
		}
		iov_from(iov, out, 0, &h, sizeof(h));
		ack = VIRTIO_NET_ERR;
		if (h.class == VIRTIO_NET_CTRL_MQ &&
		    h.cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
		    virtio_has(vq->dev, VIRTIO_NET_F_MQ) &&
		    len == sizeof(h) + sizeof(pairs)) {
			iov_from(iov, out, sizeof(h), &pairs, sizeof(pairs));
			if (pairs >= 1 && pairs <= n->max_pairs &&
			    set_pairs(vq->dev, n, pairs))
				ack = VIRTIO_NET_OK;
		}
		iov_to(iov + out, in, 0, &ack, sizeof(ack));
		vq_push(vq, head, sizeof(ack));
	}
}

static void net_queue(struct virtqueue *vq);

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.features = F(CSUM) | F(GUEST_CSUM) | F(MAC) | F(GUEST_TSO4) |
		    F(GUEST_TSO6) | F(GUEST_ECN) | F(HOST_TSO4) |
		    F(HOST_TSO6) | F(HOST_ECN) | F(STATUS),
	.num_queues = 2,		/* or more: net_add() */
	.service = { net_queue, net_queue },
	.config_size = sizeof(struct virtio_net_config),
	.start = net_start,
	.reset = net_reset,
};

/*L:729 Which queue is which depends on what was negotiated (5.1.2):
 * the control queue is 2 * max_virtqueue_pairs with VIRTIO_NET_F_MQ,
 * else 2.  Queue threads start once the features are settled. */
static void net_queue(struct virtqueue *vq)
{
	struct virtio_dev *d = vq->dev;
	struct net *n = d->priv;
	int ctrl = virtio_has(d, VIRTIO_NET_F_MQ) ? 2 * n->max_pairs : 2;

	if (vq->index == ctrl && virtio_has(d, VIRTIO_NET_F_CTRL_VQ))
		net_ctrl(vq);
	else if (vq->index >= 2 * n->max_pairs)
		return;		/* the control queue's place, unused */
	else if (vq->index % 2)
		net_tx(vq);
	else
		net_rx(vq);
}

/* The @nth NIC (from 1) of the command line: the same on every boot,
 * so nth - 1 names the tap kept across a reboot, and ends the MAC
 * address a NIC gets when none is given.  With several vCPUs, a queue
 * pair per vCPU (up to VIRTIO_MAX_MQ), each on a tap queue of its own. */
static void net_add(struct vm *vm, const char *arg, int nth)
{
	struct net *n = malloc_or_die(sizeof(*n));
	struct tunnet t;
	int pairs = vm->nr_vcpus < VIRTIO_MAX_MQ ? vm->nr_vcpus :
		    VIRTIO_MAX_MQ;

	*n = (struct net){ .ops = net_ops, .pairs = 1,
			   .hdr_len = vm->lgbus ? NET_HDR_LEGACY_LEN :
						  NET_HDR_LEN };
	/* A lguest bus driver (Linux 3.x) given GUEST_TSO without
	 * MRG_RXBUF posts big receive buffers, and its code for those
	 * drops every frame (receive_big() passes a length of 0): so
	 * there, the tap gives it no TSO frames, and it posts small ones. */
	if (vm->lgbus)
		n->ops.features &= ~(F(GUEST_TSO4) | F(GUEST_TSO6) |
				     F(GUEST_ECN));
	tunnet_parse(&t, arg, nth - 1);
	memcpy(n->config.mac, t.mac, sizeof(n->config.mac));
	n->config.status = VIRTIO_NET_S_LINK_UP;
	tap_open(&n->tap, &t, nth - 1, n->hdr_len, pairs);
	n->max_pairs = n->tap.queues;
	if (n->max_pairs > 1) {
		n->ops.features |= F(CTRL_VQ) | F(MQ);
		n->config.max_virtqueue_pairs = n->max_pairs;
		n->ops.num_queues = 2 * n->max_pairs + 1;
		for (int i = 0; i < n->ops.num_queues; i++)
			n->ops.service[i] = net_queue;
	}
	verbose("--tunnet=%s: %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, %d queue "
		"pair%s", arg, n->tap.ifname, n->config.mac[0],
		n->config.mac[1], n->config.mac[2], n->config.mac[3],
		n->config.mac[4], n->config.mac[5], n->max_pairs,
		n->max_pairs > 1 ? "s" : "");
	idle_pairs(n, true);
	virtio_add(vm, &n->ops, n, &n->config);
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
