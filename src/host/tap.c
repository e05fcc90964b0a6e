/*
 * tap.c - the host's end of a guest's network.
 *
 * A tap is a network interface on the host whose other end is a file
 * descriptor: the guest's frames come out of it, where the usual tools
 * (addresses, bridges, iptables) take over.  This is where the tap is
 * made or found, given an address or put in a bridge, and brought up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handover.h"
#include "host/tap.h"

void tap_set_offload(const struct tap *tap, unsigned off)
{
	if (ioctl(tap->fd[0], TUNSETOFFLOAD, off) < 0)
		warn("virtio-net: %s: cannot set offloads 0x%x", tap->ifname,
		     off);
}

/*L:728 A queue the driver does not use must not get frames: the host
 * would steer some flows to it and nobody would read them.  So it is
 * detached (the descriptor stays ours), and attached again when the
 * driver asks for more queue pairs.  The kernel says EINVAL for a queue
 * already in the state asked for: after a reboot we do not know which
 * state they were left in, so then that is no failure. */
bool tap_queue_attach(struct tap *tap, int q, bool on, bool force)
{
	struct ifreq ifr;

	if (!force && tap->attached[q] == on)
		return true;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(tap->fd[q], TUNSETQUEUE, &ifr) < 0 &&
	    !(force && errno == EINVAL))
		return false;
	tap->attached[q] = on;
	return true;
}

/* Everything below runs at startup: any failure is fatal, and closing
 * the tap's file descriptors on the way out makes a new tap vanish (a
 * tap we made lives as long as one of its queues is open). */

static void __attribute__((noreturn, format(printf, 3, 4)))
fail(const struct tap *tap, bool with_errno, const char *fmt, ...)
{
	int saved = errno;
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (int q = 0; tap && q < TAP_MAX_QUEUES; q++)
		if (tap->fd[q] >= 0)
			close(tap->fd[q]);
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

/* No MAC given: a locally administered unicast address nobody else has
 * chosen, made from our PID and the NIC's number, so it stays the same
 * across reboots (same PID). */
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

/* IPADDR[/PREFIX], in t->what. */
static void parse_addr(struct tunnet *t)
{
	char *slash = strchr(t->what, '/'), *end;
	unsigned long prefix = 24;

	if (slash) {
		*slash++ = '\0';
		prefix = strtoul(slash, &end, 10);
		if (!*slash || *end || prefix < 1 || prefix > 32)
			fail(NULL, false, "--tunnet=%s: bad prefix length "
			     "'%s'; give 1 to 32, e.g. 10.0.2.1/24", t->arg,
			     slash);
	}
	t->prefix = prefix;
	if (inet_pton(AF_INET, t->what, &t->ip) != 1)
		fail(NULL, false, "--tunnet=%s: '%s' is not an IPv4 "
		     "address; give e.g. --tunnet=10.0.2.1/24, "
		     "bridge:BRIDGE or tap:NAME", t->arg, t->what);
}

void tunnet_parse(struct tunnet *t, const char *arg, int index)
{
	const char *rest = arg, *mac = NULL;
	char *colon;

	*t = (struct tunnet){ .arg = arg };
	if (!strncmp(arg, "bridge:", 7)) {
		t->bridge = true;
		rest = arg + 7;
	} else if (!strncmp(arg, "tap:", 4)) {
		t->existing = true;
		rest = arg + 4;
	}
	snprintf(t->what, sizeof(t->what), "%s", rest);
	colon = strchr(t->what, ':');
	if (colon) {
		*colon = '\0';
		mac = rest + (colon - t->what) + 1;
	}
	if (mac && !parse_mac(mac, t->mac))
		fail(NULL, false, "--tunnet=%s: '%s' is not a unicast MAC "
		     "address; give six hex bytes like 52:54:00:12:34:56",
		     arg, mac);
	if (!mac)
		default_mac(t->mac, index);

	if ((t->bridge || t->existing) &&
	    (!t->what[0] || strlen(t->what) >= IFNAMSIZ))
		fail(NULL, false, "--tunnet=%s: '%s' is not an interface name",
		     arg, t->what);
	if (!t->bridge && !t->existing)
		parse_addr(t);
}

/* A request about interface @name (its first IFNAMSIZ - 1 bytes). */
static void ifreq_name(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, name, strnlen(name, IFNAMSIZ - 1));
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

static void set_addr(const struct tap *tap, int sock, const struct tunnet *t)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct ifreq ifr;

	ifreq_name(&ifr, tap->ifname);
	sin.sin_addr = t->ip;
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
		fail(tap, true, "--tunnet=%s: cannot give %s its address",
		     t->arg, tap->ifname);
	sin.sin_addr.s_addr = t->prefix ? htonl(~0U << (32 - t->prefix)) : 0;
	memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
	if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
		fail(tap, true, "--tunnet=%s: cannot set the netmask of %s",
		     t->arg, tap->ifname);
}

