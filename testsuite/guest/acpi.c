/*
 * acpi.c - finding the ACPI tables the way a PC kernel without EFI does,
 * and the two facts needed to power off: the PM1a control port (FADT)
 * and the S5 sleep type (the \_S5 package in the DSDT's AML).
 */
#include "guest.h"

#define RSDP_SCAN_START	0xe0000
#define RSDP_SCAN_END	0x100000
#define RSDP_V1_LEN	20
#define RSDP_V2_LEN	36
#define SDT_HDR_LEN	36
#define SDT_MAX_LEN	(1 << 20)	/* more than any sane table */

/* FADT field offsets (ACPI 6.x, table 5.9). */
#define FADT_DSDT		40
#define FADT_PM1A_CNT_BLK	64
#define FADT_PM_TMR_BLK		76
#define FADT_FLAGS		112
#define FADT_TMR_VAL_EXT	(1 << 8)
#define FADT_X_DSDT		140
#define FADT_X_PM1A_CNT_BLK	172	/* a Generic Address Structure */
#define GAS_SPACE_IO		1

/* AML opcodes met on the way to \_S5's first element. */
#define AML_ZERO	0x00
#define AML_ONE		0x01
#define AML_BYTE	0x0a
#define AML_PACKAGE	0x12

static u16 pm1a_cnt, pm_tmr;
static bool pm_tmr_32;
static int s5_typ = -1;

static bool checksum_ok(const u8 *p, u32 len)
{
	u8 sum = 0;

	while (len--)
		sum += *p++;
	return sum == 0;
}

/*
 * Print the table at addr as "acpi: SIG 0x..." and return it, or NULL if
 * it cannot be trusted (unmapped, absurd length, bad checksum).
 */
static const u8 *table(u64 addr)
{
	const u8 *t;
	u32 len;

	if (!addr || addr + SDT_HDR_LEN > MAPPED_END) {
		printf("acpi: table at 0x%016lx out of reach\n", addr);
		return NULL;
	}
	t = phys(addr);
	len = rd32(t + 4);
	if (len < SDT_HDR_LEN || len > SDT_MAX_LEN || addr + len > MAPPED_END) {
		printf("acpi: %.4s 0x%016lx BAD LENGTH %u\n",
		       (const char *)t, addr, len);
		return NULL;
	}
	if (!checksum_ok(t, len)) {
		printf("acpi: %.4s 0x%016lx BAD CHECKSUM\n",
		       (const char *)t, addr);
		return NULL;
	}
	printf("acpi: %.4s 0x%016lx\n", (const char *)t, addr);
	return t;
}

/*
 * In AML, \_S5 is Name(_S5, Package(){typ_a, typ_b, ...}): NameOp, the
 * name, PackageOp, a PkgLength of 1-4 bytes, NumElements, then the
 * elements.  Small integers are ZeroOp, OneOp or BytePrefix+byte.
 */
static int find_s5(const u8 *dsdt)
{
	u32 len = rd32(dsdt + 4);
	const u8 *end = dsdt + len, *p;

	for (p = dsdt + SDT_HDR_LEN; p + 4 <= end; p++) {
		if (memcmp(p, "_S5_", 4))
			continue;
		p += 4;
		if (p >= end || *p != AML_PACKAGE)
			continue;
		p++;
		if (p >= end)
			break;
		p += 1 + (*p >> 6);	/* PkgLength: lead byte says how many */
		p++;			/* NumElements */
		if (p >= end)
			break;
		switch (*p) {
		case AML_ZERO:
			return 0;
		case AML_ONE:
			return 1;
		case AML_BYTE:
			return p + 1 < end ? p[1] : -1;
		default:
			printf("acpi: \\_S5 starts with opcode 0x%02x\n", *p);
			return -1;
		}
	}
	return -1;
}

