/*
 * boot.c - putting a Linux kernel into guest memory the way the x86 boot
 * protocol (Documentation/arch/x86/boot.rst) asks, and leaving it what it
 * expects to find when it starts in 64-bit mode: the "zero page" of boot
 * parameters, a command line, a memory map, a GDT and page tables.
 *
 *L:100 A bootloader normally starts a kernel in 16-bit real mode and lets
 * its setup code ask the BIOS about the machine.  We have no BIOS, so we
 * use the 64-bit entry point instead (protocol 2.12 and later): the CPU is
 * already in long mode with an identity map, and everything the setup code
 * would have found out is written into struct boot_params by us.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include <asm/bootparam.h>

#include "lguest.h"
#include "x86/boot.h"
#include "x86/image.h"
#include "x86/layout.h"

#define HDRS_MAGIC	0x53726448	/* "HdrS", little-endian */
#define GUNZIP_MAX	(1 * GiB)	/* a kernel is never this big */

#define E820_USABLE	1
#define E820_RESERVED	2
#define E820_ACPI	3

static const char accepted[] = "lguest boots an x86-64 bzImage, an ELF64 "
			       "vmlinux, or either gzip-compressed";

/*
 * The kernel wants [gpa, gpa + len) of guest RAM: say so in terms a user
 * can act on when it is not there.
 */
static void *need_ram(const struct vm *vm, const char *name, u64 gpa, u64 len)
{
	void *p = guest_ptr(vm, gpa, len);

	if (p)
		return p;
	if (len > UINT64_MAX - gpa || gpa + len > PCI_HOLE_START)
		errx(EXIT_ERROR, "%s: wants %llu MiB of memory at 0x%llx, "
		     "which lguest cannot give it (RAM below 4 GiB ends by "
		     "0x%llx)", name, (unsigned long long)mib_up(len),
		     (unsigned long long)gpa, PCI_HOLE_START);
	errx(EXIT_ERROR, "%s: needs %llu MiB of memory at 0x%llx; give "
	     "lguest more memory (at least %llu MiB)", name,
	     (unsigned long long)mib_up(len), (unsigned long long)gpa,
	     (unsigned long long)mib_up(gpa + len));
}

static void img_to_guest(struct vm *vm, const struct image *img, u64 gpa,
			 u64 off, u64 len)
{
	img_read(img, need_ram(vm, img->name, gpa, len), off, len);
}

/*L:110 A bzImage is a 16-bit setup part (setup_sects + 1 sectors: the
 * boot sector, then the setup code) followed by the protected-mode part,
 * which holds the compressed kernel and the code that unpacks it.  We only
 * load the latter, and keep the setup header to hand on in boot_params.
 *
 * It goes at KERNEL_LOAD (1 MiB), where the protocol has always put it.
 * Loading it at pref_address instead would buy nothing: in 64-bit mode
 * the decompressor copies itself to the end of the area it unpacks into
 * anyway, and that area starts at pref_address (or is chosen at random by
 * KASLR, avoiding what we placed) wherever we load it.
 */
