/*
 * bootparams.c - reading the "zero page" the Launcher fills, as the x86
 * boot protocol lays it out (Documentation/arch/x86/zero-page.rst and
 * boot.rst), or the hvm_start_info a PVH loader gives (pvh.S; Xen's
 * public/arch-x86/hvm/start_info.h), and the key=value words of the
 * command line.  Either way the memory map ends up in one table, so the
 * e820 lines look the same whoever booted us.
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

/* struct hvm_start_info and the entries it points to. */
#define PVH_MAGIC		0x336ec578
#define PVH_VERSION		4	/* u32 */
#define PVH_NR_MODULES		12	/* u32 */
#define PVH_MODLIST		16	/* u64, of 32-byte hvm_modlist_entry */
#define PVH_CMDLINE		24	/* u64 */
#define PVH_RSDP		32	/* u64 */
#define PVH_MEMMAP		40	/* u64, version 1 on */
#define PVH_MEMMAP_ENTRIES	48	/* u32 */
#define PVH_MEMMAP_ENTRY_SIZE	24	/* addr u64, size u64, type u32, pad */

struct boot_info boot;

/* The memory map, from whichever protocol brought us. */
static struct e820 {
	u64 addr, size;
	u32 type;
} e820[E820_MAX_ENTRIES];
static unsigned e820_n;

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

static void e820_add(u64 addr, u64 size, u32 type)
{
	if (e820_n < E820_MAX_ENTRIES)
		e820[e820_n++] = (struct e820){ addr, size, type };
}

static void zero_page_read(const u8 *zp)
{
	unsigned n = zp[BP_E820_ENTRIES];
	u64 cmd;

	cmd = rd32(zp + BP_CMD_LINE_PTR) |
	      (u64)rd32(zp + BP_EXT_CMD_LINE_PTR) << 32;
	boot.cmdline = cmd && cmd < MAPPED_END ? phys(cmd) : "";

	boot.initrd_addr = rd32(zp + BP_RAMDISK_IMAGE) |
			   (u64)rd32(zp + BP_EXT_RAMDISK_IMAGE) << 32;
	boot.initrd_size = rd32(zp + BP_RAMDISK_SIZE) |
			   (u64)rd32(zp + BP_EXT_RAMDISK_SIZE) << 32;

	if (n > E820_MAX_ENTRIES)
		n = E820_MAX_ENTRIES;
	for (unsigned i = 0; i < n; i++) {
		const u8 *e = zp + BP_E820_TABLE + i * E820_ENTRY_SIZE;

		e820_add(rd64(e), rd64(e + 8), rd32(e + 16));
	}
}

/*
 * PVH: the same facts from hvm_start_info.  The first module, if any,
 * is the initrd (as Linux takes it); the memory map uses e820 types.
 */
static void start_info_read(const u8 *si)
{
	u64 cmd = rd64(si + PVH_CMDLINE), mods = rd64(si + PVH_MODLIST);

	boot.pvh = true;
	boot.cmdline = cmd && cmd < MAPPED_END ? phys(cmd) : "";
	if (rd32(si) != PVH_MAGIC) {
		printf("pvh: bad hvm_start_info magic 0x%08x\n", rd32(si));
		return;
	}
	if (rd32(si + PVH_NR_MODULES) && mods && mods < MAPPED_END) {
		boot.initrd_addr = rd64(phys(mods));
		boot.initrd_size = rd64(phys(mods + 8));
	}
	boot.rsdp = rd64(si + PVH_RSDP);
	if (rd32(si + PVH_VERSION) >= 1) {
		u64 map = rd64(si + PVH_MEMMAP);
		u32 n = rd32(si + PVH_MEMMAP_ENTRIES);

		for (u32 i = 0; map && map < MAPPED_END && i < n; i++) {
			const u8 *e = phys(map + i * PVH_MEMMAP_ENTRY_SIZE);

			e820_add(rd64(e), rd64(e + 8), rd32(e + 16));
		}
	}
}

void boot_params_read(u64 bp)
{
	extern u64 boot_pvh;	/* entry.S */

	if (boot_pvh)
		start_info_read(phys(bp));
	else
		zero_page_read(phys(bp));
	args_parse(boot.cmdline);
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
	if (!e820_n)
		printf("e820: none\n");
	for (unsigned i = 0; i < e820_n; i++) {
		if (!e820[i].size)
			continue;
		printf("e820: [mem 0x%016lx-0x%016lx] %s\n", e820[i].addr,
		       e820[i].addr + e820[i].size - 1, e820_type(e820[i].type));
	}
}

/* Where the usable e820 range holding @addr ends (exclusive), 0 if none. */
u64 e820_usable_end(u64 addr)
{
	for (unsigned i = 0; i < e820_n; i++) {
		u64 start = e820[i].addr, size = e820[i].size;

		if (e820[i].type == 1 && addr >= start && addr - start < size)
			return start + size;
	}
	return 0;
}
