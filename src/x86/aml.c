/*
 * aml.c - the AML encoder: opcodes, names, integers, strings, packages
 * and the resource templates of a _CRS.
 */
#include <stdlib.h>
#include <string.h>

#include "x86/aml.h"

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (n > sizeof(a->buf) - a->len)
		errx(EXIT_ERROR, "DSDT too big");
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, u8 b)
{
	aml_bytes(a, &b, 1);
}

/* A NameString: "\\_SB_", "_HID"; names are padded with '_' to four. */
void aml_name(struct aml *a, const char *name)
{
	char seg[4];
	size_t n;

	if (*name == '\\')
		aml_byte(a, *name++);
	n = strlen(name);
	memset(seg, '_', 4);
	memcpy(seg, name, n < 4 ? n : 4);
	aml_bytes(a, seg, 4);
}

void aml_int(struct aml *a, u32 v)
{
	if (v <= 1) {
		aml_byte(a, v);			/* ZeroOp, OneOp */
	} else if (v <= 0xff) {
		aml_byte(a, 0x0a);		/* BytePrefix */
		aml_byte(a, v);
	} else if (v <= 0xffff) {
		aml_byte(a, 0x0b);		/* WordPrefix */
		aml_bytes(a, &(u16){ v }, 2);
	} else {
		aml_byte(a, 0x0c);		/* DWordPrefix */
		aml_bytes(a, &v, 4);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, 0x0d);			/* StringPrefix */
	aml_bytes(a, s, strlen(s) + 1);
}

/* "PNP0501" packed into the 32-bit EISA id an _HID may hold. */
void aml_eisaid(struct aml *a, const char *id)
{
	u32 v = ((id[0] - '@') << 26) | ((id[1] - '@') << 21) |
		((id[2] - '@') << 16) | (u32)strtol(id + 3, NULL, 16);

	aml_int(a, __builtin_bswap32(v));
}

/* Start a package: returns where its contents begin. */
size_t aml_open(struct aml *a, u8 op, u8 op2)
{
	aml_byte(a, op);
	if (op2)
		aml_byte(a, op2);
	return a->len;
}

/* Insert the PkgLength of everything since aml_open(). */
void aml_close(struct aml *a, size_t start)
{
	size_t body = a->len - start, n, total, i;
	u8 pkg[4];

	for (n = 1; n < 4; n++) {
		total = body + n;
		if (n == 1 ? total < 0x40 : total < 1UL << (4 + 8 * (n - 1)))
			break;
	}
	total = body + n;
	if (n == 1) {
		pkg[0] = total;
	} else {
		pkg[0] = (n - 1) << 6 | (total & 0xf);
		for (i = 1; i < n; i++)
			pkg[i] = total >> (4 + 8 * (i - 1));
	}
	aml_bytes(a, pkg, n);		/* makes room, checks the size */
	memmove(a->buf + start + n, a->buf + start, body);
	memcpy(a->buf + start, pkg, n);
}

/* Name(_CRS, ResourceTemplate() { IO (Decode16, port, port, 1, len)
 * [IO (Decode16, port2, port2, 1, len2)] [IRQNoFlags() { irq }] }) */
void aml_crs_io2(struct aml *a, u16 port, u8 len, u16 port2, u8 len2,
			int irq)
{
	u8 io[] = { 0x47, 1, port, port >> 8, port, port >> 8, 1, len };
	u8 io2[] = { 0x47, 1, port2, port2 >> 8, port2, port2 >> 8, 1, len2 };
	u16 mask = irq >= 0 ? 1u << irq : 0;
	u8 irqd[] = { 0x22, mask, mask >> 8 };
	u8 end[] = { 0x79, 0 };		/* End tag; checksum 0 means none */
	size_t pkg;

	aml_byte(a, 0x08);		/* NameOp */
	aml_name(a, "_CRS");
	pkg = aml_open(a, 0x11, 0);	/* BufferOp */
	aml_int(a, sizeof(io) + (len2 ? sizeof(io2) : 0) +
		   (irq >= 0 ? sizeof(irqd) : 0) + sizeof(end));
	aml_bytes(a, io, sizeof(io));
	if (len2)
		aml_bytes(a, io2, sizeof(io2));
	if (irq >= 0)
		aml_bytes(a, irqd, sizeof(irqd));
	aml_bytes(a, end, sizeof(end));
	aml_close(a, pkg);
}

void aml_crs_io(struct aml *a, u16 port, u8 len, int irq)
{
	aml_crs_io2(a, port, len, 0, 0, irq);
}

/* Device (NAME) { Name (_HID, EisaId (HID)) Name (_CRS, ...) }: a chip at
 * fixed ports, so that its driver binds to it instead of probing. */
void aml_legacy_device(struct aml *a, const char *name,
			      const char *hid, u16 port, u8 len, u16 port2,
			      u8 len2, int irq)
{
	size_t dev = aml_open(a, 0x5b, 0x82);	/* DeviceOp */

	aml_name(a, name);
	aml_byte(a, 0x08);
	aml_name(a, "_HID");
	aml_eisaid(a, hid);
	aml_crs_io2(a, port, len, port2, len2, irq);
	aml_close(a, dev);
}

/* Name (NAME, integer) */
void aml_name_int(struct aml *a, const char *name, u32 v)
{
	aml_byte(a, 0x08);
	aml_name(a, name);
	aml_int(a, v);
}

/* Word and DWord address space descriptors (ACPI 6.4.3.5): the ranges a
 * host bridge passes on to its bus, all fixed, no translation. */
void aml_word_range(struct aml *a, u8 type, u8 tflags, u16 min,
			   u16 max)
{
	u16 len = max - min + 1;
	u8 d[16] = { 0x88, 13, 0, type, 0x0c, tflags, 0, 0,
		     min, min >> 8, max, max >> 8, 0, 0, len, len >> 8 };

	aml_bytes(a, d, sizeof(d));
}

void aml_dword_mem(struct aml *a, u32 min, u32 max)
{
	u32 len = max - min + 1;
	u8 d[26] = { 0x87, 23, 0, 0, 0x0c, 0x01 };	/* read/write */

	memcpy(d + 10, &min, 4);
	memcpy(d + 14, &max, 4);
	memcpy(d + 22, &len, 4);
	aml_bytes(a, d, sizeof(d));
}
