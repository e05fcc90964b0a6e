/*
 * bootparams.c - reading the "zero page" the Launcher fills, as the x86
 * boot protocol lays it out (Documentation/arch/x86/zero-page.rst and
 * boot.rst), and the key=value words of the command line.
 */
#include "guest.h"

/* Offsets into struct boot_params. */
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_RAMDISK_IMAGE	0x218	/* in the setup header, from 0x1f1 */
#define BP_RAMDISK_SIZE		0x21c
#define BP_CMD_LINE_PTR		0x228
#define BP_E820_TABLE		0x2d0
#define E820_MAX_ENTRIES	128	/* room in the zero page */
#define E820_ENTRY_SIZE		20	/* packed: addr u64, size u64, type u32 */

struct boot_info boot;
static const u8 *zero_page;

/* The command line, split: words[] point into a private copy. */
#define MAX_WORDS	64
static char cmdline_copy[4096];
static const char *keys[MAX_WORDS], *values[MAX_WORDS];
static int nwords;

static void args_parse(const char *cmdline)
{
	char *p = cmdline_copy;
	size_t len = strlen(cmdline);

	if (len >= sizeof(cmdline_copy))
		len = sizeof(cmdline_copy) - 1;
	memcpy(cmdline_copy, cmdline, len);
	cmdline_copy[len] = '\0';

	while (*p && nwords < MAX_WORDS) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		keys[nwords] = p;
		values[nwords] = NULL;
		while (*p && *p != ' ') {
			if (*p == '=' && !values[nwords]) {
				*p = '\0';
				values[nwords] = p + 1;
			}
			p++;
		}
		if (*p)
			*p++ = '\0';
		if (!values[nwords])
			values[nwords] = "";	/* a bare word is key="" */
		nwords++;
	}
}

/* Like the kernel, the last of repeated keys wins. */
const char *arg(const char *key)
{
	for (int i = nwords - 1; i >= 0; i--)
		if (!strcmp(keys[i], key))
			return values[i];
	return NULL;
}

/* Decimal or 0x-hex, with an optional K/M/G suffix; def when absent. */
u64 arg_u64(const char *key, u64 def)
{
	const char *s = arg(key);
	unsigned base = 10;
	u64 v = 0;

	if (!s || !*s)
		return def;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		v = v * base + d;
	}
	switch (*s) {
	case 'G': case 'g': v <<= 10;	/* fall through */
	case 'M': case 'm': v <<= 10;	/* fall through */
	case 'K': case 'k': v <<= 10;
	}
	return v;
}

void boot_params_read(u64 bp)
{
	u64 cmd;

	zero_page = phys(bp);
	cmd = rd32(zero_page + BP_CMD_LINE_PTR) |
	      (u64)rd32(zero_page + BP_EXT_CMD_LINE_PTR) << 32;
	boot.cmdline = cmd && cmd < MAPPED_END ? phys(cmd) : "";
	args_parse(boot.cmdline);

	boot.initrd_addr = rd32(zero_page + BP_RAMDISK_IMAGE) |
			   (u64)rd32(zero_page + BP_EXT_RAMDISK_IMAGE) << 32;
	boot.initrd_size = rd32(zero_page + BP_RAMDISK_SIZE) |
			   (u64)rd32(zero_page + BP_EXT_RAMDISK_SIZE) << 32;
}

static const char *e820_type(u32 type)
{
	switch (type) {
	case 1: return "usable";
	case 2: return "reserved";
	case 3: return "ACPI data";
	case 4: return "ACPI NVS";
	default: return "unknown";
	}
}

/* One line per range, end inclusive, like Linux's "BIOS-e820:" lines. */
void e820_print(void)
{
	unsigned n = zero_page[BP_E820_ENTRIES];

	if (n > E820_MAX_ENTRIES)
		n = E820_MAX_ENTRIES;
	if (!n)
		printf("e820: none\n");
	for (unsigned i = 0; i < n; i++) {
		const u8 *e = zero_page + BP_E820_TABLE + i * E820_ENTRY_SIZE;
		u64 addr = rd64(e), size = rd64(e + 8);

		if (!size)
			continue;
		printf("e820: [mem 0x%016lx-0x%016lx] %s\n", addr,
		       addr + size - 1, e820_type(rd32(e + 16)));
	}
}

/* Where the usable e820 range holding @addr ends (exclusive), 0 if none. */
u64 e820_usable_end(u64 addr)
{
	unsigned n = zero_page[BP_E820_ENTRIES];

	if (n > E820_MAX_ENTRIES)
		n = E820_MAX_ENTRIES;
	for (unsigned i = 0; i < n; i++) {
		const u8 *e = zero_page + BP_E820_TABLE + i * E820_ENTRY_SIZE;
		u64 start = rd64(e), size = rd64(e + 8);

		if (rd32(e + 16) == 1 && addr >= start && addr - start < size)
			return start + size;
	}
	return 0;
}
