/*
 * args.c - reading what the user asked for.
 *
 * lguest's own positional form stays: options, then <mem>, then the
 * kernel, then the guest's command line.  Options may come before or
 * between <mem> and <kernel>; after the kernel everything belongs to the
 * guest, even words that start with '-'.  A --config file is read first,
 * through the very same option table, so the command line overrides it.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "rundir.h"
#include "machine.h"
#include "priv.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: lguest [options] <mem> <kernel> [kernel arguments...]\n"
"\n"
"Boot a Linux kernel in a virtual machine with <mem> of RAM (MiB, or with\n"
"a K, M, G suffix): on KVM an x86-64 bzImage or ELF vmlinux, optionally\n"
"gzipped; on /dev/lguest a 32-bit paravirt bzImage or ELF vmlinux.\n"
"Everything after the kernel is its command line.\n"
"\n"
"Options:\n"
"  --config=FILE   read options from FILE first (see lguest.conf(5));\n"
"                  the command line overrides it\n"
"  --initrd=FILE   load FILE as the initial ramdisk\n"
"  --cpus=N[,overcommit]\n"
"                  give the guest N virtual CPUs (default 1), at most\n"
"                  this host's CPUs unless overcommit is added\n"
"  --hypervisor=kvm|lguest\n"
"                  run the guest on /dev/kvm or on /dev/lguest (default:\n"
"                  KVM if /dev/kvm exists, else /dev/lguest)\n");
	for (int i = 0; device_types[i]; i++)
		fputs(device_types[i]->help, f);
	fprintf(f,
"  --console-input=auto|serial|virtio\n"
"                  where keystrokes go: the 8250 (ttyS0), the virtio\n"
"                  console (hvc0), or hvc0 once its driver is up (auto)\n"
"  --user=NAME     run as NAME once devices are open (also --username)\n"
"  --chroot=DIR    change root to DIR once devices are open\n"
"  --shutdown-timeout=SECONDS\n"
"                  on SIGTERM, wait this long for the guest to power off\n"
"                  after pressing its power button (default 30)\n"
"  --console=stdio|pty|socket[:PATH]|file:PATH\n"
"                  the console's host end: this terminal (the default),\n"
"                  a new pty, a socket to attach to, or a file\n"
"  --name=NAME     name the guest: its console is found in\n"
"                  /run/lguest/NAME/ by lguest console NAME\n"
"  --daemon        run in the background once the guest runs; errors\n"
"                  before that are reported, and then go to syslog\n"
"  --pidfile=FILE  write our pid to FILE, locked while we run\n"
"  --no-seccomp    no system call filters (for debugging only)\n"
"  -v, --verbose   say what the Launcher does\n"
"  -h, --help      print this help and exit\n"
"  -V, --version   print the version and exit\n"
"\n"
"Console: Ctrl-A x (or three Ctrl-C within a second) stops the guest;\n"
"Ctrl-A Ctrl-A sends a Ctrl-A.\n"
"\n"
"lguest console NAME attaches this terminal to a named guest's console;\n"
"Ctrl-] or Ctrl-A d detaches and leaves the guest running.\n"
"\n"
"Exit status: 0 guest powered off, 1 error, 2 usage error,\n"
"3 guest crashed or panicked, 4 stopped from the console,\n"
"5 did not power off within the shutdown timeout.\n");
}

const char *args_origin = "";

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lguest: %s", args_origin);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EXIT_USAGE);
}

/*L:300 Memory comes as lguest always took it, a number of megabytes, or
 * with the suffix everyone else uses: 512M, 2G, 65536K. */
static u64 parse_mem(const char *s)
{
	u64 host = (u64)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
	u64 n = 0, unit = MiB;
	const char *p = s;

	if (*p < '0' || *p > '9')
		usage_error("memory size '%s' is not a number; give MiB or a "
			    "size like 512M or 2G", s);
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			usage_error("memory size '%s' is too big", s);
		n = n * 10 + (*p - '0');
	}
	switch (*p) {
	case 'k': case 'K': unit = KiB; p++; break;
	case 'm': case 'M': unit = MiB; p++; break;
	case 'g': case 'G': unit = GiB; p++; break;
	case 't': case 'T': unit = 1024 * GiB; p++; break;
	}
	if (*p == 'i' && p[1] == 'B')
		p += 2;
	else if (*p == 'B')
		p++;
	if (*p)
		usage_error("memory size '%s' is not a number; give MiB or a "
			    "size like 512M or 2G", s);
	if (n > UINT64_MAX / unit)
		usage_error("memory size '%s' is too big", s);
	n *= unit;
	if (n < 8 * MiB)
		usage_error("memory size '%s' is too small; give at least 8M", s);
	if (n % (4 * KiB))
		usage_error("memory size '%s' is not a multiple of 4K", s);
	if (n > host)
		usage_error("memory size '%s' is more than this host's %llu MiB "
			    "of RAM; give less", s,
			    (unsigned long long)(host / MiB));
	return n;
}

