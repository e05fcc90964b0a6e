/*
 * layout.h - where things live in the guest's "physical" memory and I/O
 * space.  One place, so the loader, the ACPI tables, the chips and the
 * test guest agree.
 */
#ifndef LGUEST_X86_LAYOUT_H
#define LGUEST_X86_LAYOUT_H

/* The interrupt lines of the chips at the ports below. */
#include "x86/irq.h"

/* Low memory, below 1 MiB, written by the Launcher before the guest runs. */
#define BOOT_GDT		0x0500	/* flat GDT: 0x10 code, 0x18 data */
#define BOOT_PARAMS		0x7000	/* struct boot_params, the "zero page" */
#define BOOT_PML4		0x9000	/* identity page tables for 0..4 GiB: */
#define BOOT_PDPT		0xa000	/*   PML4, PDPT and four page directories */
#define BOOT_PD			0xb000	/*   of 2 MiB pages at 0xb000..0xefff */
#define BOOT_STACK		0x8000	/* initial stack pointer */
#define BOOT_CMDLINE		0x20000	/* kernel command line */
#define BOOT_CMDLINE_MAX	0x10000	/* including the NUL */

/* The top of conventional memory: an EBDA-sized hole, then the BIOS area. */
#define EBDA_START		0x9fc00
#define EBDA_END		0xa0000
#define BIOS_START		0xe0000	/* ACPI tables live here, RSDP first */
#define ACPI_RSDP		BIOS_START
#define BIOS_END		0x100000
#define SMBIOS_START		0xf0000	/* where a kernel scans for "_SM_" */

#define KERNEL_LOAD		0x100000	/* where a bzImage's 32/64-bit part goes */

/* The 32-bit hole for devices: RAM beyond it continues at 4 GiB. */
#define PCI_HOLE_START		0xc0000000ULL
#define PCI_MMIO_START		0xc0000000ULL	/* BARs are placed from here */
#define PCI_MMIO_END		0xfec00000ULL
#define IOAPIC_BASE		0xfec00000ULL
#define LAPIC_BASE		0xfee00000ULL

/* Legacy I/O ports. */
#define PORT_I8042_DATA		0x60
#define PORT_I8042_CMD		0x64
#define PORT_PVPANIC		0x505	/* QEMU's pvpanic: write 1 on panic */
#define PORT_PM1A_EVT		0x600	/* PM1a status (2) + enable (2) */
#define PORT_PM1A_CNT		0x604	/* PM1a control (2) */
#define PORT_PM_TMR		0x608	/* ACPI PM timer (4) */
#define PORT_RESET		0xcf9	/* FADT reset register: write 0x06 */
#define PORT_COM1		0x3f8
#define PORT_RTC_INDEX		0x70	/* MC146818: index, then data at 0x71 */
#define RTC_CENTURY_REG		0x32	/* CMOS byte the FADT names */

/* SLP_TYP value our DSDT's \_S5 package names, written to PM1a_CNT. */
#define ACPI_S5_SLP_TYP		5
#define ACPI_SLP_EN		(1 << 13)
#define ACPI_SCI_EN		(1 << 0)
#define ACPI_PWRBTN_STS		(1 << 8)

#endif