static void load_bzimage(struct vm *vm, const struct image *img)
{
	struct setup_header h;
	u8 sect[1024];
	u64 setup_size, pm_size, run, need;
	unsigned int sects;

	if (img->size < sizeof(sect))
		errx(EXIT_ERROR, "%s: truncated bzImage (%llu bytes)",
		     img->name, (unsigned long long)img->size);
	img_read(img, sect, 0, sizeof(sect));
	memcpy(&h, sect + SETUP_HDR, sizeof(h));

	/* The header ends where the jump at 0x200 lands. */
	vm->kernel->hdr_len = min64(0x202 + sect[0x201] - SETUP_HDR, SETUP_HDR_MAX);
	memcpy(vm->kernel->hdr, sect + SETUP_HDR, vm->kernel->hdr_len);

	if (h.version < 0x020c)
		errx(EXIT_ERROR, "%s: bzImage boot protocol %u.%02u is too "
		     "old: lguest needs 2.12 or later to enter it in 64-bit "
		     "mode", img->name, h.version >> 8, h.version & 0xff);
	if (!(h.xloadflags & XLF_KERNEL_64))
		errx(EXIT_ERROR, "%s: bzImage has no 64-bit entry point "
		     "(a 32-bit kernel?): lguest cannot enter it in 64-bit "
		     "mode; %s", img->name, accepted);
	if (!(h.loadflags & LOADED_HIGH))
		errx(EXIT_ERROR, "%s: is a zImage, not a bzImage; %s",
		     img->name, accepted);

	sects = h.setup_sects ? h.setup_sects : 4;
	setup_size = (sects + 1) * 512ULL;
	if (setup_size >= img->size ||
	    (u64)h.syssize * 16 > img->size - setup_size)
		errx(EXIT_ERROR, "%s: truncated bzImage: its header says "
		     "%llu bytes, the file has %llu", img->name,
		     (unsigned long long)(setup_size + (u64)h.syssize * 16),
		     (unsigned long long)img->size);
	pm_size = img->size - setup_size;
	img_to_guest(vm, img, KERNEL_LOAD, setup_size, pm_size);

	/*
	 * The kernel runs from pref_address (or from where we loaded it,
	 * if that were higher) and needs init_size bytes there before it
	 * looks at the memory map: keep the initrd out of that.
	 */
	run = max64(h.pref_address, KERNEL_LOAD);
	need_ram(vm, img->name, run, h.init_size);
	need = run + h.init_size;

	vm->kernel->bzimage = true;
	vm->kernel->cmdline_max = h.cmdline_size;
	vm->kernel->initrd_max = (u64)h.initrd_addr_max + 1;
	vm->entry = KERNEL_LOAD + 0x200;	/* the 64-bit entry point */
	vm->kernel_end = max64(KERNEL_LOAD + pm_size, need);
	verbose("%s: bzImage, boot protocol %u.%02u, %llu KiB at 0x%x, "
		"runs at 0x%llx", img->name, h.version >> 8, h.version & 0xff,
		(unsigned long long)(pm_size / KiB), KERNEL_LOAD,
		(unsigned long long)run);
}

/*L:120 An uncompressed vmlinux is a plain ELF64 executable whose program
 * headers give physical load addresses, and whose entry point is the
 * physical address of startup_64: the same place the bzImage's unpacking
 * code jumps to in the end.  So we can skip the unpacking, which matters
 * when kernel code is slow to run. */
/* Check every segment before loading any, so that running short of
 * memory is reported once, for the whole kernel.  Returns the lowest
 * and the end of what loads. */
static void check_segments(struct vm *vm, const struct image *img,
			   const Elf64_Phdr *phs, unsigned int n, u64 *lo,
			   u64 *end)
{
	bool short_of_ram = false;

	*lo = UINT64_MAX;
	*end = 0;
	for (unsigned int i = 0; i < n; i++) {
		const Elf64_Phdr *ph = &phs[i];

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if (ph->p_filesz > ph->p_memsz)
			errx(EXIT_ERROR, "%s: ELF segment %u is bigger in the "
			     "file than in memory", img->name, i);
		/* Below 1 MiB live the boot structures we write later. */
		if (ph->p_paddr < KERNEL_LOAD)
			errx(EXIT_ERROR, "%s: ELF segment %u loads at 0x%llx; "
			     "lguest needs kernels at 1 MiB or above",
			     img->name, i, (unsigned long long)ph->p_paddr);
		if (ph->p_memsz > UINT64_MAX - ph->p_paddr)
			errx(EXIT_ERROR, "%s: ELF segment %u wraps around the "
			     "address space", img->name, i);
		*lo = min64(*lo, ph->p_paddr);
		*end = max64(*end, ph->p_paddr + ph->p_memsz);
		if (guest_ptr(vm, ph->p_paddr, ph->p_memsz))
			continue;
		if (ph->p_paddr + ph->p_memsz > PCI_HOLE_START)
			need_ram(vm, img->name, ph->p_paddr, ph->p_memsz);
		short_of_ram = true;
	}
	if (short_of_ram)
		need_ram(vm, img->name, *lo, *end - *lo);
}

