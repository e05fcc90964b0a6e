/*
 * seccomp.c - each thread may make only the system calls its work needs.
 *
 *L:800 The Launcher reads whatever the guest puts in its rings, and a
 * bug there is a bug in a process that holds a VM, disks and taps.  So
 * once everything is open and the guest is about to run, every thread is
 * put under a seccomp allow-list of the few calls its work needs; any
 * other call ends the Launcher with a line naming it.  A guest that
 * finds a hole in a queue thread finds a thread that can read and write
 * the descriptors it already has, and nothing else: no open(), no
 * socket(), no exec().
 *
 * Filters belong to a thread, are inherited by the threads it creates,
 * and stack: a call must pass every filter on the way.  main() confines
 * itself just before it creates the vCPU thread, the vCPU thread
 * confines itself first thing, and the queue threads, created by the
 * vCPU thread when a driver says DRIVER_OK, do the same.  A queue thread
 * thus lives under main's, the vCPU's and its own list, which is why
 * each list below holds the one after it: main > vCPU > device.
 *
 * Reboot is exec() of ourselves from the main thread, and filters
 * survive exec(): the main list also holds everything a fresh image
 * needs from the dynamic loader on until main() reaches this file
 * again.  That image, told by the previous one that the filter it finds
 * is ours (handover.c), does not stack a second copy (see
 * seccomp_install()).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <malloc.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "handover.h"
#include "lguest.h"
#include "seccomp-filter.h"
#include "term.h"

bool seccomp_off;
int seccomp_reopen_dir = -1;

/* si_code of a SIGSYS from a filter (the kernel's, not in glibc's). */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP	1
#endif

/*L:810 What a queue thread does: move bytes between the rings and its
 * descriptors (eventfds, the disk, the tap, the terminal), sync and
 * punch the disk, take entropy, wait, and raise interrupts.  Creating a
 * thread is not here: only the vCPU thread starts queues.  The calls a
 * thread makes as it starts and ends (set_robust_list, rseq, madvise,
 * exit) are, since a queue thread is created under the vCPU's list and
 * ends under its own; and so is what malloc() may need.
 * restart_syscall is how the kernel goes on with a poll() or a sleep
 * with a time limit that a stop (SIGSTOP, then SIGCONT) interrupted:
 * without it, stopping the Launcher for a moment killed it. */
static const int device_calls[] = {
	SCMP_SYS(restart_syscall),
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(fdatasync), SCMP_SYS(fallocate), SCMP_SYS(getrandom),
	SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(mmap), SCMP_SYS(mprotect),
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(exit), SCMP_SYS(exit_group),
#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer's runtime: each thread's alternate signal
	 * stack and its limits.  (Its leak checker's tracer is a clone()
	 * no list allows: run sanitized builds with detect_leaks=0.) */
	SCMP_SYS(sigaltstack), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
#endif
};

/*L:812 The vCPU thread runs the guest (ioctl()s on the KVM descriptors)
 * and emulates chips, which write to the terminal and the stop pipe; it
 * starts and stops queue threads, which install their own filters. */
static const int vcpu_calls[] = {
	SCMP_SYS(seccomp),
};

/*L:814 The main thread carries keystrokes and signals (read, poll), and
 * on reboot exec()s the Launcher again.  The rest is the new image's
 * start: the dynamic loader, then main() up to seccomp_install(), with
 * the descriptors it kept across the exec() instead of opening /dev/kvm,
 * the disks and the taps again (handover.c). */
