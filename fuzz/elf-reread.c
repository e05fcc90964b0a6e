/*
 * elf-reread.c - a kernel file rewritten while it loads.
 *
 * The ELF loader once checked p_filesz <= p_memsz on its first read of
 * the program headers, then read them again to load the segments: a
 * writer in between made memset(..., p_memsz - p_filesz) run on for
 * most of the address space.  Here the file is rewritten right after
 * the loader's first read of the program headers, to say p_filesz >
 * p_memsz, with enough file behind it that reading that much succeeds.
 * The loader must either reject the kernel or load what it checked:
 * nothing written past the segment's p_memsz.
 *
 * Linked with -Wl,--wrap=pread (fuzz/run.sh); exit status 0 on success.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "x86/boot.h"

#define RAM		(4 * MiB)
#define PADDR		(2 * MiB)
#define PHOFF		sizeof(Elf64_Ehdr)
#define SEG_OFF		0x1000
#define FILESZ		0x100
#define MEMSZ		0x1000
#define EVIL_FILESZ	0x2000
#define FILE_SIZE	(SEG_OFF + EVIL_FILESZ)
#define CANARY		0x5a

static const char *path;
static int phdr_reads;

ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off);

/* After the loader has read the program headers once (a read that
 * starts at e_phoff: the magic-number probe at 0 is not one), a writer
 * makes the segment bigger in the file than in memory. */
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r = __real_pread(fd, buf, n, off);

	if (r >= (ssize_t)sizeof(Elf64_Phdr) && off == PHOFF &&
	    ++phdr_reads == 1) {
		u64 evil = EVIL_FILESZ;
		int w = open(path, O_WRONLY | O_CLOEXEC);

		if (w < 0 || pwrite(w, &evil, sizeof(evil), PHOFF +
				    offsetof(Elf64_Phdr, p_filesz)) != sizeof(evil)) {
			perror(path);
			exit(2);
		}
		close(w);
	}
	return r;
}

static void write_kernel(void)
{
	static u8 file[FILE_SIZE];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)file;
	Elf64_Phdr *ph = (Elf64_Phdr *)(file + PHOFF);

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = PADDR;
	eh->e_phoff = PHOFF;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_LOAD;
	ph->p_offset = SEG_OFF;
	ph->p_paddr = ph->p_vaddr = PADDR;
	ph->p_filesz = FILESZ;
	ph->p_memsz = MEMSZ;
	memset(file + SEG_OFF, 0xcc, EVIL_FILESZ);
	fuzz_write_file(path, file, sizeof(file));
}

static void load(void *arg)
{
	boot_load_kernel(arg, path);
}

int main(void)
{
	struct vm *vm = fuzz_vm(RAM, RAM);
	bool loaded;
	u8 *seg;

	path = fuzz_tmpfile("elf-reread");
	write_kernel();
	memset(vm->ram, CANARY, RAM);
	loaded = fuzz_run(load, vm);
	if (!phdr_reads) {
		fprintf(stderr, "elf-reread: the loader never read the "
			"program headers: the test tests nothing\n");
		return 1;
	}
	seg = vm->ram + PADDR;
	for (u64 i = MEMSZ; i < EVIL_FILESZ; i++) {
		if (seg[i] != CANARY) {
			fprintf(stderr, "elf-reread: byte 0x%llx past the "
				"segment's p_memsz was written\n",
				(unsigned long long)i);
			return 1;
		}
	}
	if (loaded && (seg[0] != 0xcc || seg[FILESZ] != 0 || seg[MEMSZ - 1] != 0)) {
		fprintf(stderr, "elf-reread: loaded, but not the segment "
			"that was checked\n");
		return 1;
	}
	printf("kernel rewritten after %d read(s) of its program headers: "
	       "%s, nothing past p_memsz written\n", phdr_reads,
	       loaded ? "loaded as checked" : "rejected");
	fuzz_reset();
	return 0;
}