/*L:302 A guest may have as many vCPUs as the host has CPUs online; more
 * only when asked for by name, since a vCPU that waits for a host CPU
 * holds up every other vCPU that waits for it (a spin lock's holder,
 * an IPI's target).  KVM's own limit is checked once /dev/kvm is open. */
static int parse_cpus(const char *s)
{
	char num[16], *end;
	const char *comma = strchr(s, ',');
	bool overcommit = false;
	long n, host = sysconf(_SC_NPROCESSORS_ONLN);

	if (comma) {
		if (strcmp(comma + 1, "overcommit"))
			usage_error("--cpus=%s: after the count only "
				    "',overcommit' may follow", s);
		overcommit = true;
	}
	snprintf(num, sizeof(num), "%.*s",
		 (int)(comma ? comma - s : (long)strlen(s)), s);
	n = strtol(num, &end, 10);
	if (!*num || *end || (comma && comma - s >= (long)sizeof(num)))
		usage_error("--cpus=%s: not a number; give how many vCPUs, "
			    "1 to %d", s, VM_MAX_VCPUS);
	if (n < 1 || n > VM_MAX_VCPUS)
		usage_error("--cpus=%s: give 1 to %d vCPUs", s, VM_MAX_VCPUS);
	if (host > 0 && n > host && !overcommit)
		usage_error("--cpus=%ld: this host has %ld CPU%s online; give "
			    "at most %ld, or --cpus=%ld,overcommit to share "
			    "them", n, host, host == 1 ? "" : "s", host, n);
	return n;
}

static int parse_seconds(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (!*s || *end || n < 0 || n > 24 * 3600)
		usage_error("--shutdown-timeout=%s: give whole seconds, "
			    "0 to 86400", s);
	return n;
}

static enum input_to parse_input(const char *s)
{
	if (!strcmp(s, "auto"))
		return INPUT_AUTO;
	if (!strcmp(s, "serial"))
		return INPUT_SERIAL;
	if (!strcmp(s, "virtio"))
		return INPUT_VIRTIO;
	usage_error("--console-input=%s: say auto, serial or virtio", s);
}

/* The kernel's command line is every word after the kernel file. */
static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc_or_die(len);
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* Options may come before, between or after <mem> and <kernel>; after the
 * kernel everything belongs to the guest, even words that start with '-'.
 * The devices' options come from their types (parts.def), each with the
 * value DEVICE_OPT + its index there. */
#define DEVICE_OPT	0x100

