/*
 * config.c - /etc/lguest/NAME.conf, as lguest.conf(5) describes it.
 *
 * One "key = value" per line, '#' comments, keys named after the long
 * options.  The positional parts of the command line are keys too:
 * memory, kernel and cmdline.  Values go through the same code as the
 * command line's, with FILE:LINE in front of any complaint.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static char *dup_or_die(const char *s)
{
	char *d = strdup(s);

	if (!d)
		err(EXIT_ERROR, "out of memory");
	return d;
}

static void line_set(struct args *a, const char *key, const char *value,
		     const char *where)
{
	if (!strcmp(key, "memory")) {
		a->mem_arg = value;
	} else if (!strcmp(key, "kernel")) {
		a->kernel = value;
	} else if (!strcmp(key, "cmdline")) {
		free(a->cmdline);
		a->cmdline = dup_or_die(value);
	} else if (!strcmp(key, "config")) {
		usage_error("config: a configuration file cannot include "
			    "another");
	} else if (!args_apply(a, key, value, where)) {
		usage_error("%s: unknown key; the keys are the long options "
			    "of lguest(1), and memory, kernel and cmdline", key);
	}
}

void config_load(const char *path, struct args *a)
{
	FILE *f = fopen(path, "re");
	char buf[8192], *line, *eq, *key, *where;
	int n = 0;

	if (!f)
		err(EXIT_ERROR, "--config=%s", path);
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		if (!strchr(buf, '\n') && !feof(f))
			errx(EXIT_ERROR, "%s:%d: line too long (at most %zu "
			     "bytes)", path, n, sizeof(buf) - 2);
		line = trim(buf);
		if (!*line || *line == '#')
			continue;

		/* Kept for the messages of options that act later. */
		if (asprintf(&where, "%s:%d: ", path, n) < 0)
			err(EXIT_ERROR, "out of memory");
		args_origin = where;
		eq = strchr(line, '=');
		if (!eq)
			usage_error("'%s': not 'key = value'", line);
		*eq = '\0';
		key = trim(line);
		if (!*key)
			usage_error("a value with no key");
		line_set(a, key, dup_or_die(trim(eq + 1)), where);
	}
	if (ferror(f))
		err(EXIT_ERROR, "%s", path);
	fclose(f);
	args_origin = "";
}
