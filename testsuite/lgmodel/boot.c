/*
 * boot.c - what a 32-bit paravirtualised Linux finds when the Launcher
 * starts it, checked the way its first instructions would take it.
 *
 * The guest starts at `start` with the boot parameters at guest-physical
 * 0.  Linux's startup_32 goes the lguest way only when the boot protocol
 * version is 2.07 or later and hardware_subarch is 1, and keeps the
 * Launcher's segments only with KEEP_SEGMENTS; then it believes the one
 * e820 entry, the command line and the initrd the header names.  The
 * kernel file (LGMODEL_KERNEL), the initrd (LGMODEL_INITRD) and the
 * command line (LGMODEL_CMDLINE) the test gave the Launcher say what
 * must be where.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "bootparam.h"
#include "lgmodel.h"

/* Where the kernel file says its bytes go, and where it starts. */
struct image {
	int nseg;
	struct {
		unsigned long paddr, filesz, memsz;
		const u8 *bytes;
	} seg[8];
	unsigned long entry;
	const char *kind;
};

static int parse_bzimage(const u8 *f, size_t len, struct image *im)
{
	unsigned long setup = f[BP_SETUP_SECTS] ? f[BP_SETUP_SECTS] : 4;
	u16 version;
	u32 code32;

	setup = (setup + 1) * 512;
	memcpy(&version, f + BP_VERSION, 2);
	memcpy(&code32, f + BP_CODE32_START, 4);
	if (setup >= len) {
		fail("boot: %s: setup (%lu bytes) is the whole file", "kernel",
		     setup);
		return -1;
	}
	im->kind = "bzImage";
	im->nseg = 1;
	im->seg[0].paddr = code32;
	im->seg[0].filesz = im->seg[0].memsz = len - setup;
	im->seg[0].bytes = f + setup;
	im->entry = code32;
	say("boot: kernel is a bzImage, protocol %#x, %lu bytes at %#x",
	    version, len - setup, code32);
	return 0;
}

static int parse_elf32(const u8 *f, size_t len, struct image *im)
{
	Elf32_Ehdr eh;

	memcpy(&eh, f, sizeof(eh));
	if (eh.e_machine != EM_386 || eh.e_phentsize != sizeof(Elf32_Phdr) ||
	    eh.e_phoff + (size_t)eh.e_phnum * sizeof(Elf32_Phdr) > len) {
		fail("boot: the kernel is an ELF32 file but not a vmlinux");
		return -1;
	}
	im->kind = "ELF32 vmlinux";
	im->entry = eh.e_entry;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph;

		memcpy(&ph, f + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (im->nseg == (int)ARRAY_SIZE(im->seg) ||
		    ph.p_offset + (size_t)ph.p_filesz > len) {
			fail("boot: the kernel's segment %d is odd", i);
			return -1;
		}
		im->seg[im->nseg].paddr = ph.p_paddr;
		im->seg[im->nseg].filesz = ph.p_filesz;
		im->seg[im->nseg].memsz = ph.p_memsz;
		im->seg[im->nseg].bytes = f + ph.p_offset;
		im->nseg++;
	}
	say("boot: kernel is an ELF32 vmlinux, %d segments, entry %#lx",
	    im->nseg, im->entry);
	return 0;
}

static int parse_kernel(const u8 *f, size_t len, struct image *im)
{
	memset(im, 0, sizeof(*im));
	if (len > 0x300 && !memcmp(f + BP_HEADER, "HdrS", 4))
		return parse_bzimage(f, len, im);
	if (len > sizeof(Elf32_Ehdr) && !memcmp(f, ELFMAG, SELFMAG) &&
	    f[EI_CLASS] == ELFCLASS32)
		return parse_elf32(f, len, im);
	fail("boot: LGMODEL_KERNEL is neither a bzImage nor an ELF32 file");
	return -1;
}