/* Queue @q of the tap called @name (a pattern like "tap%d" makes a new
 * one), with @flags; its name in tap->ifname.  -1 with errno if the
 * kernel says no. */
static int tap_queue(struct tap *tap, int q, const char *name, short flags)
{
	struct ifreq ifr;

	if (tap->fd[q] < 0)
		tap->fd[q] = open("/dev/net/tun",
				  O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap->fd[q] < 0)
		return -1;
	ifreq_name(&ifr, name);
	ifr.ifr_flags = flags;
	if (ioctl(tap->fd[q], TUNSETIFF, &ifr) < 0)
		return -1;
	snprintf(tap->ifname, sizeof(tap->ifname), "%s", ifr.ifr_name);
	tap->attached[q] = true;
	return 0;
}

/* A new tap (or the existing one attached), speaking virtio-net's
 * header, with no offloads until a driver says which it takes.  More
 * than one queue: IFF_MULTI_QUEUE, and a descriptor per queue, each
 * attached by name.  Someone else's tap was made with or without
 * multi_queue, and the kernel wants us to say the same: if it says no,
 * we try the other way, and a single-queue tap gets one queue. */
static void tap_create(struct tap *tap, const struct tunnet *t, int hdr_len,
		       int queues)
{
	short flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	short mq = queues > 1 ? IFF_MULTI_QUEUE : 0;
	int r;

	r = tap_queue(tap, 0, t->existing ? t->what : "tap%d", flags | mq);
	if (r < 0 && tap->fd[0] < 0)
		fail(tap, true, "--tunnet=%s: cannot open /dev/net/tun (is "
		     "the tun module loaded?)", t->arg);
	if (r < 0 && t->existing && errno == EINVAL) {
		mq ^= IFF_MULTI_QUEUE;
		r = tap_queue(tap, 0, t->what, flags | mq);
		if (r == 0 && !mq && queues > 1)
			warnx("--tunnet=%s: %s has a single queue: one queue "
			      "pair for %d vCPUs (ip tuntap add %s mode tap "
			      "multi_queue makes one with more)", t->arg,
			      t->what, queues, t->what);
		if (!mq)
			queues = 1;
	}
	if (r < 0) {
		if (t->existing)
			fail(tap, true, "--tunnet=%s: cannot attach to tap %s "
			     "(make it with: ip tuntap add %s mode tap user "
			     "$USER)", t->arg, t->what, t->what);
		fail(tap, true, "--tunnet=%s: cannot create a tap device (run "
		     "as root, or use --tunnet=tap:NAME with a tap you own)",
		     t->arg);
	}
	for (tap->queues = 1; tap->queues < queues; tap->queues++)
		if (tap_queue(tap, tap->queues, tap->ifname, flags | mq) < 0)
			fail(tap, true, "--tunnet=%s: cannot open queue %d of "
			     "%s", t->arg, tap->queues, tap->ifname);

	if (ioctl(tap->fd[0], TUNSETVNETHDRSZ, &hdr_len) < 0)
		fail(tap, true, "--tunnet=%s: %s cannot take %d-byte virtio "
		     "headers", t->arg, tap->ifname, hdr_len);
	tap_set_offload(tap, 0);
}

