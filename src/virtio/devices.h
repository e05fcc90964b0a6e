/*
 * devices.h - the virtio devices, one file each, and how main() makes
 * them.  Every constructor runs while the command line is parsed, before
 * the guest does: a bad option value is fatal there, with a message that
 * names it, and never later.
 */
#ifndef LGUEST_VIRTIO_DEVICES_H
#define LGUEST_VIRTIO_DEVICES_H

#include "lguest.h"

/* How many devices the options may ask for: each takes a slot of the
 * PCI bus, which has 32, and the host bridge and the console have two. */
#define MAX_DEVICES		30

/* --block=FILE[,ro]: a disk backed by a file or a block device, the
 * @index'th disk (from 1, in the order given: the same on every boot). */
void blk_add(struct vm *vm, const char *arg, int index);

/* --tunnet=IPADDR[/PREFIX][:MAC], bridge:BR[:MAC] or tap:NAME[:MAC]. */
void net_add(struct vm *vm, const char *arg);

/* --rng: entropy from the host. */
void rng_add(struct vm *vm);

/* The console, always present: guest output goes to @out_fd. */
void console_add(struct vm *vm, int out_fd);

/* Has the guest's driver started the console and asked for input yet? */
bool console_ready(void);

/* Keystrokes for the guest (main thread); kept, within reason, until the
 * driver takes them. */
void console_input(const u8 *buf, size_t len);

#endif