static void check_elf_header(const struct image *img, const Elf64_Ehdr *eh)
{
	if (eh->e_ident[EI_CLASS] == ELFCLASS32)
		errx(EXIT_ERROR, "%s: is a 32-bit ELF; %s", img->name,
		     accepted);
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB)
		errx(EXIT_ERROR, "%s: is an ELF file, but not little-endian "
		     "ELF64; %s", img->name, accepted);
	if (eh->e_machine != EM_X86_64)
		errx(EXIT_ERROR, "%s: is an ELF64 file for machine %u, not "
		     "x86-64; %s", img->name, eh->e_machine, accepted);
	if (eh->e_type != ET_EXEC)
		errx(EXIT_ERROR, "%s: is an ELF64 file of type %u, not an "
		     "executable like vmlinux; %s", img->name, eh->e_type,
		     accepted);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phoff > img->size)
		errx(EXIT_ERROR, "%s: ELF64 file has no usable program "
		     "headers", img->name);
}

/* The program headers are read once, and what was checked is what
 * loads: a file rewritten while we read it cannot slip a segment past
 * the checks. */
static void load_elf(struct vm *vm, const struct image *img)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *phs;
	unsigned int i, loaded = 0;
	u64 lo, end;

	img_read(img, &eh, 0, sizeof(eh));
	check_elf_header(img, &eh);
	phs = malloc_or_die((size_t)eh.e_phnum * sizeof(*phs));
	img_read(img, phs, eh.e_phoff, (u64)eh.e_phnum * sizeof(*phs));
	check_segments(vm, img, phs, eh.e_phnum, &lo, &end);

	for (i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *ph = &phs[i];

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		img_to_guest(vm, img, ph->p_paddr, ph->p_offset, ph->p_filesz);
		memset((u8 *)need_ram(vm, img->name, ph->p_paddr, ph->p_memsz)
		       + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
		loaded++;
	}
	free(phs);
	if (!loaded)
		errx(EXIT_ERROR, "%s: ELF64 file has nothing to load",
		     img->name);
	if (!guest_ptr(vm, eh.e_entry, 1) || eh.e_entry < KERNEL_LOAD)
		errx(EXIT_ERROR, "%s: ELF entry point 0x%llx is not in guest "
		     "memory", img->name, (unsigned long long)eh.e_entry);

	/* No setup header: boot_setup() writes one for the kernel. */
	vm->kernel->bzimage = false;
	vm->kernel->cmdline_max = BOOT_CMDLINE_MAX - 1;
	vm->kernel->initrd_max = 0x80000000;	/* what bzImages ask for */
	vm->entry = eh.e_entry;
	vm->kernel_end = end;
	verbose("%s: ELF64, %u segments up to 0x%llx, entry 0x%llx",
		img->name, loaded, (unsigned long long)end,
		(unsigned long long)eh.e_entry);
}

/* Inflate a gzip file into a buffer that grows as needed. */
static u8 *gunzip(const struct image *img, u64 *outlen)
{
	z_stream zs = { 0 };
	u64 cap = min64(img->size * 4, GUNZIP_MAX);
	u8 *in, *out;
	int ret;

	if (img->size > GUNZIP_MAX)
		errx(EXIT_ERROR, "%s: gzip file is too big for a kernel",
		     img->name);
	in = malloc_or_die(img->size);
	img_read(img, in, 0, img->size);
	out = malloc_or_die(cap);

	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		errx(EXIT_ERROR, "%s: cannot start zlib: %s", img->name,
		     zs.msg ? zs.msg : "out of memory");
	zs.next_in = in;
	zs.avail_in = img->size;
	for (;;) {
		zs.next_out = out + zs.total_out;
		zs.avail_out = cap - zs.total_out;
		ret = inflate(&zs, Z_NO_FLUSH);
		if (ret == Z_STREAM_END)
			break;
		if (ret == Z_BUF_ERROR && zs.avail_in == 0)
			errx(EXIT_ERROR, "%s: gzip data ends early (truncated "
			     "file?)", img->name);
		if (ret != Z_OK && ret != Z_BUF_ERROR)
			errx(EXIT_ERROR, "%s: corrupt gzip data: %s",
			     img->name, zs.msg ? zs.msg : "inflate failed");
		if (zs.avail_out)
			continue;
		if (cap == GUNZIP_MAX)
			errx(EXIT_ERROR, "%s: unpacks to more than %llu MiB; "
			     "not a kernel", img->name, GUNZIP_MAX / MiB);
		cap = min64(cap * 2, GUNZIP_MAX);
		out = realloc(out, cap);
		if (!out)
			err(EXIT_ERROR, "%s: unpacking", img->name);
	}
	*outlen = zs.total_out;
	inflateEnd(&zs);
	free(in);
	return out;
}

