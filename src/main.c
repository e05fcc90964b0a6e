/*P:100 This is the Launcher code, a simple program which lays out the
 * "physical" memory for the new Guest by mapping a piece of our own,
 * loads the kernel and initrd into it, describes the machine with boot
 * parameters and ACPI tables, and then runs it until it powers off.
 *
 * Once that meant /dev/lguest; today the Host's hypervisor is KVM, but
 * the story is the same, and main() below tells it from top to bottom.
 :*/
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "conhost.h"
#include "daemon.h"
#include "hv.h"
#include "hw/hw.h"
#include "lguest.h"
#include "notify.h"
#include "pci.h"
#include "priv.h"
#include "term.h"
#include "virtio/devices.h"
#include "x86/boot.h"
#include "x86/layout.h"

/* Which console gets the keyboard. */
enum input_to { INPUT_AUTO, INPUT_SERIAL, INPUT_VIRTIO };

/* A device option, kept in command-line order: that is PCI slot order. */
struct devarg {
	int opt;
	const char *arg;
};

/* What the command line asked for. */
struct args {
	u64 mem;
	const char *mem_arg;
	const char *kernel;
	const char *initrd;
	char *cmdline;
	enum input_to input;
	int shutdown_timeout;
	bool daemon;
	const char *console;
	const char *name;
	const char *pidfile;
	struct devarg dev[PCI_MAX_SLOTS];
	int ndev;
};

/* Reboot is exec() of ourselves with exactly these arguments. */
static char **main_args;

/* Any thread stops the guest by writing the reason down this pipe. */
static int stop_pipe[2] = { -1, -1 };

