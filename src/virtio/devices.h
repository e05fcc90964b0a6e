/*
 * devices.h - the virtio console, which every machine has, and what the
 * main loop asks of it.  The devices the command line adds are device
 * types (machine.h), listed in src/parts.def.
 */
#ifndef LGUEST_VIRTIO_DEVICES_H
#define LGUEST_VIRTIO_DEVICES_H

#include "lguest.h"
#include "machine.h"

/* The console, always present: guest output goes to @out_fd. */
void console_add(struct vm *vm, int out_fd);

/* Has the guest's driver started the console and asked for input yet? */
bool console_ready(struct vm *vm);

/* Keystrokes for the guest (main thread); kept, within reason, until the
 * driver takes them. */
void console_input(struct vm *vm, const u8 *buf, size_t len);

#endif