static const int main_calls[] = {
	/* Reboot. */
	SCMP_SYS(execve), SCMP_SYS(execveat),
	/* The dynamic loader and the C library's start. */
	SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2), SCMP_SYS(readlink), SCMP_SYS(lseek),
	SCMP_SYS(arch_prctl), SCMP_SYS(set_tid_address),
	SCMP_SYS(prlimit64), SCMP_SYS(mremap), SCMP_SYS(uname),
	/* libcap-ng's constructor checks /proc is procfs. */
	SCMP_SYS(fstatfs),
	/* main(): descriptors, signals, the kept descriptors' flags. */
	SCMP_SYS(fcntl), SCMP_SYS(eventfd2), SCMP_SYS(signalfd4),
	SCMP_SYS(pipe2), SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack),
	SCMP_SYS(sysinfo), SCMP_SYS(flock),
	/* A daemon (daemon.c): once the guest runs, stderr becomes a pipe
	 * to a logging thread (main's class) and the directory "/"; on
	 * reboot it goes back to where it was.  Its run directory, pid
	 * file and console socket go away when it stops. */
	SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(chdir),
	SCMP_SYS(getcwd), SCMP_SYS(unlinkat),
	/* The console's clients (conhost.c): one at a time, on the
	 * socket made before the first filter. */
	SCMP_SYS(accept4), SCMP_SYS(shutdown),
	/* Giving up privilege again (priv.c): a no-op by then, but it
	 * asks, and libcap-ng may say so to syslog(3).  And telling
	 * systemd how we are (notify.c).  Both over AF_UNIX datagram
	 * sockets, the only kind main may make (below). */
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(capget), SCMP_SYS(capset),
	SCMP_SYS(prctl), SCMP_SYS(connect), SCMP_SYS(sendmsg),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
};

/* The thread classes' names, for the one line a forbidden call gets. */
static const char *const class_name[] = {
	[THREAD_MAIN] = "main",
	[THREAD_VCPU] = "vCPU",
	[THREAD_DEVICE] = "device",
};

static __thread int my_class = -1;

/* System call names, looked up before any thread needs one: the SIGSYS
 * handler may run with malloc()'s lock held by the call it stopped. */
#define MAX_NR 512
static char *syscall_name[MAX_NR];

static void add(scmp_filter_ctx ctx, u32 action, int nr, unsigned n,
		const struct scmp_arg_cmp *cmp)
{
	int rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);

	if (rc < 0) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64,
							      nr);

		errx(EXIT_ERROR, "seccomp: cannot add a rule for %s: %s",
		     name ? name : "?", strerror(-rc));
	}
}

static void allow(scmp_filter_ctx ctx, const int *nr, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(ctx, SCMP_ACT_ALLOW, nr[i], 0, NULL);
}

/* Allow @nr when argument @arg is @val (all 64 bits, or the low 32 bits
 * the kernel looks at, for an ioctl() request). */
static void allow_eq(scmp_filter_ctx ctx, int nr, unsigned arg, u64 val)
{
	struct scmp_arg_cmp c = { arg, SCMP_CMP_EQ, val, 0 };

	add(ctx, SCMP_ACT_ALLOW, nr, 1, &c);
}

static void allow_ioctl(scmp_filter_ctx ctx, u64 mask, u64 val)
{
	struct scmp_arg_cmp c = { 1, SCMP_CMP_MASKED_EQ, mask, val };

	add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &c);
}

/*L:816 Some calls are allowed only with certain arguments.  ioctl()
 * is the widest door of all: a queue thread may only raise an interrupt,
 * put the terminal back on its way out, flush a console pty nobody
 * reads (conhost.c) and attach or detach a tap queue (virtio-net's
 * control queue, as the driver changes its number of queue pairs); the
 * vCPU thread may also talk to KVM, set a tap's offloads when a driver
 * starts and detach tap queues when it resets the NIC.
 * Threads are created with clone(CLONE_THREAD): clone3() takes its
 * flags in memory a filter cannot read, so it says ENOSYS and the C
 * library falls back to clone().  The main thread may open files only
 * for reading (the loader's, the kernel's, the initrd's), and make only
 * the AF_UNIX datagram sockets that systemd's notification socket and
 * if_nametoindex() use: the taps were set up before the first filter. */
