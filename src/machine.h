/*
 * machine.h - what a machine is made of: the chips every PC we make has,
 * and the devices the command line can add.
 *
 * Both are listed once, in src/parts.def; adding a chip or a device is a
 * new file and one line there.
 */
#ifndef LGUEST_MACHINE_H
#define LGUEST_MACHINE_H

#include "lguest.h"

/* How many devices the options may ask for: each takes a slot of the
 * PCI bus, where the host bridge and the console have one each. */
#define MAX_DEVICES		(PCI_MAX_SLOTS - 2)

/* A device the command line can add, with the option that adds it. */
struct device_type {
	const char *option;	/* the long option, and lguest.conf(5) key */
	bool has_arg;		/* --option=VALUE, or just --option */
	const char *help;	/* its lines of lguest --help */
	/* Add the @nth (from 1) of its kind, with the option's value (NULL
	 * if it takes none).  Runs before the guest does: a bad value is
	 * fatal here, with a message that names it. */
	void (*add)(struct vm *vm, const char *arg, int nth);
};

/* Every chip's constructor and every device type, from the list. */
#define CHIP(fn)	void fn(struct vm *vm);
#define DEVICE(type)	extern const struct device_type type;
#include "parts.def"
#undef CHIP
#undef DEVICE

/* How many device types the list has. */
enum {
	NR_DEVICE_TYPES = 0
#define CHIP(fn)
#define DEVICE(type)	+ 1
#include "parts.def"
#undef CHIP
#undef DEVICE
};

/* The device types, in src/parts.def order; NULL-terminated. */
extern const struct device_type *const device_types[];

/* Put every chip on @vm, in src/parts.def order. */
void machine_add_chips(struct vm *vm);

#endif
