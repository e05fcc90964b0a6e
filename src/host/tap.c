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
	if (ioctl(tap->fd, TUNSETOFFLOAD, off) < 0)
		warn("virtio-net: %s: cannot set offloads 0x%x", tap->ifname,
		     off);
}

/* Everything below runs at startup: any failure is fatal, and closing
 * the tap's file descriptor on the way out makes a new tap vanish. */

static void __attribute__((noreturn, format(printf, 3, 4)))
fail(const struct tap *tap, bool with_errno, const char *fmt, ...)
{
	int saved = errno;
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tap && tap->fd >= 0)
		close(tap->fd);
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

/* A new tap (or the existing one attached), speaking virtio-net's
 * header, with no offloads until a driver says which it takes. */
static void tap_create(struct tap *tap, const struct tunnet *t, int hdr_len)
{
	struct ifreq ifr;

	tap->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap->fd < 0)
		fail(tap, true, "--tunnet=%s: cannot open /dev/net/tun (is "
		     "the tun module loaded?)", t->arg);
	ifreq_name(&ifr, t->existing ? t->what : "tap%d");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(tap->fd, TUNSETIFF, &ifr) < 0) {
		if (t->existing)
			fail(tap, true, "--tunnet=%s: cannot attach to tap %s "
			     "(make it with: ip tuntap add %s mode tap user "
			     "$USER)", t->arg, t->what, t->what);
		fail(tap, true, "--tunnet=%s: cannot create a tap device (run "
		     "as root, or use --tunnet=tap:NAME with a tap you own)",
		     t->arg);
	}
	snprintf(tap->ifname, sizeof(tap->ifname), "%s", ifr.ifr_name);

	if (ioctl(tap->fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
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
 * someone made for us (no privilege needed if it is ours). */
void tap_open(struct tap *tap, const struct tunnet *t, int index,
	      int hdr_len)
{
	struct ifreq ifr;
	char key[16];

	tap->fd = -1;
	snprintf(key, sizeof(key), "tap%d", index);

	/* Root would create a tap of that name: say it is missing instead. */
	if (t->existing && !if_nametoindex(t->what))
		fail(tap, false, "--tunnet=%s: there is no interface %s; make "
		     "it with: ip tuntap add %s mode tap user $USER", t->arg,
		     t->what, t->what);

	/* After a reboot the tap is still ours, set up as before. */
	tap->fd = handover_fd(key);
	if (tap->fd >= 0) {
		if (ioctl(tap->fd, TUNGETIFF, &ifr) < 0)
			fail(tap, true, "--tunnet=%s: inherited tap: TUNGETIFF",
			     t->arg);
		snprintf(tap->ifname, sizeof(tap->ifname), "%s", ifr.ifr_name);
		return;
	}
	tap_create(tap, t, hdr_len);
	tap_configure(tap, t);
	handover_set_fd(key, tap->fd);
}