/* Into the bridge, or an address on our side; then up.  Someone else's
 * tap is theirs to configure: if it is down, we only say so. */
static void tap_configure(const struct tap *tap, const struct tunnet *t)
{
	struct ifreq ifr;
	int sock;

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		fail(tap, true, "--tunnet=%s: socket", t->arg);
	if (t->bridge) {
		ifreq_name(&ifr, t->what);
		ifr.ifr_ifindex = if_nametoindex(tap->ifname);
		if (!ifr.ifr_ifindex || ioctl(sock, SIOCBRADDIF, &ifr) < 0) {
			close(sock);
			fail(tap, true, "--tunnet=%s: cannot add %s to bridge "
			     "%s (does it exist? ip link add %s type bridge)",
			     t->arg, tap->ifname, t->what, t->what);
		}
	} else if (!t->existing) {
		set_addr(tap, sock, t);
	}
	if (if_up(sock, tap->ifname) < 0) {
		if (!t->existing) {
			close(sock);
			fail(tap, true, "--tunnet=%s: cannot bring %s up",
			     t->arg, tap->ifname);
		}
		warn("--tunnet=%s: %s is down and we cannot bring it up "
		     "(ip link set %s up)", t->arg, tap->ifname, tap->ifname);
	}
	close(sock);
}

/*L:726 Three ways to reach the network: a new tap with an address on our
 * side (the guest routes through the host), a new tap in an existing
 * bridge (the guest sits on the bridge's network), or a persistent tap
 * someone made for us (no privilege needed if it is ours).  Each queue's
 * descriptor is kept across a reboot: "tapN" for the first, as it
 * always was, "tapN.Q" for the others. */
void tap_open(struct tap *tap, const struct tunnet *t, int index,
	      int hdr_len, int queues)
{
	struct ifreq ifr;
	char key[24];

	for (int q = 0; q < TAP_MAX_QUEUES; q++)
		tap->fd[q] = -1;
	tap->queues = 0;
	if (queues > TAP_MAX_QUEUES)
		queues = TAP_MAX_QUEUES;

	/* Root would create a tap of that name: say it is missing instead. */
	if (t->existing && !if_nametoindex(t->what))
		fail(tap, false, "--tunnet=%s: there is no interface %s; make "
		     "it with: ip tuntap add %s mode tap user $USER", t->arg,
		     t->what, t->what);

	/* After a reboot the tap is still ours, set up as before, with as
	 * many queues as the first image could open. */
	snprintf(key, sizeof(key), "tap%d", index);
	tap->fd[0] = handover_fd(key);
	if (tap->fd[0] >= 0) {
		if (ioctl(tap->fd[0], TUNGETIFF, &ifr) < 0)
			fail(tap, true, "--tunnet=%s: inherited tap: TUNGETIFF",
			     t->arg);
		snprintf(tap->ifname, sizeof(tap->ifname), "%s", ifr.ifr_name);
		tap->attached[0] = true;
		for (tap->queues = 1; tap->queues < queues; tap->queues++) {
			snprintf(key, sizeof(key), "tap%d.%d", index,
				 tap->queues);
			tap->fd[tap->queues] = handover_fd(key);
			if (tap->fd[tap->queues] < 0)
				break;
		}
		return;
	}
	tap_create(tap, t, hdr_len, queues);
	tap_configure(tap, t);
	for (int q = 0; q < tap->queues; q++) {
		if (q)
			snprintf(key, sizeof(key), "tap%d.%d", index, q);
		handover_set_fd(key, tap->fd[q]);
	}
}
