/*
 * acpi.c - the ACPI tables that describe our little PC to the kernel.
 *
 *L:200 A stock kernel learns about a PC's interrupt controllers, power
 * button, reset and power-off from ACPI tables that firmware leaves in
 * memory.  We have no firmware, so we write them ourselves, in the BIOS
 * area where the kernel looks: an RSDP that points to an RSDT and an
 * XSDT, which list the FADT ("FACP": where the fixed-feature power
 * management registers are) and the MADT ("APIC": the interrupt
 * controllers).  The FADT points to the FACS and to the DSDT, whose AML
 * byte code names the devices the kernel cannot probe for, and says how
 * to power off.
 */
#include <stdlib.h>
#include <string.h>

#include "lguest.h"
#include "x86/aml.h"
#include "x86/boot.h"
#include "pci.h"
#include "x86/irq.h"
#include "x86/layout.h"

#define OEM_ID		"LGUEST"
#define OEM_TABLE_ID	"LGUESTVM"
#define CREATOR_ID	"LGST"

/* The header every table but the RSDP and FACS starts with. */
struct acpi_header {
	char sig[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char sig[8];		/* "RSD PTR " */
	u8 checksum;		/* of the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	u8 revision;		/* 2: has the XSDT fields below */
	u32 rsdt;
	u32 length;
	u64 xsdt;
	u8 ext_checksum;	/* of all 36 bytes */
	u8 reserved[3];
} __attribute__((packed));

/* Generic Address Structure: a register, here always an I/O port. */
struct acpi_gas {
	u8 space;		/* 1 = system I/O */
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;		/* 1 byte, 2 word, 3 dword */
	u64 address;
} __attribute__((packed));

/* The FADT as of ACPI 6.0: 276 bytes. */
struct acpi_fadt {
	struct acpi_header h;
	u32 facs, dsdt;
	u8 reserved1, pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	u32 pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	u8 gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved2;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_revision;
	u64 x_facs, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	u64 hypervisor_id;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT is 276 bytes");

#define FADT_WBINVD		(1 << 0)
#define FADT_PROC_C1		(1 << 2)
#define FADT_SLP_BUTTON		(1 << 5)	/* set: no fixed sleep button */
#define FADT_TMR_VAL_EXT	(1 << 8)	/* 32-bit PM timer */
#define FADT_RESET_REG_SUP	(1 << 10)

#define BOOT_ARCH_LEGACY	(1 << 0)	/* ISA devices: COM1 etc. */
#define BOOT_ARCH_8042		(1 << 1)
#define BOOT_ARCH_NO_VGA	(1 << 2)

struct acpi_facs {
	char sig[4];
	u32 length;
	u32 hw_signature;
	u32 waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_waking_vector;
	u8 version;
	u8 reserved[3];
	u32 ospm_flags;
	u8 reserved2[24];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");

/* MADT and the entries we use. */
struct acpi_madt {
	struct acpi_header h;
	u32 lapic_addr;
	u32 flags;		/* 1 = PC-AT compatible dual 8259s */
} __attribute__((packed));

struct madt_lapic {
	u8 type, length;	/* 0, 8 */
	u8 uid, apic_id;
	u32 flags;		/* 1 = enabled */
} __attribute__((packed));

struct madt_ioapic {
	u8 type, length;	/* 1, 12 */
	u8 id, reserved;
	u32 address, gsi_base;
} __attribute__((packed));

struct madt_iso {
	u8 type, length;	/* 2, 10 */
	u8 bus, source;
	u32 gsi;
	u16 flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	u8 type, length;	/* 4, 6 */
	u8 uid;
	u16 flags;
	u8 lint;
} __attribute__((packed));

/*
 * The tables are laid out one after another from ACPI_RSDP, with the
 * RSDP first (the kernel scans for it on 16-byte boundaries there).
 */
struct acpi_ctx {
	struct vm *vm;
	u64 next;		/* where the next table may start */
};

static u64 table_alloc(struct acpi_ctx *c, u64 size, u64 align, void **host)
{
	u64 gpa = (c->next + align - 1) & ~(align - 1);

	*host = guest_ptr(c->vm, gpa, size);
	if (gpa + size > SMBIOS_START || !*host)
		errx(EXIT_ERROR, "ACPI tables do not fit in guest memory");
	memset(*host, 0, size);
	c->next = gpa + size;
	return gpa;
}

/* The byte that makes @len bytes from @p sum to zero, as ACPI and SMBIOS
 * both want their tables to. */
u8 table_checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

static void header_fill(struct acpi_header *h, const char *sig, u32 len,
			u8 revision)
{
	memcpy(h->sig, sig, 4);
	h->length = len;
	h->revision = revision;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* Call last, once the table's contents are final. */
static void header_sum(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = table_checksum(h, h->length);
}

/*L:220 Device (PCI0): the host bridge.  Its _CRS says which buses, ports
 * and memory it decodes -- the kernel puts BARs only inside these
 * windows -- and _PRT says where each slot's INTA-D# arrive: straight
 * at IOAPIC inputs, as x86/irq.h wires them. */
static void build_pci0(struct aml *a)
{
	u8 cfg_io[] = { 0x47, 1, 0xf8, 0x0c, 0xf8, 0x0c, 1, 8 };
	u8 end[] = { 0x79, 0 };
	size_t dev, crs, prt, entry;

	dev = aml_open(a, 0x5b, 0x82);
	aml_name(a, "PCI0");
	aml_byte(a, 0x08);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name_int(a, "_UID", 0);
	aml_name_int(a, "_BBN", 0);

	aml_byte(a, 0x08);
	aml_name(a, "_CRS");
	crs = aml_open(a, 0x11, 0);
	aml_int(a, 16 + sizeof(cfg_io) + 16 + 16 + 26 + sizeof(end));
	aml_word_range(a, 2, 0, 0, 0);			/* bus 0 */
	aml_bytes(a, cfg_io, sizeof(cfg_io));
	aml_word_range(a, 1, 3, 0x0000, 0x0cf7);	/* I/O below... */
	aml_word_range(a, 1, 3, 0x0d00, 0xffff);	/* ...and above cf8 */
	aml_dword_mem(a, PCI_MMIO_START, PCI_MMIO_END - 1);
	aml_bytes(a, end, sizeof(end));
	aml_close(a, crs);

	aml_byte(a, 0x08);
	aml_name(a, "_PRT");
	prt = aml_open(a, 0x12, 0);
	aml_byte(a, (PCI_MAX_SLOTS - 1) * 4);
	for (int slot = 1; slot < PCI_MAX_SLOTS; slot++) {
		for (int pin = 0; pin < 4; pin++) {
			entry = aml_open(a, 0x12, 0);
			aml_byte(a, 4);
			aml_int(a, (u32)slot << 16 | 0xffff);
			aml_int(a, pin);
			aml_int(a, 0);		/* no link device: a GSI */
			aml_int(a, PCI_INTX_GSI(slot, pin));
			aml_close(a, entry);
		}
	}
	aml_close(a, prt);
	aml_close(a, dev);
}

static void build_dsdt(struct aml *a)
{
	size_t sb, dev, pkg;

	/* Scope (\_SB) { ... } */
	sb = aml_open(a, 0x10, 0);
	aml_name(a, "\\_SB");

	build_pci0(a);

	/* Device (COM1): the 8250 UART, so the kernel need not guess. */
	dev = aml_open(a, 0x5b, 0x82);
	aml_name(a, "COM1");
	aml_byte(a, 0x08);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_byte(a, 0x08);
	aml_name(a, "_UID");
	aml_int(a, 1);
	aml_crs_io(a, PORT_COM1, 8, IRQ_COM1);
	aml_close(a, dev);

	/* The clock (rtc_cmos binds to PNP0B00) and the keyboard
	 * controller.  The controller is described with its keyboard port
	 * only: no PNP0F13 tells Linux's i8042 there is no AUX port, so it
	 * does not probe for a mouse that is not there. */
	aml_legacy_device(a, "RTC", "PNP0B00", PORT_RTC_INDEX, 2, 0, 0,
			  IRQ_RTC);
	aml_legacy_device(a, "KBD", "PNP0303", PORT_I8042_DATA, 1,
			  PORT_I8042_CMD, 1, IRQ_KBD);

	/* Device (PEVT): QEMU's pvpanic port, which Linux's driver finds
	 * by this _HID, and uses through the port in _CRS. */
	dev = aml_open(a, 0x5b, 0x82);
	aml_name(a, "PEVT");
	aml_byte(a, 0x08);
	aml_name(a, "_HID");
	aml_string(a, "QEMU0001");
	aml_crs_io(a, PORT_PVPANIC, 1, -1);
	aml_close(a, dev);

	aml_close(a, sb);

	/* Name (\_S5, Package (4) { 5, 5, 0, 0 }): the SLP_TYP values for
	 * PM1a_CNT and PM1b_CNT that mean "soft off". */
	aml_byte(a, 0x08);
	aml_name(a, "\\_S5");
	pkg = aml_open(a, 0x12, 0);	/* PackageOp */
	aml_byte(a, 4);			/* NumElements */
	aml_int(a, ACPI_S5_SLP_TYP);
	aml_int(a, ACPI_S5_SLP_TYP);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_close(a, pkg);
}

static struct acpi_gas gas_io(u16 port, u8 bytes, u8 access)
{
	return (struct acpi_gas){ .space = 1, .bit_width = bytes * 8,
				  .access_size = access, .address = port };
}

static u64 build_fadt(struct acpi_ctx *c, u64 facs, u64 dsdt)
{
	struct acpi_fadt *f;
	u64 gpa = table_alloc(c, sizeof(*f), 16, (void **)&f);

	header_fill(&f->h, "FACP", sizeof(*f), 6);
	/* FACS in the 32-bit field only: the kernel installs it once for
	 * each of the two fields that is set. */
	f->facs = facs;
	f->dsdt = dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = IRQ_SCI;
	f->smi_cmd = 0;			/* no SMM: ACPI is always enabled */

	f->pm1a_evt_blk = PORT_PM1A_EVT;
	f->pm1_evt_len = 4;
	f->x_pm1a_evt_blk = gas_io(PORT_PM1A_EVT, 4, 2);
	f->pm1a_cnt_blk = PORT_PM1A_CNT;
	f->pm1_cnt_len = 2;
	f->x_pm1a_cnt_blk = gas_io(PORT_PM1A_CNT, 2, 2);
	f->pm_tmr_blk = PORT_PM_TMR;
	f->pm_tmr_len = 4;
	f->x_pm_tmr_blk = gas_io(PORT_PM_TMR, 4, 3);

	f->century = RTC_CENTURY_REG;
	f->p_lvl2_lat = 101;		/* > 100: no C2 */
	f->p_lvl3_lat = 1001;		/* > 1000: no C3 */
	f->iapc_boot_arch = BOOT_ARCH_LEGACY | BOOT_ARCH_8042 |
			    BOOT_ARCH_NO_VGA;
	/* Power button: fixed feature (PWR_BUTTON clear); no sleep button. */
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON |
		   FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP;
	f->reset_reg = gas_io(PORT_RESET, 1, 1);
	f->reset_value = 0x06;
	f->minor_revision = 0;
	header_sum(&f->h);
	return gpa;
}

static u64 build_madt(struct acpi_ctx *c)
{
	struct acpi_madt *m;
	struct madt_lapic *lapic;
	struct madt_ioapic *ioapic;
	struct madt_iso *iso;
	struct madt_lapic_nmi *nmi;
	int ncpus = c->vm->nr_vcpus;
	size_t len = sizeof(*m) + ncpus * sizeof(*lapic) + sizeof(*ioapic) +
		     irq_nr_overrides * sizeof(*iso) + sizeof(*nmi);
	u64 gpa = table_alloc(c, len, 16, (void **)&m);
	unsigned int i;

	header_fill(&m->h, "APIC", len, 4);
	m->lapic_addr = LAPIC_BASE;
	m->flags = 1;			/* PCAT_COMPAT */

	/* A local APIC per vCPU, enabled, its ACPI processor UID and APIC
	 * ID both the vCPU's number (the ID CPUID tells that vCPU).  The
	 * first is the boot processor: the kernel finds it running. */
	lapic = (void *)(m + 1);
	for (i = 0; i < (unsigned int)ncpus; i++)
		lapic[i] = (struct madt_lapic){ 0, sizeof(*lapic), i, i, 1 };

	/* ID 0 is the boot CPU's APIC ID too, but the two are in separate
	 * spaces on a PC: the IOAPIC's ID register reads 0 after reset, and
	 * the MADT must say what the register says. */
	ioapic = (void *)(lapic + ncpus);
	*ioapic = (struct madt_ioapic){ 1, sizeof(*ioapic), 0, 0,
					IOAPIC_BASE, 0 };

	/* The ISA IRQs wired other than straight, edge-triggered, to the
	 * IOAPIC input of their number: the PIT's and the SCI. */
	iso = (void *)(ioapic + 1);
	for (i = 0; i < irq_nr_overrides; i++)
		iso[i] = (struct madt_iso){ 2, sizeof(*iso), 0,
					    irq_overrides[i].irq,
					    irq_overrides[i].gsi,
					    irq_overrides[i].flags };

	/* NMIs arrive on the same LINT of every processor (uid 0xff). */
	nmi = (void *)(iso + irq_nr_overrides);
	*nmi = (struct madt_lapic_nmi){ 4, sizeof(*nmi), 0xff, 0,
					LAPIC_LINT_NMI };

	header_sum(&m->h);
	return gpa;
}

void acpi_build(struct vm *vm)
{
	struct acpi_ctx c = { .vm = vm, .next = ACPI_RSDP };
	struct acpi_rsdp *rsdp;
	struct acpi_facs *facs;
	struct acpi_header *dsdt, *rsdt, *xsdt;
	struct aml aml = { .len = 0 };
	u64 tables[2], facs_gpa, dsdt_gpa, rsdt_gpa, xsdt_gpa;
	u32 *rsdt_entry;
	u64 *xsdt_entry;
	unsigned int i;

	table_alloc(&c, sizeof(*rsdp), 16, (void **)&rsdp);

	facs_gpa = table_alloc(&c, sizeof(*facs), 64, (void **)&facs);
	memcpy(facs->sig, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	build_dsdt(&aml);
	dsdt_gpa = table_alloc(&c, sizeof(*dsdt) + aml.len, 16, (void **)&dsdt);
	header_fill(dsdt, "DSDT", sizeof(*dsdt) + aml.len, 2);
	memcpy(dsdt + 1, aml.buf, aml.len);
	header_sum(dsdt);

	tables[0] = build_fadt(&c, facs_gpa, dsdt_gpa);
	tables[1] = build_madt(&c);

	rsdt_gpa = table_alloc(&c, sizeof(*rsdt) + 4 * ARRAY_SIZE(tables), 16,
			       (void **)&rsdt);
	header_fill(rsdt, "RSDT", sizeof(*rsdt) + 4 * ARRAY_SIZE(tables), 1);
	rsdt_entry = (void *)(rsdt + 1);
	xsdt_gpa = table_alloc(&c, sizeof(*xsdt) + 8 * ARRAY_SIZE(tables), 16,
			       (void **)&xsdt);
	header_fill(xsdt, "XSDT", sizeof(*xsdt) + 8 * ARRAY_SIZE(tables), 1);
	xsdt_entry = (void *)(xsdt + 1);
	for (i = 0; i < ARRAY_SIZE(tables); i++) {
		memcpy(rsdt_entry + i, &(u32){ tables[i] }, 4);
		memcpy(xsdt_entry + i, &tables[i], 8);
	}
	header_sum(rsdt);
	header_sum(xsdt);

	memcpy(rsdp->sig, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->rsdt = rsdt_gpa;
	rsdp->xsdt = xsdt_gpa;
	rsdp->length = sizeof(*rsdp);
	rsdp->checksum = table_checksum(rsdp, 20);
	rsdp->ext_checksum = table_checksum(rsdp, sizeof(*rsdp));

	verbose("acpi: RSDP at 0x%llx, tables up to 0x%llx",
		(unsigned long long)ACPI_RSDP, (unsigned long long)c.next);
}
