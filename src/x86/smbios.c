/*
 * smbios.c - the SMBIOS (DMI) tables a PC's firmware leaves behind.
 *
 * There is no firmware here, but Linux and its users still ask it who made
 * the machine: the kernel prints "DMI: ..." (and "DMI not present or
 * invalid" without it), dmidecode, udev and systemd-detect-virt read it.
 * A 2.8 entry point in the BIOS area, where a non-UEFI kernel scans for
 * it, and the four structures that describe a machine: BIOS (type 0,
 * marked a virtual machine), system (1), chassis (3) and the end (127).
 */
#include <string.h>

#include "config.h"
#include "lguest.h"
#include "x86/boot.h"
#include "x86/layout.h"

#define SMBIOS_TABLE_MAX	512

struct smbios_entry {		/* the 2.x 32-bit entry point */
	char anchor[4];		/* "_SM_" */
	u8 checksum;
	u8 length;
	u8 major, minor;
	u16 max_struct;
	u8 revision;
	u8 formatted[5];
	char dmi_anchor[5];	/* "_DMI_" */
	u8 dmi_checksum;
	u16 table_length;
	u32 table_address;
	u16 count;
	u8 bcd_revision;
} __attribute__((packed));

struct table {
	u8 *buf;
	size_t len, max_struct;
	u16 count;
};

/* One structure: its formatted part (type, length and handle filled in
 * here), then its strings, each NUL-terminated, then one more NUL. */
static void add(struct table *t, u8 type, void *fmt, u8 len,
		const char *const *strs, int nstr)
{
	u8 *start = t->buf + t->len, *p = start;
	u8 *f = fmt;

	f[0] = type;
	f[1] = len;
	f[2] = t->count;	/* handle */
	f[3] = 0;
	memcpy(p, fmt, len);
	p += len;
	for (int i = 0; i < nstr; i++) {
		size_t n = strlen(strs[i]) + 1;

		memcpy(p, strs[i], n);
		p += n;
	}
	if (!nstr)
		*p++ = 0;	/* no strings: the terminator is two NULs */
	*p++ = 0;
	t->len = p - t->buf;
	if ((size_t)(p - start) > t->max_struct)
		t->max_struct = p - start;
	t->count++;
}

void smbios_build(struct vm *vm)
{
	struct smbios_entry *e = guest_ptr(vm, SMBIOS_START, sizeof(*e));
	u8 *tab = guest_ptr(vm, SMBIOS_START + 32, SMBIOS_TABLE_MAX);
	struct table t = { .buf = tab };
	u8 bios[0x18] = {
		[4] = 1,			/* vendor: string 1 */
		[5] = 2,			/* version: string 2 */
		[6] = 0x00, [7] = 0xe8,		/* start segment 0xe800 */
		[8] = 3,			/* release date: string 3 */
		[10] = 0x08,			/* characteristics not supported */
		[19] = 0x10,			/* ext. 2: a virtual machine */
		[20] = 0xff, [21] = 0xff,	/* no BIOS release number */
		[22] = 0xff, [23] = 0xff,	/* no embedded controller */
	};
	u8 sys[0x1b] = {
		[4] = 1, [5] = 2, [6] = 3,	/* maker, product, version */
		[24] = 6,			/* woken by the power switch */
	};
	u8 chassis[0x15] = {
		[4] = 1,			/* maker */
		[5] = 0x01,			/* type: other */
		[9] = 3, [10] = 3, [11] = 3,	/* boot, power, thermal: safe */
		[12] = 3,			/* security: none */
	};
	u8 end[4];
	const char *bios_strs[] = { "lguest", PACKAGE_VERSION, "01/01/2026" };
	const char *sys_strs[] = { "lguest", "lguest virtual machine",
				   PACKAGE_VERSION };
	const char *chassis_strs[] = { "lguest" };

	if (!e || !tab)
		errx(EXIT_ERROR, "no room for the SMBIOS tables");
	add(&t, 0, bios, sizeof(bios), bios_strs, 3);
	add(&t, 1, sys, sizeof(sys), sys_strs, 3);
	add(&t, 3, chassis, sizeof(chassis), chassis_strs, 1);
	add(&t, 127, end, sizeof(end), NULL, 0);

	memset(e, 0, sizeof(*e));
	memcpy(e->anchor, "_SM_", 4);
	e->length = 0x1f;
	e->major = 2;
	e->minor = 8;
	e->max_struct = t.max_struct;
	memcpy(e->dmi_anchor, "_DMI_", 5);
	e->table_length = t.len;
	e->table_address = SMBIOS_START + 32;
	e->count = t.count;
	e->bcd_revision = 0x28;
	e->dmi_checksum = table_checksum(e->dmi_anchor, 15);
	e->checksum = table_checksum(e, sizeof(*e));
	verbose("smbios: entry point at 0x%x, %u structures",
		SMBIOS_START, t.count);
}
