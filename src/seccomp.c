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
#include <linux/io_uring.h>
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

/* The filters are for the calling convention this Launcher is built
 * for; a call made by any other ends it at once (seccomp_install()). */
#if defined(__x86_64__)
#define ABI_SCMP	SCMP_ARCH_X86_64
#define ABI_AUDIT	AUDIT_ARCH_X86_64
#define ABI_NAME	"x86-64"
#elif defined(__i386__)
#define ABI_SCMP	SCMP_ARCH_X86
#define ABI_AUDIT	AUDIT_ARCH_I386
#define ABI_NAME	"i386"
#else
#error "lguest's system call filters know x86-64 and i386 only"
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
	SCMP_SYS(sched_getaffinity), SCMP_SYS(mprotect),
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(getpid),
	SCMP_SYS(gettid), SCMP_SYS(exit), SCMP_SYS(exit_group),
#ifdef __x86_64__
	SCMP_SYS(mmap),
#else
	/*L:811 The same work in a 32-bit Launcher, where the C library
	 * makes other calls for some of it: mmap2 (an offset in pages);
	 * clock_gettime64, where the vDSO cannot read a clock itself;
	 * futex_time64, for a time limit past January 2038 (the vCPUs'
	 * stop, vm.c), the C library's 32-bit calls doing for earlier
	 * ones; sigreturn, the way back from a handler without
	 * SA_SIGINFO (the vCPU's kick); and send() on a socket, which
	 * goes through socketcall(2) (add_rules()). */
	SCMP_SYS(mmap2), SCMP_SYS(clock_gettime64), SCMP_SYS(futex_time64),
	SCMP_SYS(sigreturn),
#endif
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
	SCMP_SYS(close), SCMP_SYS(statx), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
	SCMP_SYS(set_tid_address), SCMP_SYS(prlimit64), SCMP_SYS(mremap),
	SCMP_SYS(uname),
	/* main(): descriptors, signals, the kept descriptors' flags. */
	SCMP_SYS(eventfd2), SCMP_SYS(signalfd4),
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
	SCMP_SYS(capget), SCMP_SYS(capset),
	SCMP_SYS(prctl), SCMP_SYS(connect), SCMP_SYS(sendmsg),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	/* The calls that differ between the ABIs: the loader's stat()s
	 * and thread pointer, the C library's stack limit, lseek(),
	 * fstatfs() (libcap-ng's constructor checks /proc is procfs),
	 * fcntl(), and the user and group IDs.  A 32-bit Launcher has
	 * 64-bit offsets, sizes and flags, and 32-bit IDs. */
#ifdef __x86_64__
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(arch_prctl),
	SCMP_SYS(lseek), SCMP_SYS(fstatfs), SCMP_SYS(fcntl),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid),
#else
	SCMP_SYS(fstatat64), SCMP_SYS(set_thread_area),
	SCMP_SYS(ugetrlimit), SCMP_SYS(_llseek), SCMP_SYS(fstatfs64),
	SCMP_SYS(fcntl64), SCMP_SYS(getuid32), SCMP_SYS(geteuid32),
	SCMP_SYS(getgid32), SCMP_SYS(getegid32),
#endif
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
		char *name = seccomp_syscall_resolve_num_arch(ABI_SCMP, nr);

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

/*L:815 In a 32-bit Launcher the C library makes its socket calls through
 * socketcall(2): one call, the operation in its first argument and the
 * operation's own arguments in memory a filter cannot read.  libseccomp
 * turns a rule for socket() into one for socketcall(SYS_SOCKET) (and the
 * direct call), but compares a rule's argument checks with socketcall's
 * own arguments: a pointer and whatever the registers held.  So there
 * the operations are allowed by name, without argument checks. */
