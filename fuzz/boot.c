/*
 * boot.c - fuzz the kernel loader (src/x86/boot.c): bzImage setup
 * headers, ELF64 program headers, gzip around either, then the
 * boot_params, command line and e820 map written for what loaded.
 *
 * Input: the kernel file, byte for byte.  Guest RAM is 4 MiB, so what
 * a kernel may load is bounded by that; a file that asks for more is
 * rejected the way lguest rejects it.
 */
#include "fuzz.h"
#include "x86/boot.h"

#define RAM	(4 * MiB)

static const char *kernel;

static void one(void *arg)
{
	struct vm *vm = fuzz_vm(RAM, RAM);

	/* The file stays open from the first input on (it is kept for a
	 * reboot): each input rewrites it in place. */
	boot_load_kernel(vm, kernel);
	boot_setup(vm, "console=ttyS0 root=/dev/vda");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	kernel = fuzz_tmpfile("kernel");
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	fuzz_write_file(kernel, data, size);
	fuzz_run(one, NULL);
	fuzz_reset();
	return 0;
}
