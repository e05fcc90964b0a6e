/*
 * pvpanic.c - the guest tells us it panicked.
 *
 * QEMU's pvpanic ISA device: one port; reading it shows which events we
 * understand, writing bit 0 says "I panicked".  Linux's pvpanic driver
 * finds it through the DSDT (_HID QEMU0001).  A panicked guest is a
 * crashed guest: the Launcher stops with EXIT_CRASH.
 */
#include "hw/hw.h"
#include "x86/layout.h"

#define PVPANIC_PANICKED	0x01

static void pvpanic_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	if (!write) {
		data[0] = PVPANIC_PANICKED;
		return;
	}
	if (data[0] & PVPANIC_PANICKED) {
		warnx("guest panicked");
		vm_stop(STOP_CRASH);
	}
}

void pvpanic_init(struct vm *vm)
{
	pio_register(vm, PORT_PVPANIC, 1, pvpanic_io, NULL);
}
