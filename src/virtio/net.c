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
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iov.h"
#include "virtio/devices.h"
#include "virtio/virtio.h"

/* struct virtio_net_hdr_v1: num_buffers is its last field. */
#define NET_HDR_LEN			12
#define NET_HDR_NUM_BUFFERS		10

#define F(bit)				(1ULL << VIRTIO_NET_F_##bit)

struct virtio_net_config {
	u8 mac[6];
	u16 status;
} __attribute__((packed));

struct net {
	int fd;				/* the tap, non-blocking */
	char ifname[IFNAMSIZ];
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
	if (ioctl(n->fd, TUNSETOFFLOAD, off) < 0)
		warn("virtio-net: %s: cannot set offloads 0x%x", n->ifname, off);
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
		{ .fd = n->fd, .events = POLLIN },
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
			warnx("virtio-net: %s has gone away", n->ifname);
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
			len = readv(n->fd, iov, in);
			if (len >= 0)
				break;
			/* EFAULT: a frame too big for the buffer, which
			 * the tap has dropped. */
			if (errno != EAGAIN && errno != EINTR &&
			    errno != EFAULT)
				warn("virtio-net: %s: read", n->ifname);
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
		if (in || len < NET_HDR_LEN) {
			virtio_broken(vq->dev, "transmit buffer of %zu "
				      "readable bytes and %u writable buffers",
				      len, in);
			return;
		}
		while (writev(n->fd, iov, out) < 0 && errno == EINTR)
			;
		vq_push(vq, head, 0);
	}
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = 0x020000,		/* Ethernet controller */
	.features = F(CSUM) | F(GUEST_CSUM) | F(MAC) | F(GUEST_TSO4) |
		    F(GUEST_TSO6) | F(GUEST_ECN) | F(HOST_TSO4) |
		    F(HOST_TSO6) | F(HOST_ECN) | F(STATUS),
	.num_queues = 2,
	.service = { net_rx, net_tx },
	.config_size = sizeof(struct virtio_net_config),
	.start = net_start,
	.reset = net_reset,
};

/* Everything below runs at startup: any failure is fatal, and closing
 * the tap's file descriptor on the way out makes a new tap vanish. */

static void __attribute__((noreturn, format(printf, 3, 4)))
fail(struct net *n, bool with_errno, const char *fmt, ...)
{
	int saved = errno;
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n->fd >= 0)
		close(n->fd);
	if (with_errno)
		errx(EXIT_ERROR, "%s: %s", msg, strerror(saved));
	errx(EXIT_ERROR, "%s", msg);
}

static bool parse_mac(const char *s, u8 mac[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &end) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = v[i];
	return !(mac[0] & 1);		/* not a multicast address */
}

/* A locally administered unicast address nobody else has chosen. */
/* No MAC given: a locally administered one made from our PID and the
 * NIC's number, so it stays the same across reboots (same PID). */
static void default_mac(u8 mac[6], int index)
{
	u32 pid = getpid();

	mac[0] = 0x02;
	mac[1] = 0x6c;			/* 'l' */
	mac[2] = pid >> 16;
	mac[3] = pid >> 8;
	mac[4] = pid;
	mac[5] = index;
}

static void ifreq_name(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
}