static void allow_socket(scmp_filter_ctx ctx, int nr, unsigned n,
			 const struct scmp_arg_cmp *cmp)
{
#ifdef __i386__
	n = 0;
#endif
	add(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

/* Console output to an attached client: send() on the socket it
 * connected, never to an address (main's syslog(3) needs one).  On
 * x86-64 send() is sendto() without an address; on i386 it is an
 * operation of socketcall(2) of its own. */
static void allow_send(scmp_filter_ctx ctx, enum thread_class c)
{
	if (c == THREAD_MAIN)
		allow_socket(ctx, SCMP_SYS(sendto), 0, NULL);
#ifdef __i386__
	allow_socket(ctx, SCMP_SYS(send), 0, NULL);
#else
	else
		allow_eq(ctx, SCMP_SYS(sendto), 4, 0);
#endif
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
	allow_send(ctx, c);
	if (c != THREAD_MAIN)
		allow_ioctl(ctx, 0xffffffff, TUNSETQUEUE);
	/* A disk's queue threads submit to and wait on their io_uring
	 * (blk-aio.c).  Every list has that call, since the main thread's
	 * and the vCPU's filters stay on the threads they start.  The
	 * rings are made by the main thread before the guest runs, and
	 * after a reboot under the filter it kept: making one, and asking
	 * which operations the kernel has, are the main thread's. */
	add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(io_uring_enter), 0, NULL);
	if (c == THREAD_MAIN) {
		add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(io_uring_setup), 0, NULL);
		allow_eq(ctx, SCMP_SYS(io_uring_register), 1,
			 IORING_REGISTER_PROBE);
	}
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
		/* Kernels before 3.17 have no seccomp(2): libseccomp
		 * loads a queue thread's filter with prctl() there. */
		allow_eq(ctx, SCMP_SYS(prctl), 0, PR_SET_SECCOMP);
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
	allow_socket(ctx, SCMP_SYS(socket), 2, unix_dgram);
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
	if (si->si_arch == ABI_AUDIT && nr >= 0 && nr < MAX_NR)
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

	if (__atomic_exchange_n(&done, true, __ATOMIC_ACQ_REL))
		return;
	/* malloc() gives each thread an arena, and the first time it
	 * needs a ninth it counts the CPUs, to bound them, by opening a
	 * file in /sys: from a queue thread, which may not.  Nor do our
	 * threads need arenas of their own: they allocate as they start
	 * (a filter) and hardly ever after, and each arena keeps pages
	 * resident.  One arena for all, then. */
	mallopt(M_ARENA_MAX, 1);
	/* And the first time a thread's arena gives memory back from the
	 * top of its heap, malloc() reads /proc/sys/vm/overcommit_memory.
	 * It gives back only what is past the trim threshold, and no
	 * thread's heap is as big as this one (1 MiB in a 32-bit process,
	 * where it happens first, 64 MiB in a 64-bit one). */
	mallopt(M_TRIM_THRESHOLD, 64 * MiB);
	for (int nr = 0; nr < MAX_NR; nr++)
		syscall_name[nr] = seccomp_syscall_resolve_num_arch(ABI_SCMP,
								    nr);
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
	/* Calls of the Launcher's own ABI only.  The others pass under
	 * other numbers, and end the Launcher at once: in an x86-64 one,
	 * i386 (int $0x80) and x32 calls; in an i386 one, x86-64 calls
	 * made after a far jump to the 64-bit code segment. */
	rc = seccomp_arch_add(ctx, ABI_SCMP);
	if (rc < 0 && rc != -EEXIST)
		errx(EXIT_ERROR, "seccomp: %s: %s", ABI_NAME, strerror(-rc));
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			      SCMP_ACT_KILL_PROCESS);
	/* Kernels before 4.14 (those with /dev/lguest) can only kill the
	 * thread that made the call. */
	if (rc == -EINVAL)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				      SCMP_ACT_KILL);
	if (rc < 0)
		errx(EXIT_ERROR, "seccomp: cannot kill on other "
		     "architectures: %s", strerror(-rc));
	/* A binary search on the call number, not a list walked from the
	 * top: KVM_RUN and the queues' reads pass two or three filters. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	add_rules(ctx, c);
	rc = seccomp_load(ctx);
	/* A kernel built without them (old 32-bit hosts often were). */
	if (rc < 0 && prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
		errx(EXIT_ERROR, "seccomp: this kernel has no system call "
		     "filters (CONFIG_SECCOMP_FILTER); run with --no-seccomp, "
		     "or on a kernel that has them");
	if (rc < 0)
		errx(EXIT_ERROR, "seccomp: cannot install the %s thread's "
		     "filter: %s (--no-seccomp runs without, for debugging)",
		     class_name[c], strerror(-rc));
	seccomp_release(ctx);
	/* Building a filter takes memory that is free again now: give
	 * its pages back (madvise(), or brk() at the top), rather than
	 * keep them resident for the guest's whole life.  From the main
	 * thread only: in a thread whose C library malloc() was never
	 * used (all of them under AddressSanitizer, whose malloc() is its
	 * own), malloc_trim() would set that malloc() up and tie the
	 * thread to its arena uncounted, and the C library then fails an
	 * assertion as the second such thread exits. */
	if (c == THREAD_MAIN) {
		malloc_trim(0);
		handover_set_value("seccomp", "main");
	}
	verbose("seccomp: %s thread confined", class_name[c]);
}
