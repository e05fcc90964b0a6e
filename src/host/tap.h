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

/* A multiqueue tap (IFF_MULTI_QUEUE) has a descriptor per queue, each
 * of them a tap of its own for our purposes; at most this many. */
#define TAP_MAX_QUEUES	16

struct tap {
	int fd[TAP_MAX_QUEUES];	/* non-blocking, queue 0 always attached */
	int queues;
	bool attached[TAP_MAX_QUEUES];	/* does the host steer frames to it? */
	char ifname[IFNAMSIZ];
};

/* Read --tunnet=@arg, IPADDR[/PREFIX][:MAC], bridge:BRIDGE[:MAC] or
 * tap:NAME[:MAC], for the @index'th NIC (from 0): with no MAC given it
 * gets one of its own.  Dies with a message naming @arg if it makes no
 * sense. */
void tunnet_parse(struct tunnet *t, const char *arg, int index);

/* The tap @t asks for, set up, exchanging frames behind virtio-net
 * headers of @hdr_len bytes, with @queues queues (up to TAP_MAX_QUEUES;
 * fewer if someone else's tap has only one: see tap->queues), all of
 * them attached; after a reboot the ones the @index'th NIC kept, as
 * they were left.  Any failure is fatal, and leaves no new tap behind. */
void tap_open(struct tap *tap, const struct tunnet *t, int index,
	      int hdr_len, int queues);

/* Which offloads (TUN_F_*) the tap may use in frames it hands us: for
 * all its queues. */
void tap_set_offload(const struct tap *tap, unsigned off);

/* Let the host steer frames to queue @q (from 1) or stop it doing so
 * (TUNSETQUEUE); false, with errno, if that failed.  @force: whatever
 * we think its state is (after a reboot we do not know). */
bool tap_queue_attach(struct tap *tap, int q, bool on, bool force);

#endif
