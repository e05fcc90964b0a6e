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
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "attach.h"
#include "conhost.h"
#include "daemon.h"
#include "handover.h"
#include "hv.h"
#include "hw/hw.h"
#include "lguest.h"
#include "machine.h"
#include "notify.h"
#include "pci.h"
#include "pidfile.h"
#include "priv.h"
#include "rundir.h"
#include "seccomp-filter.h"
#include "term.h"
#include "virtio/devices.h"
#include "virtio/virtio.h"
#include "x86/boot.h"
#include "x86/layout.h"

/* Reboot is exec() of ourselves with exactly these arguments. */
static char **main_args;

/* Any thread stops the guest by writing the reason down this pipe. */
static int stop_pipe[2] = { -1, -1 };

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

static void console_keys(void *opaque, const u8 *buf, size_t len)
{
	struct vm *vm = opaque;

	/* On /dev/lguest there is no serial port: hvc0 gets it all. */
	if (input_to == INPUT_VIRTIO || !vm->serial ||
	    (input_to == INPUT_AUTO && console_ready(vm)))
		console_input(vm, buf, len);
	else
		serial_input(vm, buf, len);
}

/* Devices, in command-line order after the console (slot 1).  One from
 * a config file complains with its FILE:LINE in front. */
static void add_devices(struct vm *vm, const struct args *a)
{
	const char *name = program_invocation_short_name;
	char prefix[512];

	console_add(vm, STDOUT_FILENO);
	for (int i = 0; i < a->ndev; i++) {
		const struct devarg *d = &a->dev[i];

		program_invocation_short_name = (char *)name;
		if (d->origin) {
			snprintf(prefix, sizeof(prefix), "%s: %.*s", name,
				 (int)strlen(d->origin) - 2, d->origin);
			program_invocation_short_name = prefix;
		}
		d->type->add(vm, d->arg, d->nth);
	}
	program_invocation_short_name = (char *)name;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	char name[16];

	/* "vcpu1" in top -H and /proc/PID/task/TID/comm. */
	snprintf(name, sizeof(name), "vcpu%d", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	seccomp_install(THREAD_VCPU);
	vcpu->vm->hv->vcpu_run(vcpu);
	return NULL;
}

/* A fatal error on another thread (err() calls exit() there) must not
 * run the exit handlers under that thread's system call filter: they
 * would die of it, leaving the run directory behind and, in daemon mode,
 * the message unlogged.  Registered last, this handler runs first: it
 * hands the exit to the main thread, which runs them all, and parks its
 * own thread until the process ends. */
static pthread_t main_thread;

static void exit_on_main_thread(void)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

	if (pthread_equal(pthread_self(), main_thread))
		return;
	vm_stop(STOP_FATAL);
	pthread_mutex_lock(&m);
	for (;;)
		pthread_cond_wait(&never, &m);
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
	rundir_cleanup();
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
/*L:325 A kernel told console=hvc0 prints nothing until its virtio
 * console driver is up, and a distribution's initramfs without
 * virtio_console starts /init with no console at all and never mounts
 * its root: the terminal stays blank.  If the driver is still not there
 * after HVC0_HINT_MS, say why, once. */
#define HVC0_HINT_MS 30000

static bool hvc0_is_console(const char *cmdline)
{
	const char *p = cmdline, *last = NULL;

	/* The last console= is the one /dev/console is. */
	while (p && (p = strstr(p, "console=")) != NULL) {
		if (p == cmdline || p[-1] == ' ')
			last = p + 8;
		p += 8;
	}
	return last && !strncmp(last, "hvc0", 4) &&
	       (last[4] == ' ' || last[4] == ',' || !last[4]);
}

static void hvc0_hint(struct vm *vm)
{
	if (console_ready(vm))
		return;
	warnx("the guest's console is hvc0, and after %ds its virtio console "
	      "driver is still not up: an initramfs without virtio_console "
	      "never shows anything there (use console=ttyS0; see lguest(1), "
	      "CONSOLE)", HVC0_HINT_MS / 1000);
}

static enum stop_reason wait_for_stop(struct vm *vm, int sig_fd, int timeout,
				      bool hvc0)
{
	struct pollfd p[8] = {
		{ .fd = stop_pipe[0], .events = POLLIN },
		{ .fd = sig_fd, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	u64 deadline = 0, hint = hvc0 ? now_ms() + HVC0_HINT_MS : 0, t;
	int wait, n, ncon;
	u8 buf[1];

	for (;;) {
		t = now_ms();
		if (deadline && t >= deadline)
			return STOP_TIMEOUT;
		if (hint && t >= hint) {
			hvc0_hint(vm);
			hint = 0;
		}
		wait = -1;
		if (deadline)
			wait = deadline - t;
		if (hint && (wait < 0 || hint - t < (u64)wait))
			wait = hint - t;
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
			/* A paravirtual lguest guest has no ACPI. */
			if (!vm->pm) {
				warnx("SIGTERM: the guest has no power button "
				      "on /dev/lguest; stopping it");
				die_of_signal(si.ssi_signo);
			}
			warnx("SIGTERM: pressing the guest's power button; "
			      "waiting up to %ds for it to power off", timeout);
			notify_status("shutting down the guest");
			acpi_pm_power_button(vm);
			shutting_down = true;
			deadline = now_ms() + timeout * 1000ULL + 1;
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
	handover_exec(main_args);
	err(EXIT_ERROR, "cannot restart: exec of the launcher failed");
}

/*L:311 Which hypervisor: KVM where /dev/kvm exists, else the one lguest
 * was born on, /dev/lguest, unless --hypervisor says. */
static const struct hv_ops *choose_hypervisor(enum hypervisor h)
{
	if (h == HV_KVM)
		return &kvm_ops;
	if (h == HV_LGUEST)
		return &lguest_ops;
	/* After a reboot, what was chosen before: the paths may be out of
	 * view (--chroot), the descriptors are not. */
	if (handover_fd("kvm") >= 0)
		return &kvm_ops;
	if (handover_fd("lguest-dev") >= 0)
		return &lguest_ops;
	if (access("/dev/kvm", F_OK) == 0)
		return &kvm_ops;
	if (access("/dev/lguest", F_OK) == 0)
		return &lguest_ops;
	errx(EXIT_ERROR, "neither /dev/kvm nor /dev/lguest exists: load "
	     "KVM (modprobe kvm-intel or kvm-amd), or on a 32-bit host "
	     "with CONFIG_LGUEST, lg");
}

/*L:312 The machine: the Guest's "physical" memory and a hypervisor
 * machine around it; the kernel and initrd where the boot protocol wants
 * them; the tables that describe the machine (ACPI, SMBIOS, e820 map and
 * command line); then the chips a PC kernel looks for, and the PCI bus
 * with our virtio devices on it. */
static void build_pc(struct vm *vm, struct args *a)
{
	map_memory(vm, a->mem);
	vm->hv->init(vm);

	boot_load_kernel(vm, a->kernel);
	if (a->initrd)
		boot_load_initrd(vm, a->initrd);
	acpi_build(vm);
	smbios_build(vm);
	boot_setup(vm, a->cmdline);

	machine_add_chips(vm);
	add_devices(vm, a);
}

/*L:313 On /dev/lguest the machine is smaller: a paravirtual guest needs
 * no chips, no tables and no PCI, only its RAM, the lguest bus just
 * above it, and boot_params saying what it is. */
static void build_lguest(struct vm *vm, struct args *a)
{
	u64 ram;

	if (a->mem % 4096)
		errx(EXIT_ERROR, "guest memory must be a whole number of 4 KiB "
		     "pages on /dev/lguest");
	map_memory(vm, a->mem + lgbus_area());
	vm->hv->init(vm);
	lgbus_init(vm);
	ram = lgbus_ram_end(vm);

	boot32_load_kernel(vm, a->kernel, ram);
	if (a->initrd)
		boot32_load_initrd(vm, a->initrd, ram);
	boot32_setup(vm, a->cmdline, ram);
	add_devices(vm, a);
}

static void build_machine(struct vm *vm, struct args *a)
{
	vm_init(vm, choose_hypervisor(a->hv));
	vm->nr_vcpus = a->cpus;
	if (vm->hv == &lguest_ops)
		build_lguest(vm, a);
	else
		build_pc(vm, a);
	free(a->cmdline);
	a->cmdline = NULL;
}

/* The guest stopped: reboot, or say why we stop, with our exit status. */
static int stopped(enum stop_reason why, int timeout)
{
	switch (why) {
	case STOP_REBOOT:
		/* Asked to stop, the guest restarted instead: that will do. */
		if (!shutting_down)
			restart();
		warnx("the guest restarted while shutting down; stopped it");
		notify_stopping();
		return EXIT_POWEROFF;
	case STOP_POWEROFF:
		notify_stopping();
		/* Asked to stop, say that it did, for the log. */
		if (shutting_down)
			warnx("guest powered off");
		else
			verbose("guest powered off");
		return EXIT_POWEROFF;
	case STOP_TIMEOUT:
		notify_stopping();
		warnx("the guest did not power off within %ds; stopped it",
		      timeout);
		return EXIT_TIMEOUT;
	case STOP_CONSOLE:
		term_restore();
		fprintf(stderr, "\r\nlguest: stopped from the console\n");
		return EXIT_CONSOLE;
	case STOP_FATAL:
		/* Already said, on the thread that failed. */
		return EXIT_ERROR;
	case STOP_CRASH:
	default:
		return EXIT_CRASH;
	}
}

#ifdef __SANITIZE_ADDRESS__
/* A sanitized build: the leak checker's tracer is a clone() our seccomp
 * filters forbid, and after a chroot without /proc the runtime cannot
 * read ASAN_OPTIONS from /proc/self/environ, so say it here. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/*L:050 The main routine is where the real work begins: */
int main(int argc, char **argv)
{
	struct args a = { 0 };
	/* On the heap, not on our stack: the vCPU and queue threads run on
	 * while exit() runs its handlers, after main() has returned. */
	struct vm *vm = malloc_or_die(sizeof(*vm));
	enum stop_reason why;
	bool hvc0;
	int sig_fd;

	/* "lguest console NAME" attaches to a running guest instead. */
	if (argc > 1 && !strcmp(argv[1], "console"))
		return attach_main(argc - 1, argv + 1);

	/* Save the args: we "reboot" by execing ourselves again. */
	main_args = argv;

	/* What are we to boot, and with how much memory? */
	a.shutdown_timeout = 30;
	a.cpus = 1;
	parse_args(argc, argv, &a);

	/* In the background, if asked: from here on we are the child, and
	 * our parent waits until the guest runs.  Then the console's host
	 * end, where a daemon's user will find it. */
	if (a.daemon)
		daemon_start(a.name);
	if (a.pidfile)
		pidfile_open(a.pidfile);
	conhost_open(a.console, a.name);

	/* Is a service manager waiting to hear from us? */
	notify_init();

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

	/* The machine itself: memory, kernel, tables, chips and devices. */
	hvc0 = hvc0_is_console(a.cmdline);
	build_machine(vm, &a);

	/* Everything is open: from here on we need no privilege at all. */
	priv_drop();

	/* The terminal, if that is the console, becomes the guest's. */
	input_to = a.input;
	if (conhost_is_tty())
		term_init();
	term_set_sink(console_keys, vm);

	/* And off we go: each vCPU gets a thread of its own.  The first
	 * enters the kernel; the others wait for it to wake them. */
	for (int i = 0; i < vm->nr_vcpus; i++)
		vm->hv->vcpu_init(&vm->vcpu[i]);
	verbose("entering the guest at 0x%llx with %d vCPU%s",
		(unsigned long long)vm->entry, vm->nr_vcpus,
		vm->nr_vcpus == 1 ? "" : "s");
	/* From here each thread may make only the system calls it needs. */
	seccomp_off = a.no_seccomp;
	seccomp_install(THREAD_MAIN);
	vm_start_vcpus(vm, vcpu_thread);
	notify_ready();
	daemon_ready();
	main_thread = pthread_self();
	atexit(exit_on_main_thread);

	why = wait_for_stop(vm, sig_fd, a.shutdown_timeout, hvc0);
	/* Whichever vCPU stopped the guest, none stays in it: a reboot's
	 * exec() or our exit finds no thread in the guest.  A thread that
	 * failed (STOP_FATAL) is parked in exit_on_main_thread(). */
	if (why != STOP_FATAL)
		vm_stop_vcpus(vm);
	/* A stock kernel should touch nothing we did not place: say how
	 * often it did (see hw/ignored.c for what is empty on purpose). */
	verbose("%lu unhandled port and MMIO accesses", bus_unhandled(vm));
	return stopped(why, a.shutdown_timeout);
}
