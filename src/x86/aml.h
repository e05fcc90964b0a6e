/*
 * aml.h - writing ACPI Machine Language, the DSDT's byte code, by hand.
 */
#ifndef LGUEST_X86_AML_H
#define LGUEST_X86_AML_H

#include "lguest.h"

/*L:210 AML, the byte code of the DSDT, is written here by hand.  Most of
 * it is opcodes and four-letter names; the one subtle part is PkgLength,
 * the length prefix of every Scope, Device, Buffer and Package, which
 * counts its own bytes and grows from one to four of them.  So we write a
 * package's contents first, then slide them up to make room for its
 * length. */
struct aml {
	u8 buf[8192];
	size_t len;
};

void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, u8 b);
/* A NameString: "\\_SB_", "_HID"; names are padded with '_' to four. */
void aml_name(struct aml *a, const char *name);
void aml_int(struct aml *a, u32 v);
void aml_string(struct aml *a, const char *s);
/* "PNP0501" packed into the 32-bit EISA id an _HID may hold. */
void aml_eisaid(struct aml *a, const char *id);
/* Start a package: returns where its contents begin. */
size_t aml_open(struct aml *a, u8 op, u8 op2);
/* Insert the PkgLength of everything since aml_open(). */
void aml_close(struct aml *a, size_t start);
/* Name(_CRS, ResourceTemplate() { IO (Decode16, port, port, 1, len)
 * [IO (Decode16, port2, port2, 1, len2)] [IRQNoFlags() { irq }] }) */
void aml_crs_io2(struct aml *a, u16 port, u8 len, u16 port2, u8 len2,
		 int irq);
void aml_crs_io(struct aml *a, u16 port, u8 len, int irq);
/* Device (NAME) { Name (_HID, EisaId (HID)) Name (_CRS, ...) }: a chip at
 * fixed ports, so that its driver binds to it instead of probing. */
void aml_legacy_device(struct aml *a, const char *name, const char *hid,
		       u16 port, u8 len, u16 port2, u8 len2, int irq);
/* Name (NAME, integer) */
void aml_name_int(struct aml *a, const char *name, u32 v);
/* Word and DWord address space descriptors (ACPI 6.4.3.5): the ranges a
 * host bridge passes on to its bus, all fixed, no translation. */
void aml_word_range(struct aml *a, u8 type, u8 tflags, u16 min, u16 max);
void aml_dword_mem(struct aml *a, u32 min, u32 max);

#endif
