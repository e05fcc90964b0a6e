/*
 * hw.h - the legacy chips of a PC that a kernel expects to find.
 */
#ifndef LGUEST_HW_H
#define LGUEST_HW_H

#include "lguest.h"

/* 8250 UART at COM1: output to the console, input pushed by it. */
void serial_init(struct vm *vm);
void serial_input(struct vm *vm, const u8 *buf, size_t len);

/* i8042 keyboard controller: only what reboot and probing need. */
void i8042_init(struct vm *vm);

/* ACPI PM1 event/control blocks, PM timer and the reset register. */
void acpi_pm_init(struct vm *vm);
void acpi_pm_power_button(struct vm *vm);

/* MC146818 real-time clock and CMOS RAM. */
void rtc_init(struct vm *vm);

/* Ports a kernel probes that are deliberately empty. */
void ignored_init(struct vm *vm);

/* QEMU-compatible pvpanic port. */
void pvpanic_init(struct vm *vm);

#endif