static bool all_zero(const u8 *p, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void check_kernel(struct guest *g, const char *path)
{
	struct image im;
	size_t len;
	u8 *f = read_whole(path, &len);

	if (!f || parse_kernel(f, len, &im) < 0)
		goto out;
	check(g->m->start == im.entry,
	      "boot: the guest starts at %#lx, but the %s's entry is %#lx",
	      g->m->start, im.kind, im.entry);
	for (int i = 0; i < im.nseg; i++) {
		unsigned long pa = im.seg[i].paddr, n = im.seg[i].filesz;
		unsigned long z = im.seg[i].memsz - n;
		const u8 *mem = gp(g, pa, im.seg[i].memsz);

		if (!mem || pa + im.seg[i].memsz > g->ram) {
			fail("boot: kernel segment at %#lx (%lu bytes) is not "
			     "in RAM", pa, im.seg[i].memsz);
			continue;
		}
		check(!memcmp(mem, im.seg[i].bytes, n),
		      "boot: the kernel's %lu bytes at %#lx are not the "
		      "file's", n, pa);
		check(all_zero(mem + n, z),
		      "boot: the kernel's %lu bytes of bss at %#lx are not "
		      "zero", z, pa + n);
	}
	say("boot: kernel checked at %#lx", im.nseg ? im.seg[0].paddr : 0);
out:
	free(f);
}

/* The initrd: the file's bytes, page-aligned at the very top of RAM. */
static void check_initrd(struct guest *g)
{
	const u8 *bp = g->mem;
	u32 image = *(u32 *)(bp + BP_RAMDISK_IMAGE);
	u32 size = *(u32 *)(bp + BP_RAMDISK_SIZE);
	const char *path = env_str("LGMODEL_INITRD", NULL);
	unsigned long top;
	const u8 *mem;
	size_t len;
	u8 *f;

	if (!path) {
		check(!image && !size, "boot: an initrd at %#x (%u bytes) "
		      "that nobody asked for", image, size);
		return;
	}
	f = read_whole(path, &len);
	if (!f)
		return;
	top = (image + len + PAGE - 1) & ~(PAGE - 1);
	mem = gp(g, image, len);
	check(!(image & (PAGE - 1)), "boot: the initrd at %#x is not "
	      "page-aligned", image);
	check(size >= len && size <= ((len + PAGE - 1) & ~(PAGE - 1)),
	      "boot: ramdisk_size %u for an initrd of %zu bytes", size, len);
	check(top == g->ram, "boot: the initrd ends at %#lx, not at the top "
	      "of RAM (%#lx)", top, g->ram);
	if (mem && image + len <= g->ram)
		check(!memcmp(mem, f, len), "boot: the initrd's bytes at %#x "
		      "are not the file's", image);
	else
		fail("boot: the initrd at %#x is not in RAM", image);
	say("boot: initrd checked at %#x, %zu bytes", image, len);
	free(f);
}

static void check_cmdline(struct guest *g)
{
	u32 ptr = *(u32 *)(g->mem + BP_CMD_LINE_PTR);
	const char *want = getenv("LGMODEL_CMDLINE");
	const char *cmd;
	size_t n;

	if (!ptr || ptr >= g->ram) {
		fail("boot: cmd_line_ptr %#x is not in RAM", ptr);
		return;
	}
	cmd = (const char *)g->mem + ptr;
	n = strnlen(cmd, g->ram - ptr);
	if (n == g->ram - ptr) {
		fail("boot: the command line at %#x has no end in RAM", ptr);
		return;
	}
	say("boot: cmdline '%s'", cmd);
	if (want)
		check(!strcmp(cmd, want), "boot: the command line is '%s', "
		      "not '%s'", cmd, want);
}

/* The fields of boot_params a paravirtualised guest reads first. */
int boot_check_params(struct guest *g)
{
	const u8 *bp = gp(g, 0, PAGE);
	u64 e_addr, e_size;
	u32 e_type, subarch;
	u16 version;
	int before = lgm_failures;

	if (!bp) {
		fail("boot: no boot_params: pfn_limit is 0");
		return -1;
	}
	memcpy(&version, bp + BP_VERSION, 2);
	memcpy(&subarch, bp + BP_HARDWARE_SUBARCH, 4);
	memcpy(&e_addr, bp + BP_E820_MAP, 8);
	memcpy(&e_size, bp + BP_E820_MAP + 8, 8);
	memcpy(&e_type, bp + BP_E820_MAP + 16, 4);
	check(version >= 0x207, "boot: boot protocol %#x: startup_32 takes "
	      "the lguest path only from 2.07 on", version);
	check(subarch == SUBARCH_LGUEST, "boot: hardware_subarch is %u, not "
	      "1 (lguest)", subarch);
	check(bp[BP_LOADFLAGS] & LOADFLAG_KEEP_SEGMENTS, "boot: loadflags "
	      "%#x lack KEEP_SEGMENTS", bp[BP_LOADFLAGS]);
	check(bp[BP_TYPE_OF_LOADER], "boot: type_of_loader is 0");
	check(bp[BP_E820_ENTRIES] == 1, "boot: %u e820 entries, not 1",
	      bp[BP_E820_ENTRIES]);
	check(e_addr == 0 && e_size == g->ram && e_type == E820_RAM,
	      "boot: e820 entry {%#llx, %#llx, %u}, not {0, RAM, 1}",
	      (unsigned long long)e_addr, (unsigned long long)e_size, e_type);
	check(!(g->ram & (PAGE - 1)), "boot: RAM (%#lx) is not whole pages",
	      g->ram);
	check(g->limit >= g->ram + PAGE, "boot: pfn_limit %#lx leaves out "
	      "the device page at %#lx", g->limit / PAGE, g->ram / PAGE);
	say("boot: boot_params: protocol %#x, subarch %u, RAM %#lx, "
	    "pfn_limit %#lx", version, subarch, g->ram, g->limit / PAGE);
	return lgm_failures == before ? 0 : -1;
}

void scen_boot(struct guest *g)
{
	const char *kernel = env_str("LGMODEL_KERNEL", NULL);

	boot_check_params(g);
	if (kernel)
		check_kernel(g, kernel);
	else
		say("boot: no LGMODEL_KERNEL: the kernel is not checked");
	check_initrd(g);
	check_cmdline(g);
	early_print(g, "lgmodel: the early console works\n");
}
