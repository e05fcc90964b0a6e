/*
 * config.c - fuzz lguest.conf parsing (src/config.c): lines, comments,
 * "key = value", every long option as a key with its own checks, and
 * what the command line then does with memory, kernel and cmdline.
 *
 * Input: the file's text.  It is read as "lguest --config=FILE" reads
 * it; a rejection (a usage error, exit 2) is a normal outcome.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "fuzz.h"

static const char *conf;
static char *argv_conf;

static void one(void *arg)
{
	char *argv[] = { "lguest", argv_conf, NULL };
	struct args *a = arg;

	parse_args(2, argv, a);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	conf = fuzz_tmpfile("conf");
	if (asprintf(&argv_conf, "--config=%s", conf) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct args a;

	memset(&a, 0, sizeof(a));
	fuzz_write_file(conf, data, size);
	optind = 0;
	args_origin = "";
	fuzz_run(one, &a);
	fuzz_reset();
	return 0;
}