static void usage(FILE *f)
{
	fprintf(f,
"Usage: lguest [options] <mem> <kernel> [kernel arguments...]\n"
"\n"
"Boot a Linux kernel (x86-64 bzImage or ELF vmlinux, optionally gzipped)\n"
"in a virtual machine with <mem> of RAM (MiB, or with a K, M, G suffix).\n"
"Everything after the kernel is its command line.\n"
"\n"
"Options:\n"
"  --initrd=FILE   load FILE as the initial ramdisk\n"
"  --block=FILE[,ro]\n"
"                  a virtio disk backed by FILE (repeatable: vda, vdb...)\n"
"  --tunnet=IPADDR[/PREFIX][:MAC]\n"
"  --tunnet=bridge:BRIDGE[:MAC]\n"
"  --tunnet=tap:NAME[:MAC]\n"
"                  a virtio NIC on a new tap with that host address, on a\n"
"                  new tap added to BRIDGE, or on an existing tap NAME\n"
"  --rng           a virtio entropy source\n"
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

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lguest: ");
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
 * kernel everything belongs to the guest, even words that start with '-'. */
static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "initrd", required_argument, NULL, 'i' },
		{ "block", required_argument, NULL, 'b' },
		{ "tunnet", required_argument, NULL, 't' },
		{ "rng", no_argument, NULL, 'r' },
		{ "console-input", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "username", required_argument, NULL, 'u' },
		{ "chroot", required_argument, NULL, 'R' },
		{ "shutdown-timeout", required_argument, NULL, 'T' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "console", required_argument, NULL, 'C' },
		{ "name", required_argument, NULL, 'N' },
		{ "pidfile", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	opterr = 0;
	while (!a->kernel) {
		while ((c = getopt_long(argc, argv, "+:vhV", opts, NULL)) != -1) {
			switch (c) {
			case 'i':
				a->initrd = optarg;
				break;
			case 'b':
			case 't':
			case 'r':
				/* Slot 0 is the bridge, slot 1 the console. */
				if (a->ndev == PCI_MAX_SLOTS - 2)
					usage_error("too many devices: at most %d",
						    PCI_MAX_SLOTS - 2);
				a->dev[a->ndev++] = (struct devarg){ c, optarg };
				break;
			case 'c':
				a->input = parse_input(optarg);
				break;
			case 'u':
				priv_set_user(optarg);
				break;
			case 'R':
				priv_set_chroot(optarg);
				break;
			case 'T':
				a->shutdown_timeout = parse_seconds(optarg);
				break;
			case 'D':
				a->daemon = true;
				break;
			case 'C':
				a->console = optarg;
				break;
			case 'N':
				if (!conhost_name_ok(optarg))
					usage_error("--name=%s: a name is up to 64 "
						    "letters, digits, '.', '_' and "
						    "'-', not starting with '.' or "
						    "'-'", optarg);
				a->name = optarg;
				break;
			case 'P':
				a->pidfile = optarg;
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
			case ':':
				usage_error("option '%s' needs a value; see "
					    "lguest --help", argv[optind - 1]);
			default:
				usage_error("unknown option '%s'; see lguest --help",
					    argv[optind - 1]);
			}
		}
		if (optind >= argc)
			break;
		if (!a->mem_arg)
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
	a->cmdline = join_args(argc - optind, argv + optind);

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

/*L:310 Guest "physical" memory is one private anonymous mapping, with a
 * guard page at each end so that a stray access just off either edge
 * faults instead of touching our own data.  Below 4 GiB the PCI hole
 * interrupts it; what does not fit below the hole appears at 4 GiB. */
static void map_memory(struct vm *vm, u64 size)
{
	long page = sysconf(_SC_PAGESIZE);
	u8 *p;

	p = mmap(NULL, size + 2 * page, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		err(EXIT_ERROR, "cannot map %llu MiB of guest memory",
		    (unsigned long long)(size / MiB));
	if (mprotect(p + page, size, PROT_READ | PROT_WRITE) < 0)
		err(EXIT_ERROR, "cannot map guest memory");
	vm->ram = p + page;
	vm->ram_size = size;
	vm->low_end = size < PCI_HOLE_START ? size : PCI_HOLE_START;
	verbose("guest memory: %llu MiB at %p",
		(unsigned long long)(size / MiB), vm->ram);
}

void vm_stop(enum stop_reason why)
{
	u8 c = why;

	while (write(stop_pipe[1], &c, 1) < 0 && errno == EINTR)
		;
}

/*L:340 Keystrokes go to ttyS0 until the guest's virtio-console driver
 * is up (it posted buffers for input), then to hvc0 -- unless the user
 * said which one they want. */
static enum input_to input_to;

static void console_keys(const u8 *buf, size_t len)
{
	if (input_to == INPUT_VIRTIO ||
	    (input_to == INPUT_AUTO && console_ready()))
		console_input(buf, len);
	else
		serial_input(buf, len);
}

/* Devices, in command-line order after the console (slot 1). */
static void add_devices(struct vm *vm, const struct args *a)
{
	console_add(vm, STDOUT_FILENO);
	for (int i = 0; i < a->ndev; i++) {
		switch (a->dev[i].opt) {
		case 'b':
			blk_add(vm, a->dev[i].arg);
			break;
		case 't':
			net_add(vm, a->dev[i].arg);
			break;
		case 'r':
			rng_add(vm);
			break;
		}
	}
}

void vm_irq_line(struct vm *vm, int irq, int level)
{
	vm->hv->irq_line(vm, irq, level);
}

static void *vcpu_thread(void *arg)
{
	struct vm *vm = arg;

	vm->hv->vcpu_run(vm);
	return NULL;
}

/* SIGTERM, SIGINT and SIGHUP are read from a signalfd by the main loop,
 * so no handler ever runs in the middle of the vCPU thread's work. */
static int setup_signals(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		errx(EXIT_ERROR, "cannot block signals");
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0)
		err(EXIT_ERROR, "signalfd");
	return fd;
}

/* Die of the signal that was sent, so that our parent sees the truth --
 * but with the terminal put back first. */
static void __attribute__((noreturn)) die_of_signal(int sig)
{
	sigset_t set;

	term_restore();
	conhost_cleanup();
	pidfile_remove();
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	exit(128 + sig);
}

/* Set once SIGTERM asked the guest to power off. */
static bool shutting_down;

/*L:320 The main thread's only job once the guest runs: carry keystrokes
 * to the console, and wait for a reason to stop.  SIGTERM presses the
 * guest's power button and gives it @timeout seconds to power off; a
 * second SIGTERM, or SIGINT or SIGHUP, stops it at once. */
static enum stop_reason wait_for_stop(int sig_fd, int timeout)
{
	struct pollfd p[8] = {
		{ .fd = stop_pipe[0], .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	struct timespec now;
	time_t deadline = 0;
	int wait = -1, n, ncon;
	u8 buf[1];

	for (;;) {
		if (deadline) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec >= deadline)
				return STOP_TIMEOUT;
			wait = (deadline - now.tv_sec) * 1000;
		}
		ncon = conhost_pollfds(p + 2, ARRAY_SIZE(p) - 2);
		n = poll(p, 2 + ncon, wait);
		if (n < 0 && errno != EINTR)
			err(EXIT_ERROR, "poll");
		if (n <= 0)
			continue;
		if (p[0].revents && read(stop_pipe[0], buf, 1) == 1)
			return buf[0];
		if (p[1].revents && read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo != SIGTERM || deadline)
				die_of_signal(si.ssi_signo);
			warnx("SIGTERM: pressing the guest's power button; "
			      "waiting up to %ds for it to power off", timeout);
			notify_status("shutting down the guest");
			acpi_pm_power_button();
			shutting_down = true;
			clock_gettime(CLOCK_MONOTONIC, &now);
			deadline = now.tv_sec + timeout + (timeout == 0);
		}
		conhost_ready(p + 2, ncon);
	}
}

/*L:330 Reboot is pretty easy: put the terminal back and exec() the
 * Launcher afresh, with the same arguments and the same PID. */
static void __attribute__((noreturn)) restart(void)
{
	warnx("guest rebooted, restarting");
	notify_status("guest rebooting");
	term_restore();
	daemon_before_exec();
	conhost_before_exec();
	fd_pass_on();
	fexecve(fd_kept("exe"), main_args, environ);
	err(EXIT_ERROR, "cannot restart: exec of the launcher failed");
}

/* --pidfile: still open and locked after a reboot, and kept for the next. */
static void take_pidfile(const char *path)
{
	int fd = fd_kept("pidfile");

	if (fd >= 0) {
		pidfile_adopt(fd, path);
		return;
	}
	pidfile_open(path);
	fd_keep("pidfile", pidfile_fd());
}

/*L:105 The main routine is where the real work begins: */
int main(int argc, char **argv)
{
	struct vm vm = { .hv = &kvm_ops };
	struct args a = { 0 };
	pthread_t vcpu;
	int sig_fd;

	/* "lguest console NAME" attaches to a running guest instead. */
	if (argc > 1 && !strcmp(argv[1], "console"))
		return console_attach(argc - 1, argv + 1);

	/* Save the args: we "reboot" by execing ourselves again. */
	main_args = argv;

	/* What are we to boot, and with how much memory? */
	a.shutdown_timeout = 30;
	parse_args(argc, argv, &a);

	/* In the background, if asked: from here on we are the child, and
	 * our parent waits until the guest runs.  Then the console's host
	 * end, where a daemon's user will find it. */
	if (a.daemon)
		daemon_start(a.name);
	if (a.pidfile)
		take_pidfile(a.pidfile);
	conhost_open(a.console, a.name);

	/* Re-executed from a descriptor, we would be called "3" in ps. */
	prctl(PR_SET_NAME, "lguest", 0, 0, 0);

	/* Our own binary, held open: a reboot re-executes it from here even
	 * when the path is gone from view (chroot) or no longer ours. */
	if (open_kept("exe", "/proc/self/exe", O_RDONLY) < 0)
		err(EXIT_ERROR, "cannot open /proc/self/exe");

	/* Signals arrive as data on a file descriptor, read below. */
	sig_fd = setup_signals();
	if (pipe2(stop_pipe, O_CLOEXEC) < 0)
		err(EXIT_ERROR, "pipe");

	/* The Guest's "physical" memory, and a machine to put it in. */
	map_memory(&vm, a.mem);
	vm.hv->init(&vm);

	/* Load the kernel and initrd where the boot protocol wants them,
	 * then describe the machine: ACPI tables, e820 map, command line. */
	boot_load_kernel(&vm, a.kernel);
	if (a.initrd)
		boot_load_initrd(&vm, a.initrd);
	acpi_build(&vm);
	boot_setup(&vm, a.cmdline);
	free(a.cmdline);

	/* The chips a PC kernel looks for, and the PCI bus with our
	 * virtio devices on it. */
	serial_init(&vm, STDOUT_FILENO);
	i8042_init(&vm);
	acpi_pm_init(&vm);
	pvpanic_init(&vm);
	pci_init(&vm);
	add_devices(&vm, &a);

	/* Everything is open: from here on we need no privilege at all. */
	priv_drop();

	/* The terminal, if that is the console, becomes the guest's. */
	input_to = a.input;
	if (conhost_is_tty())
		term_init();
	term_set_sink(console_keys);

	/* And off we go: the vCPU gets a thread of its own. */
	vm.hv->vcpu_init(&vm);
	verbose("entering the guest at 0x%llx", (unsigned long long)vm.entry);
	if (pthread_create(&vcpu, NULL, vcpu_thread, &vm))
		errx(EXIT_ERROR, "cannot start the vCPU thread");
	notify_ready();
	daemon_ready();

	switch (wait_for_stop(sig_fd, a.shutdown_timeout)) {
	case STOP_REBOOT:
		/* Asked to stop, the guest restarted instead: that will do. */
		if (!shutting_down)
			restart();
		warnx("the guest restarted while shutting down; stopped it");
		notify_stopping();
		return EXIT_POWEROFF;
	case STOP_POWEROFF:
		notify_stopping();
		verbose("guest powered off");
		return EXIT_POWEROFF;
	case STOP_TIMEOUT:
		notify_stopping();
		warnx("the guest did not power off within %ds; stopped it",
		      a.shutdown_timeout);
		return EXIT_TIMEOUT;
	case STOP_CONSOLE:
		term_restore();
		fprintf(stderr, "\r\nlguest: stopped from the console\n");
		return EXIT_CONSOLE;
	case STOP_CRASH:
	default:
		return EXIT_CRASH;
	}
}