/* Tell the format by its magic numbers, then load it. */
static void load_image(struct vm *vm, const struct image *img, bool gzipped)
{
	u8 m[0x206];

	if (img->size < sizeof(Elf64_Ehdr))
		errx(EXIT_ERROR, "%s: too small to be a kernel (%llu bytes); "
		     "%s", img->name, (unsigned long long)img->size, accepted);
	img_read(img, m, 0, min64(img->size, sizeof(m)));

	if (!memcmp(m, ELFMAG, SELFMAG)) {
		load_elf(vm, img);
		return;
	}
	if (img->size >= sizeof(m) && !memcmp(m + 0x202, "HdrS", 4)) {
		load_bzimage(vm, img);
		return;
	}
	if (m[0] == 0x1f && m[1] == 0x8b) {
		struct image in = { .fd = -1 };
		u8 *buf;

		if (gzipped)
			errx(EXIT_ERROR, "%s: is gzip-compressed twice; %s",
			     img->name, accepted);
		buf = gunzip(img, &in.size);
		in.buf = buf;
		in.name = img->name;
		verbose("%s: gzip, %llu bytes unpacked", img->name,
			(unsigned long long)in.size);
		load_image(vm, &in, true);
		free(buf);
		return;
	}
	errx(EXIT_ERROR, "%s: not a kernel: no bzImage header and no ELF "
	     "magic%s; %s", img->name, gzipped ? " in the gzip data" : "",
	     accepted);
}

void boot_load_kernel(struct vm *vm, const char *file)
{
	struct image img = { .name = file };

	vm->kernel = malloc_or_die(sizeof(*vm->kernel));
	vm->kernel->cmdline_max = BOOT_CMDLINE_MAX - 1;
	vm->kernel->initrd_max = 0x80000000;

	img.fd = open_image("kernel", file, "a kernel", &img.size);
	load_image(vm, &img, false);
}

/*L:130 The initrd goes as high as the kernel allows, so that the kernel
 * (which unpacks upwards from where it was put) never runs into it. */
void boot_load_initrd(struct vm *vm, const char *file)
{
	struct image img = { .name = file };
	u64 top, bottom, addr;

	img.fd = open_image("initrd", file, "an initrd", &img.size);
	top = min64(vm->kernel->initrd_max, vm->low_end);
	bottom = max64(vm->kernel_end, KERNEL_LOAD);
	bottom = (bottom + 0xfff) & ~0xfffULL;
	if (img.size > top || ((top - img.size) & ~0xfffULL) < bottom)
		errx(EXIT_ERROR, "%s: initrd of %llu MiB does not fit below "
		     "0x%llx in %llu MiB of memory; give lguest more memory",
		     file, (unsigned long long)mib_up(img.size),
		     (unsigned long long)top,
		     (unsigned long long)(vm->ram_size / MiB));
	addr = (top - img.size) & ~0xfffULL;
	img_to_guest(vm, &img, addr, 0, img.size);

	vm->kernel->initrd_addr = addr;
	vm->kernel->initrd_size = img.size;
	verbose("%s: initrd, %llu bytes at 0x%llx", file,
		(unsigned long long)img.size, (unsigned long long)addr);
}

static int e820_add(struct e820_range *map, int n, u64 start, u64 end,
		    u32 type)
{
	if (end <= start || n >= E820_MAX)
		return n;
	map[n].addr = start;
	map[n].size = end - start;
	map[n].type = type;
	return n + 1;
}

/*L:140 The memory map a PC BIOS would report: conventional memory up to
 * a small EBDA, the BIOS area (where our ACPI tables are), RAM from 1 MiB
 * to the PCI hole, and the rest of RAM above 4 GiB. */
int e820_build(const struct vm *vm, struct e820_range *map)
{
	u64 low = vm->low_end;
	int n = 0;

	n = e820_add(map, n, 0, min64(EBDA_START, low), E820_USABLE);
	n = e820_add(map, n, EBDA_START, EBDA_END, E820_RESERVED);
	n = e820_add(map, n, BIOS_START, BIOS_END, E820_RESERVED);
	n = e820_add(map, n, KERNEL_LOAD, low, E820_USABLE);
	if (vm->ram_size > low)
		n = e820_add(map, n, HIGH_RAM_START,
			     HIGH_RAM_START + vm->ram_size - low, E820_USABLE);
	return n;
}

