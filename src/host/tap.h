/*
 * tap.h - the host's end of a guest's network: a tap device, with an
 * address, in a bridge, or made by someone else.
 *
 * Everything here is about the host's interfaces; what the guest sees
 * of the tap is virtio-net's business (virtio/net.c).
 */
#ifndef LGUEST_HOST_TAP_H
#define LGUEST_HOST_TAP_H

#include <net/if.h>
#include <netinet/in.h>

#include "lguest.h"

/* What --tunnet= asked for. */
struct tunnet {
	const char *arg;	/* the whole value, for messages */
	bool bridge;		/* bridge:BRIDGE: a new tap in that bridge */
	bool existing;		/* tap:NAME: a tap someone made for us */
	char what[64];		/* the address, the bridge or the tap */
	/* IPADDR[/PREFIX]: a new tap, with this address on our side. */
	struct in_addr ip;
	unsigned prefix;
	u8 mac[6];		/* the guest's */
};

struct tap {
	int fd;			/* non-blocking */
	char ifname[IFNAMSIZ];
};

/* Read --tunnet=@arg, IPADDR[/PREFIX][:MAC], bridge:BRIDGE[:MAC] or
 * tap:NAME[:MAC], for the @index'th NIC (from 0): with no MAC given it
 * gets one of its own.  Dies with a message naming @arg if it makes no
 * sense. */
void tunnet_parse(struct tunnet *t, const char *arg, int index);

/* The tap @t asks for, set up, exchanging frames behind virtio-net
 * headers of @hdr_len bytes; after a reboot the one the @index'th NIC
 * kept.  Any failure is fatal, and leaves no new tap behind. */
void tap_open(struct tap *tap, const struct tunnet *t, int index,
	      int hdr_len);

/* Which offloads (TUN_F_*) the tap may use in frames it hands us. */
void tap_set_offload(const struct tap *tap, unsigned off);

#endif
