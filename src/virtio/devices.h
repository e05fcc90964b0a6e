/*
 * devices.h - the virtio devices, one file each, and how main() makes
 * them.  Every constructor runs while the command line is parsed, before
 * the guest does: a bad option value is fatal there, with a message that
 * names it, and never later.
 */
#ifndef LGUEST_VIRTIO_DEVICES_H
#define LGUEST_VIRTIO_DEVICES_H

#include "lguest.h"
#include "machine.h"

/* --block=FILE[,ro]: a disk backed by a file or a block device. */
void blk_add(struct vm *vm, const char *arg);

/* --tunnet=IPADDR[/PREFIX][:MAC], bridge:BR[:MAC] or tap:NAME[:MAC]. */
void net_add(struct vm *vm, const char *arg);

/* The console, always present: guest output goes to @out_fd. */
void console_add(struct vm *vm, int out_fd);

/* Has the guest's driver started the console and asked for input yet? */
bool console_ready(struct vm *vm);

/* Keystrokes for the guest (main thread); kept, within reason, until the
 * driver takes them. */
void console_input(struct vm *vm, const u8 *buf, size_t len);

#endif