static void fadt(const u8 *f)
{
	u32 len = rd32(f + 4);
	u64 dsdt_addr = rd32(f + FADT_DSDT);
	const u8 *dsdt;

	if (len >= FADT_X_DSDT + 8 && rd64(f + FADT_X_DSDT))
		dsdt_addr = rd64(f + FADT_X_DSDT);
	pm1a_cnt = (u16)rd32(f + FADT_PM1A_CNT_BLK);
	pm_tmr = (u16)rd32(f + FADT_PM_TMR_BLK);
	pm_tmr_32 = len >= FADT_FLAGS + 4 &&
		    (rd32(f + FADT_FLAGS) & FADT_TMR_VAL_EXT);
	if (len >= FADT_X_PM1A_CNT_BLK + 12 &&
	    f[FADT_X_PM1A_CNT_BLK] == GAS_SPACE_IO &&
	    rd64(f + FADT_X_PM1A_CNT_BLK + 4))
		pm1a_cnt = (u16)rd64(f + FADT_X_PM1A_CNT_BLK + 4);

	dsdt = table(dsdt_addr);
	if (dsdt && !memcmp(dsdt, "DSDT", 4))
		s5_typ = find_s5(dsdt);
}

/* The RSDP at @a, printed, if its signature and checksums are right. */
static const u8 *rsdp_at(u64 a)
{
	const u8 *r = phys(a);
	char oem[7];
	int n = 6;

	if (memcmp(r, "RSD PTR ", 8))
		return NULL;
	if (!checksum_ok(r, RSDP_V1_LEN) ||
	    (r[15] >= 2 && !checksum_ok(r, RSDP_V2_LEN))) {
		printf("acpi: RSDP 0x%016lx BAD CHECKSUM\n", a);
		return NULL;
	}
	memcpy(oem, r + 9, 6);
	while (n > 0 && oem[n - 1] == ' ')
		n--;
	oem[n] = '\0';
	printf("acpi: RSDP 0x%016lx rev %u oem %s\n", a, r[15], oem);
	return r;
}

/*
 * A PVH loader names the RSDP (hvm_start_info.rsdp_paddr); without one,
 * or if that one is no good, the legacy scan of the BIOS area.
 */
static const u8 *find_rsdp(void)
{
	const u8 *r;

	if (boot.rsdp && boot.rsdp + RSDP_V2_LEN <= MAPPED_END &&
	    (r = rsdp_at(boot.rsdp)))
		return r;
	for (u64 a = RSDP_SCAN_START; a < RSDP_SCAN_END; a += 16)
		if ((r = rsdp_at(a)))
			return r;
	return NULL;
}

void acpi_init(void)
{
	const u8 *rsdp = find_rsdp(), *sdt;
	unsigned esz;
	bool have_fadt = false;

	if (!rsdp) {
		printf("acpi: no RSDP in 0x%x-0x%x\n", RSDP_SCAN_START,
		       RSDP_SCAN_END - 1);
		goto out;
	}
	/* XSDT from revision 2 on, with 64-bit entries; else RSDT. */
	if (rsdp[15] >= 2 && rd64(rsdp + 24)) {
		sdt = table(rd64(rsdp + 24));
		esz = 8;
	} else {
		sdt = table(rd32(rsdp + 16));
		esz = 4;
	}
	if (!sdt)
		goto out;

	for (u32 off = SDT_HDR_LEN; off + esz <= rd32(sdt + 4); off += esz) {
		u64 addr = esz == 8 ? rd64(sdt + off) : rd32(sdt + off);
		const u8 *t = table(addr);

		if (t && !memcmp(t, "FACP", 4) && !have_fadt) {
			have_fadt = true;
			fadt(t);
		}
	}
out:
	if (!have_fadt)
		printf("acpi: no FADT, poweroff via pvpanic\n");
	else if (s5_typ < 0)
		printf("acpi: no \\_S5 in DSDT, poweroff via pvpanic\n");
	else
		printf("acpi: pm1a_cnt 0x%x s5 %d\n", pm1a_cnt, s5_typ);
}

bool acpi_can_poweroff(void)
{
	return pm1a_cnt && s5_typ >= 0;
}

void acpi_poweroff(void)
{
	outw(pm1a_cnt, (u16)((s5_typ & 7) << 10 | ACPI_SLP_EN));
}

u16 acpi_pm_timer_port(void)
{
	return pm_tmr;
}

bool acpi_pm_timer_32bit(void)
{
	return pm_tmr_32;
}
