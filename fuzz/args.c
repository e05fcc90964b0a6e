/*
 * args.c - fuzz the command line (src/args.c): options and their values,
 * the memory size, the kernel and the guest's arguments after it.
 *
 * Input: the words after "lguest", separated by NUL bytes (at most 64).
 * --config=FILE (or --config FILE) always names a small file of our own:
 * which file the input names is not what is tested here, and reading
 * whatever it names could block (config.c's harness fuzzes the files).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "fuzz.h"

#define MAX_WORDS	64

static const char *conf;
static char *conf_opt;

struct cmd {
	int argc;
	char *argv[MAX_WORDS + 2];
	struct args a;
};

static void one(void *arg)
{
	struct cmd *c = arg;

	parse_args(c->argc, c->argv, &c->a);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] = "# lguest.conf\nmemory = 64M\n"
				   "cmdline = console=hvc0\nrng = yes\n";

	conf = fuzz_tmpfile("args-conf");
	fuzz_write_file(conf, (const u8 *)text, sizeof(text) - 1);
	if (asprintf(&conf_opt, "--config=%s", conf) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	char *buf = malloc(size + 1);
	struct cmd *c = calloc(1, sizeof(*c));
	char *p = buf, *end = buf + size;

	if (!buf || !c)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	c->argv[c->argc++] = "lguest";
	while (p <= end && c->argc <= MAX_WORDS) {
		char *w = p;

		p += strlen(p) + 1;
		if (!strncmp(w, "--config=", 9))
			w = conf_opt;
		else if (c->argc > 1 && !strcmp(c->argv[c->argc - 1], "--config"))
			w = (char *)conf;
		c->argv[c->argc++] = w;
	}
	c->argv[c->argc] = NULL;
	optind = 0;
	args_origin = "";
	fuzz_run(one, c);
	fuzz_reset();		/* the command line it joined, too */
	free(c);
	free(buf);
	return 0;
}