void *boot_ptr(struct vm *vm, u64 gpa, u64 len)
{
	void *p = guest_ptr(vm, gpa, len);

	if (!p)
		errx(EXIT_ERROR, "guest memory too small for the boot data "
		     "at 0x%llx", (unsigned long long)gpa);
	return p;
}

static const char *e820_type_name(u32 type)
{
	switch (type) {
	case E820_USABLE:	return "usable";
	case E820_ACPI:		return "ACPI data";
	default:		return "reserved";
	}
}

void boot_setup(struct vm *vm, const char *cmdline)
{
	struct boot_params *bp = boot_ptr(vm, BOOT_PARAMS, sizeof(*bp));
	struct e820_range map[E820_MAX];
	size_t len = strlen(cmdline);
	u64 max = min64(vm->kernel->cmdline_max, BOOT_CMDLINE_MAX - 1);
	u16 bda[2];
	int i, n;

	memset(bp, 0, sizeof(*bp));
	if (vm->kernel->bzimage) {
		memcpy((u8 *)bp + SETUP_HDR, vm->kernel->hdr, vm->kernel->hdr_len);
	} else {
		/* Just enough of a header for the kernel to believe it. */
		bp->hdr.boot_flag = 0xaa55;
		bp->hdr.header = HDRS_MAGIC;
		bp->hdr.version = 0x020f;
		bp->hdr.loadflags = LOADED_HIGH;
		bp->hdr.cmdline_size = vm->kernel->cmdline_max;
		bp->hdr.initrd_addr_max = vm->kernel->initrd_max - 1;
	}
	/*
	 * We are an "undefined" loader (0xff).  The heap flags only matter
	 * to the 16-bit setup code, which never runs here.
	 */
	bp->hdr.type_of_loader = 0xff;
	bp->hdr.loadflags &= ~(CAN_USE_HEAP | KEEP_SEGMENTS);
	bp->hdr.heap_end_ptr = 0;

	if (len > max)
		errx(EXIT_ERROR, "command line is %zu bytes; this kernel "
		     "accepts at most %llu", len, (unsigned long long)max);
	memcpy(boot_ptr(vm, BOOT_CMDLINE, len + 1), cmdline, len + 1);
	bp->hdr.cmd_line_ptr = (u32)BOOT_CMDLINE;
	bp->ext_cmd_line_ptr = (u64)BOOT_CMDLINE >> 32;

	bp->hdr.ramdisk_image = (u32)vm->kernel->initrd_addr;
	bp->hdr.ramdisk_size = (u32)vm->kernel->initrd_size;
	bp->ext_ramdisk_image = vm->kernel->initrd_addr >> 32;
	bp->ext_ramdisk_size = vm->kernel->initrd_size >> 32;

	n = e820_build(vm, map);
	for (i = 0; i < n; i++) {
		bp->e820_table[i].addr = map[i].addr;
		bp->e820_table[i].size = map[i].size;
		bp->e820_table[i].type = map[i].type;
		verbose("e820: [mem 0x%016llx-0x%016llx] %s",
			(unsigned long long)map[i].addr,
			(unsigned long long)(map[i].addr + map[i].size - 1),
			e820_type_name(map[i].type));
	}
	bp->e820_entries = n;

	/* Saves the kernel scanning for the RSDP (protocol 2.14). */
	bp->acpi_rsdp_addr = ACPI_RSDP;

	/*
	 * The BIOS data area: where the EBDA starts (as a segment) and how
	 * many KiB of conventional memory lie below it.  The kernel reads
	 * these to decide what of low memory to leave alone.
	 */
	bda[0] = EBDA_START >> 4;
	bda[1] = EBDA_START / KiB;
	memcpy(boot_ptr(vm, 0x40e, 2), &bda[0], 2);
	memcpy(boot_ptr(vm, 0x413, 2), &bda[1], 2);

	vm->boot_params = BOOT_PARAMS;
	boot_cpu_setup(vm);
}
