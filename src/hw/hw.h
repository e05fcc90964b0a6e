/*
 * hw.h - the legacy chips of a PC that a kernel expects to find, one
 * file each: the 8250 UART (serial.c), the i8042 (i8042.c), the
 * MC146818 RTC (rtc.c), the ACPI PM blocks (acpi-pm.c), the pvpanic port
 * (pvpanic.c) and the ports left empty on purpose (ignored.c).  Each is
 * put on the machine from src/parts.def; what else the Launcher asks of
 * them is here.
 */
#ifndef LGUEST_HW_H
#define LGUEST_HW_H

#include "lguest.h"
#include "machine.h"

/* Keystrokes for the 8250 at COM1 (ttyS0). */
void serial_input(struct vm *vm, const u8 *buf, size_t len);

/* Press the guest's power button: an ACPI power-button event. */
void acpi_pm_power_button(struct vm *vm);

#endif