static void add_rules(scmp_filter_ctx ctx, enum thread_class c)
{
	struct scmp_arg_cmp thread = { 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
				       CLONE_THREAD };
	struct scmp_arg_cmp rdonly = { 2, SCMP_CMP_MASKED_EQ,
				       O_WRONLY | O_RDWR | O_CREAT | O_TRUNC |
				       (O_TMPFILE & ~O_DIRECTORY), 0 };
	struct scmp_arg_cmp unix_dgram[2] = {
		{ 0, SCMP_CMP_EQ, AF_UNIX, 0 },
		{ 1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM },
	};

	allow(ctx, device_calls, ARRAY_SIZE(device_calls));
	/* raise() and abort() signal their own thread, nobody else. */
	allow_eq(ctx, SCMP_SYS(tgkill), 0, getpid());
	/* Console output to an attached client: send() on the socket it
	 * connected, never to an address (main's syslog(3) needs one). */
	if (c == THREAD_MAIN)
		add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 0, NULL);
	else
		allow_eq(ctx, SCMP_SYS(sendto), 4, 0);
	if (c != THREAD_MAIN)
		allow_ioctl(ctx, 0xffffffff, TUNSETQUEUE);
	if (c == THREAD_DEVICE) {
		allow_ioctl(ctx, 0xffffffff, KVM_IRQ_LINE);
		allow_ioctl(ctx, 0xffffffff, TCSETS);
		allow_ioctl(ctx, 0xffffffff, TCFLSH);
		return;
	}

	allow(ctx, vcpu_calls, ARRAY_SIZE(vcpu_calls));
	add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &thread);
	add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
	if (c == THREAD_VCPU) {
		allow_ioctl(ctx, 0xff00, KVMIO << 8);
		allow_ioctl(ctx, 0xffffffff, TUNSETOFFLOAD);
		allow_ioctl(ctx, 0xffffffff, TCSETS);
		allow_ioctl(ctx, 0xffffffff, TCFLSH);
		/* libseccomp sets no_new_privs before it loads a filter;
		 * a queue thread names itself before it does. */
		allow_eq(ctx, SCMP_SYS(prctl), 0, PR_SET_NO_NEW_PRIVS);
		allow_eq(ctx, SCMP_SYS(prctl), 0, PR_SET_NAME);
		return;
	}

	allow(ctx, main_calls, ARRAY_SIZE(main_calls));
	add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0, NULL);
	add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, &rdonly);
	if (seccomp_reopen_dir >= 0) {
		struct scmp_arg_cmp reopen[2] = {
			{ 0, SCMP_CMP_EQ, seccomp_reopen_dir, 0 },
			{ 2, SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
			  O_CLOEXEC | O_PATH, O_RDWR | O_CLOEXEC },
		};

		add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 2, reopen);
	}
	add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, unix_dgram);
#ifdef __SANITIZE_ADDRESS__
	/* A rebooted sanitized image's runtime reads /proc/self/cmdline
	 * with open(2), flags in the second argument, before main(). */
	{
		struct scmp_arg_cmp ro = rdonly;

		ro.arg = 1;
		add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1, &ro);
	}
#endif
}

/* Async-signal-safe formatting for the handler below. */
static char *put_str(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *put_num(char *p, char *end, long n)
{
	char digits[24];
	int i = 0;
	unsigned long u = n < 0 ? -(unsigned long)n : (unsigned long)n;

	do
		digits[i++] = '0' + u % 10;
	while (u /= 10);
	if (n < 0 && p < end)
		*p++ = '-';
	while (i && p < end)
		*p++ = digits[--i];
	return p;
}

/*L:820 A forbidden call arrives here as SIGSYS, in the thread that made
 * it.  The Launcher cannot go on (that thread's work is undone), so it
 * says which call it was and where, gives the terminal back and exits
 * with EXIT_ERROR, like any other failure of the Launcher.  Everything
 * here is allowed to every thread: write(), ioctl(TCSETS), exit_group(). */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char line[200], *p = line, *end = line + sizeof(line) - 1;
	int nr = si->si_syscall;
	const char *name = NULL;

	term_restore();
	if (si->si_code != SYS_SECCOMP)		/* kill -SYS: just die */
		_exit(128 + sig);
	if (si->si_arch == AUDIT_ARCH_X86_64 && nr >= 0 && nr < MAX_NR)
		name = syscall_name[nr];
	p = put_str(p, end, "lguest: seccomp: forbidden system call ");
	p = put_str(p, end, name ? name : "unknown");
	p = put_str(p, end, " (");
	p = put_num(p, end, nr);
	p = put_str(p, end, ") in the ");
	p = put_str(p, end, my_class >= 0 ? class_name[my_class] : "unknown");
	p = put_str(p, end, " thread\n");
	if (write(STDERR_FILENO, line, p - line) < 0) {
		/* Nothing left to tell it to. */
	}
	_exit(EXIT_ERROR);
}