/* Bring an interface up, through @sock. */
static int if_up(int sock, const char *name)
{
	struct ifreq ifr;

	ifreq_name(&ifr, name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

static void set_addr(struct net *n, int sock, const char *arg,
		     struct in_addr ip, unsigned prefix)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct ifreq ifr;

	ifreq_name(&ifr, n->ifname);
	sin.sin_addr = ip;
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
		fail(n, true, "--tunnet=%s: cannot give %s its address",
		     arg, n->ifname);
	sin.sin_addr.s_addr = prefix ? htonl(~0U << (32 - prefix)) : 0;
	memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
	if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
		fail(n, true, "--tunnet=%s: cannot set the netmask of %s",
		     arg, n->ifname);
}

/*L:726 Three ways to reach the network: a new tap with an address on our
 * side (the guest routes through the host), a new tap in an existing
 * bridge (the guest sits on the bridge's network), or a persistent tap
 * someone made for us (no privilege needed if it is ours). */
void net_add(struct vm *vm, const char *arg)
{
	struct net *n = malloc_or_die(sizeof(*n));
	char what[64] = "", *colon, *slash;
	const char *rest = arg, *mac = NULL;
	bool bridge = false, existing = false;
	struct in_addr ip = { 0 };
	unsigned long prefix = 24;
	struct ifreq ifr;
	static int nics;
	char key[16];
	int sock;

	n->fd = -1;
	snprintf(key, sizeof(key), "tap%d", nics);
	if (!strncmp(arg, "bridge:", 7)) {
		bridge = true;
		rest = arg + 7;
	} else if (!strncmp(arg, "tap:", 4)) {
		existing = true;
		rest = arg + 4;
	}
	snprintf(what, sizeof(what), "%s", rest);
	colon = strchr(what, ':');
	if (colon) {
		*colon = '\0';
		mac = rest + (colon - what) + 1;
	}
	if (mac && !parse_mac(mac, n->config.mac))
		fail(n, false, "--tunnet=%s: '%s' is not a unicast MAC address; "
		     "give six hex bytes like 52:54:00:12:34:56", arg, mac);
	if (!mac)
		default_mac(n->config.mac, nics);
	n->config.status = VIRTIO_NET_S_LINK_UP;

	if ((bridge || existing) && (!what[0] || strlen(what) >= IFNAMSIZ))
		fail(n, false, "--tunnet=%s: '%s' is not an interface name",
		     arg, what);
	if (!bridge && !existing) {
		slash = strchr(what, '/');
		if (slash) {
			*slash++ = '\0';
			prefix = strtoul(slash, &colon, 10);
			if (!*slash || *colon || prefix < 1 || prefix > 32)
				fail(n, false, "--tunnet=%s: bad prefix length "
				     "'%s'; give 1 to 32, e.g. 10.0.2.1/24",
				     arg, slash);
		}
		if (inet_pton(AF_INET, what, &ip) != 1)
			fail(n, false, "--tunnet=%s: '%s' is not an IPv4 "
			     "address; give e.g. --tunnet=10.0.2.1/24, "
			     "bridge:BRIDGE or tap:NAME", arg, what);
	}

	/* Root would create a tap of that name: say it is missing instead. */
	if (existing && !if_nametoindex(what))
		fail(n, false, "--tunnet=%s: there is no interface %s; make "
		     "it with: ip tuntap add %s mode tap user $USER", arg, what,
		     what);

	/* After a reboot the tap is still ours, set up as before. */
	n->fd = fd_kept(key);
	if (n->fd >= 0) {
		if (ioctl(n->fd, TUNGETIFF, &ifr) < 0)
			fail(n, true, "--tunnet=%s: inherited tap: TUNGETIFF", arg);
		snprintf(n->ifname, sizeof(n->ifname), "%s", ifr.ifr_name);
		goto out;
	}
	n->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->fd < 0)
		fail(n, true, "--tunnet=%s: cannot open /dev/net/tun (is the "
		     "tun module loaded?)", arg);
	ifreq_name(&ifr, existing ? what : "tap%d");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(n->fd, TUNSETIFF, &ifr) < 0) {
		if (existing)
			fail(n, true, "--tunnet=%s: cannot attach to tap %s "
			     "(make it with: ip tuntap add %s mode tap user "
			     "$USER)", arg, what, what);
		fail(n, true, "--tunnet=%s: cannot create a tap device (run "
		     "as root, or use --tunnet=tap:NAME with a tap you own)",
		     arg);
	}
	snprintf(n->ifname, sizeof(n->ifname), "%s", ifr.ifr_name);

	if (ioctl(n->fd, TUNSETVNETHDRSZ, &(int){ NET_HDR_LEN }) < 0)
		fail(n, true, "--tunnet=%s: %s cannot take 12-byte virtio "
		     "headers", arg, n->ifname);
	set_offload(n, NULL);

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		fail(n, true, "--tunnet=%s: socket", arg);
	if (bridge) {
		ifreq_name(&ifr, what);
		ifr.ifr_ifindex = if_nametoindex(n->ifname);
		if (!ifr.ifr_ifindex || ioctl(sock, SIOCBRADDIF, &ifr) < 0) {
			close(sock);
			fail(n, true, "--tunnet=%s: cannot add %s to bridge "
			     "%s (does it exist? ip link add %s type bridge)",
			     arg, n->ifname, what, what);
		}
	} else if (!existing) {
		set_addr(n, sock, arg, ip, prefix);
	}
	if (if_up(sock, n->ifname) < 0) {
		if (!existing) {
			close(sock);
			fail(n, true, "--tunnet=%s: cannot bring %s up", arg,
			     n->ifname);
		}
		warn("--tunnet=%s: %s is down and we cannot bring it up "
		     "(ip link set %s up)", arg, n->ifname, n->ifname);
	}
	close(sock);
	fd_keep(key, n->fd);
out:
	nics++;
	verbose("--tunnet=%s: %s, MAC %02x:%02x:%02x:%02x:%02x:%02x", arg,
		n->ifname, n->config.mac[0], n->config.mac[1], n->config.mac[2],
		n->config.mac[3], n->config.mac[4], n->config.mac[5]);
	virtio_add(vm, &net_ops, n, &n->config);
}
