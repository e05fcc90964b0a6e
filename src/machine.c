/*
 * machine.c - the machine's parts, from the one list in parts.def.
 */
#include "machine.h"

void machine_add_chips(struct vm *vm)
{
#define CHIP(fn)	fn(vm);
#define DEVICE(type)
#include "parts.def"
#undef CHIP
#undef DEVICE
}

const struct device_type *const device_types[] = {
#define CHIP(fn)
#define DEVICE(type)	&type,
#include "parts.def"
#undef CHIP
#undef DEVICE
	NULL
};