static const struct option own_opts[] = {
	{ "config", required_argument, NULL, 'F' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cpus", required_argument, NULL, 'n' },
	{ "hypervisor", required_argument, NULL, 'H' },
	{ "console-input", required_argument, NULL, 'c' },
	{ "user", required_argument, NULL, 'u' },
	{ "username", required_argument, NULL, 'u' },
	{ "chroot", required_argument, NULL, 'R' },
	{ "shutdown-timeout", required_argument, NULL, 'T' },
	{ "daemon", no_argument, NULL, 'D' },
	{ "console", required_argument, NULL, 'C' },
	{ "name", required_argument, NULL, 'N' },
	{ "pidfile", required_argument, NULL, 'P' },
	{ "no-seccomp", no_argument, NULL, 'S' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
};

static struct option opts[ARRAY_SIZE(own_opts) + NR_DEVICE_TYPES + 1];

static void make_opts(void)
{
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(own_opts); i++)
		opts[n++] = own_opts[i];
	for (int i = 0; device_types[i]; i++)
		opts[n++] = (struct option){
			device_types[i]->option,
			device_types[i]->has_arg ? required_argument : no_argument,
			NULL, DEVICE_OPT + i,
		};
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
}

/* One option, from either source.  Scalars: the last one given wins. */
static void apply(struct args *a, int c, const char *v, const char *origin)
{
	if (c >= DEVICE_OPT) {
		const struct device_type *type = device_types[c - DEVICE_OPT];

		if (a->ndev == MAX_DEVICES)
			usage_error("too many devices: at most %d", MAX_DEVICES);
		a->dev[a->ndev] = (struct devarg){ type, v, origin, 1 };
		for (int i = 0; i < a->ndev; i++)
			a->dev[a->ndev].nth += a->dev[i].type == type;
		a->ndev++;
		return;
	}
	switch (c) {
	case 'F':
		break;		/* read before anything else */
	case 'i':
		a->initrd = v;
		break;
	case 'n':
		a->cpus = parse_cpus(v);
		break;
	case 'H':
		if (!strcmp(v, "kvm"))
			a->hv = HV_KVM;
		else if (!strcmp(v, "lguest"))
			a->hv = HV_LGUEST;
		else
			usage_error("--hypervisor=%s: give kvm or lguest", v);
		break;
	case 'c':
		a->input = parse_input(v);
		break;
	case 'u':
		priv_set_user(v);
		break;
	case 'R':
		priv_set_chroot(v);
		break;
	case 'T':
		a->shutdown_timeout = parse_seconds(v);
		break;
	case 'D':
		a->daemon = true;
		break;
	case 'C':
		a->console = v;
		break;
	case 'N':
		if (!rundir_name_ok(v))
			usage_error("--name=%s: a name is up to 64 letters, "
				    "digits, '.', '_' and '-', not starting "
				    "with '.' or '-'", v);
		a->name = v;
		break;
	case 'P':
		a->pidfile = v;
		break;
	case 'S':
		a->no_seccomp = true;
		break;
	case 'v':
		verbose_flag = true;
		break;
	case 'h':
		usage(stdout);
		exit(0);
	case 'V':
		printf("lguest %s\n", PACKAGE_VERSION);
		exit(0);
	}
}

bool args_apply(struct args *a, const char *key, const char *value,
		const char *origin)
{
	for (const struct option *o = opts; o->name; o++) {
		if (strcmp(o->name, key) || o->val == 'F' || o->val == 'h' ||
		    o->val == 'V')
			continue;
		if (o->has_arg == no_argument) {
			/* Booleans: "rng = yes".  "no" just leaves it out. */
			if (!strcmp(value, "yes") || !strcmp(value, "true") ||
			    !strcmp(value, "1"))
				apply(a, o->val, NULL, origin);
			else if (strcmp(value, "no") && strcmp(value, "false") &&
				 strcmp(value, "0"))
				usage_error("%s: say yes or no, not '%s'", key,
					    value);
			return true;
		}
		apply(a, o->val, value, origin);
		return true;
	}
	return false;
}

/* After the kernel, "--initrd=x" is the guest's, as lguest always had
 * it; but it is far more often one of ours put in the wrong place, and
 * the guest then boots without it.  Say so, and how to mean it. */
static void warn_misplaced(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		size_t n;

		if (strncmp(w, "--", 2))
			continue;
		n = strcspn(w + 2, "=");
		for (const struct option *o = opts; o->name; o++)
			if (strlen(o->name) == n && !strncmp(o->name, w + 2, n)) {
				warnx("warning: '%s' comes after the kernel, so it "
				      "is passed to the guest, not to lguest; "
				      "put it before the kernel", w);
				break;
			}
	}
}

/* --config=FILE or --config FILE, wherever it is before the kernel. */
static const char *find_config(int argc, char **argv)
{
	const char *path = NULL;
	int positional = 0;

	for (int i = 1; i < argc && positional < 2; i++) {
		if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (argv[i][0] != '-')
			positional++;
	}
	return path;
}

void parse_args(int argc, char **argv, struct args *a)
{
	const char *config;
	int c;

	make_opts();
	config = find_config(argc, argv);
	if (config)
		config_load(config, a);

	opterr = 0;
	for (int positional = 0; positional < 2;) {
		while ((c = getopt_long(argc, argv, "+:vhV", opts, NULL)) != -1) {
			if (c == ':')
				usage_error("option '%s' needs a value; see "
					    "lguest --help", argv[optind - 1]);
			if (c == '?')
				usage_error("unknown option '%s'; see lguest --help",
					    argv[optind - 1]);
			apply(a, c, optarg, NULL);
		}
		if (optind >= argc)
			break;
		/* With memory and kernel from a config file, words that are
		 * not a memory size are the guest's command line. */
		if (positional == 0 && a->kernel &&
		    !isdigit((unsigned char)argv[optind][0]))
			break;
		if (positional++ == 0)
			a->mem_arg = argv[optind++];
		else
			a->kernel = argv[optind++];
	}
	if (!a->mem_arg)
		usage_error("no memory size given; usage: lguest [options] "
			    "<mem> <kernel> [kernel arguments...]");
	a->mem = parse_mem(a->mem_arg);
	if (!a->kernel)
		usage_error("no kernel given; usage: lguest [options] <mem> "
			    "<kernel> [kernel arguments...]");
	/* Kernel arguments on the command line replace the file's. */
	if (optind < argc || !a->cmdline)
		a->cmdline = join_args(argc - optind, argv + optind);
	warn_misplaced(argc - optind, argv + optind);

	/* A daemon has no terminal: its console must be elsewhere. */
	if (a->daemon && a->console && !strcmp(a->console, "stdio"))
		usage_error("--console=stdio cannot be used with --daemon");
	if (a->daemon && !a->console) {
		if (!a->name)
			usage_error("--daemon needs --name=NAME (the console is "
				    "then a socket to attach to) or --console=pty, "
				    "socket:PATH or file:PATH");
		a->console = "socket";
	}
}