/* Once per process: the names, and the handler. */
static void prepare(void)
{
	static bool done;
	struct sigaction sa = { .sa_sigaction = on_sigsys,
				.sa_flags = SA_SIGINFO };

	long cpus;

	if (__atomic_exchange_n(&done, true, __ATOMIC_ACQ_REL))
		return;
	/* malloc() gives each thread an arena, and the first time it
	 * needs a ninth it counts the CPUs, to bound them, by opening a
	 * file in /sys: from a queue thread, which may not.  Its bound
	 * (eight per CPU) is set here instead, while main can count. */
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	mallopt(M_ARENA_MAX, 8 * (cpus > 0 ? cpus : 1));
	for (int nr = 0; nr < MAX_NR; nr++)
		syscall_name[nr] = seccomp_syscall_resolve_num_arch(
					SCMP_ARCH_X86_64, nr);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		err(EXIT_ERROR, "seccomp: cannot catch SIGSYS");
}

/* Is the filter this image started under main's, from before a reboot?
 * The image that installed it handed "seccomp" over; a filter without
 * that is a service manager's or a container's, and ours goes on top. */
static bool our_filter(void)
{
	return handover_value("seccomp") &&
	       prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2;
}

/* A reboot's image runs under main's filter from its first instruction,
 * but exec() took our handler away: put it back at once, so that a call
 * missing from the list is named even before main() gets far. */
static void __attribute__((constructor)) reboot_handler(void)
{
	if (!our_filter())
		return;
	prepare();
	my_class = THREAD_MAIN;
}

void seccomp_install(enum thread_class c)
{
	scmp_filter_ctx ctx;
	int rc;

	if (seccomp_off)
		return;
	prepare();
	my_class = c;

	/* After a reboot the main thread still has the filter it put on
	 * before the exec(): the same list, from the same binary.  Another
	 * copy would only cost time on every call, and a launcher that
	 * reboots often would run out of room for filters. */
	if (c == THREAD_MAIN && our_filter()) {
		verbose("seccomp: main thread's filter kept from before "
			"the reboot");
		return;
	}

	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		errx(EXIT_ERROR, "seccomp: cannot start a filter");
	/* x86-64 calls only: i386 (int $0x80) and x32 calls, which
	 * would pass under other numbers, end the Launcher at once. */
	rc = seccomp_arch_add(ctx, SCMP_ARCH_X86_64);
	if (rc < 0 && rc != -EEXIST)
		errx(EXIT_ERROR, "seccomp: x86-64: %s", strerror(-rc));
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			      SCMP_ACT_KILL_PROCESS);
	if (rc < 0)
		errx(EXIT_ERROR, "seccomp: cannot kill on other "
		     "architectures: %s", strerror(-rc));
	/* A binary search on the call number, not a list walked from the
	 * top: KVM_RUN and the queues' reads pass two or three filters. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	add_rules(ctx, c);
	rc = seccomp_load(ctx);
	if (rc < 0)
		errx(EXIT_ERROR, "seccomp: cannot install the %s thread's "
		     "filter: %s (--no-seccomp runs without, for debugging)",
		     class_name[c], strerror(-rc));
	seccomp_release(ctx);
	if (c == THREAD_MAIN)
		handover_set_value("seccomp", "main");
	verbose("seccomp: %s thread confined", class_name[c]);
}
