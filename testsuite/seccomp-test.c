/*
 * seccomp-test.c - each thread class's system call filter (src/seccomp.c),
 * tried in a child process of its own: the calls that class needs pass,
 * and a call outside its list ends the child with the one documented
 * line on stderr and EXIT_ERROR.
 *
 * Prints one line per check, "PASS: what" or "FAIL: what (why)", and
 * "UNSUPPORTED: ..." where the host cannot run one; exits 0 when nothing
 * failed, 1 otherwise, 77 when this kernel has no seccomp filters at
 * all.  testsuite/lguest.seccomp/seccomp.exp turns the lines into
 * DejaGnu results.
 *
 * seccomp-test --without-io-uring PROG ARG... runs PROG on a kernel
 * that seems to have no io_uring (lguest.virtio/blkaio.exp).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "handover.h"
#include "lguest.h"
#include "seccomp-filter.h"

/* What term.c and seccomp.c use from the rest of the Launcher. */
bool verbose_flag;
void vm_stop(enum stop_reason why)
{
}

static int failures;
static const char *self;

/* In a child: a needed call failed in a way the filter cannot cause. */
static void __attribute__((noreturn)) broken(const char *what)
{
	printf("child: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	_exit(99);
}

/* "Seccomp:" and "Seccomp_filters:" from a /proc/self/status descriptor
 * opened before the filter went on (re-read from the start each time). */
static void print_status(const char *who, int fd)
{
	char buf[4096], *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		broken("reading /proc/self/status");
	buf[n] = '\0';
	p = strstr(buf, "\nSeccomp:");
	printf("%s: Seccomp %d\n", who, p ? atoi(p + 9) : -1);
	p = strstr(buf, "\nSeccomp_filters:");
	printf("%s: Seccomp_filters %d\n", who, p ? atoi(p + 17) : -1);
	fflush(stdout);
}

/* ---- what each class needs ---------------------------------------- */

static int efd, status_fd, data_fd, kvm_fd = -1;

/* SIGUSR2's handler, set before any filter, as vm.c sets the kick's. */
static volatile sig_atomic_t kicks;

static void kicked(int sig)
{
	kicks++;
}

static void *nothing(void *arg)
{
	return NULL;
}

/* A thread still running when it is joined. */
static void *napper(void *arg)
{
	nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	return NULL;
}

/* A queue thread's day: eventfd kicks and interrupts, disk I/O, the
 * tap's poll, entropy, locks, the clock, memory, an interrupt ioctl,
 * a tap queue's. */
static void device_calls(void)
{
	u8 buf[4096], rnd[16];
	struct iovec iov = { buf, sizeof(buf) };
	struct pollfd p = { .fd = efd, .events = POLLIN };
	struct kvm_irq_level irq = { .irq = 4, .level = 1 };
	struct ifreq ifr = { .ifr_flags = IFF_DETACH_QUEUE };
	struct timespec ts;
	u64 one = 1, n;
	int word = 0;
	void *big;

	memset(buf, 0xa5, sizeof(buf));
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		broken("eventfd write");
	if (poll(&p, 1, 1000) != 1)
		broken("poll");
	if (read(efd, &n, sizeof(n)) != sizeof(n))
		broken("eventfd read");
	if (pwritev(data_fd, &iov, 1, 4096) != sizeof(buf))
		broken("pwritev");
	if (preadv(data_fd, &iov, 1, 4096) != sizeof(buf))
		broken("preadv");
	if (pwrite(data_fd, buf, 512, 0) != 512 || pread(data_fd, buf, 512, 0) != 512)
		broken("pwrite/pread");
	if (fdatasync(data_fd) < 0)
		broken("fdatasync");
	if (fallocate(data_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      0, 4096) < 0 && errno != EOPNOTSUPP)
		broken("fallocate");
	if (writev(STDOUT_FILENO, &(struct iovec){ "writev\n", 7 }, 1) != 7)
		broken("writev");
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		broken("getrandom");
	if (syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0)
		broken("futex");
	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) < 0)
		broken("clock_gettime");
	/* Not KVM's descriptor: the kernel refuses, the filter did not. */
	if (ioctl(efd, KVM_IRQ_LINE, &irq) == 0 || errno != ENOTTY)
		broken("ioctl(KVM_IRQ_LINE)");
	/* virtio-net's control queue: a tap queue detached. */
	if (ioctl(efd, TUNSETQUEUE, &ifr) == 0 || errno != ENOTTY)
		broken("ioctl(TUNSETQUEUE)");
	/* A disk's io_uring (blk-aio.c): submit and wait.  Not a ring's
	 * descriptor: the kernel refuses, the filter did not. */
	if (syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0) != -1 ||
	    errno != EBADF)
		broken("io_uring_enter");
	big = malloc(8 << 20);			/* mmap() and munmap() */
	if (!big)
		broken("malloc");
	memset(big, 1, 8 << 20);
	free(big);
	/* A clock the vDSO leaves to the kernel, and a signal handler's
	 * return (the vCPU's kick): other calls on i386 than on x86-64. */
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		broken("clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
	kicks = 0;
	if (raise(SIGUSR2) || kicks != 1)
		broken("a handler's return");
}

static void *device_thread(void *arg)
{
	seccomp_install(THREAD_DEVICE);
	device_calls();
	return NULL;
}

/* Many queue threads at once, each needing memory of its own: malloc()
 * makes an arena per thread, and past eight it used to ask how many
 * CPUs there are by opening a file. */
#define MANY 12
static pthread_barrier_t many_barrier;

static void *many_thread(void *arg)
{
	void *p;

	seccomp_install(THREAD_DEVICE);
	p = malloc(1000);
	pthread_barrier_wait(&many_barrier);
	p = realloc(p, 100000);
	free(p);
	return NULL;
}

/* The vCPU's: KVM ioctls, chip output, the stop pipe, queue threads
 * (which stack a device filter on top of this one), a tap's offloads. */
static void vcpu_calls(void)
{
	pthread_t t, many[MANY];
	u64 one = 1, n;

	if (kvm_fd >= 0 && ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		broken("KVM_GET_API_VERSION");
	if (ioctl(efd, TUNSETOFFLOAD, 0) == 0 || errno != ENOTTY)
		broken("ioctl(TUNSETOFFLOAD)");
	if (write(efd, &one, sizeof(one)) != sizeof(one) ||
	    read(efd, &n, sizeof(n)) != sizeof(n))
		broken("eventfd");
	if (pthread_create(&t, NULL, device_thread, NULL))
		broken("pthread_create");
	if (pthread_join(t, NULL))
		broken("pthread_join");
	pthread_barrier_init(&many_barrier, NULL, MANY);
	for (int i = 0; i < MANY; i++)
		if (pthread_create(&many[i], NULL, many_thread, NULL))
			broken("pthread_create");
	for (int i = 0; i < MANY; i++)
		if (pthread_join(many[i], NULL))
			broken("pthread_join");
	pthread_barrier_destroy(&many_barrier);
	device_calls();
}

static void *vcpu_thread(void *arg)
{
	seccomp_install(THREAD_VCPU);
	vcpu_calls();
	return NULL;
}

/* The main thread's: signals through a signalfd, keystrokes, poll, the
 * read-only opens and AF_UNIX datagram sockets of a fresh image, and
 * the vCPU thread, which confines itself and starts a device thread. */
static void main_calls(void)
{
	struct pollfd p[2];
	struct signalfd_siginfo si;
	int pipe_fd[2], sig_fd, fd;
	char c;
	sigset_t set;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		broken("pthread_sigmask");
	sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sig_fd < 0 || pipe2(pipe_fd, O_CLOEXEC) < 0)
		broken("signalfd/pipe2");
	if (raise(SIGUSR1) || write(pipe_fd[1], "x", 1) != 1)
		broken("raise/write");
	p[0] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = pipe_fd[0], .events = POLLIN };
	if (poll(p, 2, 1000) != 2)
		broken("poll");
	if (read(sig_fd, &si, sizeof(si)) != sizeof(si) ||
	    si.ssi_signo != SIGUSR1 || read(pipe_fd[0], &c, 1) != 1)
		broken("read");
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || close(fd) < 0)
		broken("open read-only");
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || close(fd) < 0)
		broken("socket(AF_UNIX, SOCK_DGRAM)");
	if (eventfd(0, EFD_CLOEXEC) < 0)
		broken("eventfd");
	/* A disk's rings are made after a reboot under the kept filter,
	 * and asked which operations there are (host/aio.c). */
	if (syscall(SYS_io_uring_setup, 0, NULL) != -1 ||
	    (errno != EINVAL && errno != EFAULT && errno != ENOSYS))
		broken("io_uring_setup");
	if (syscall(SYS_io_uring_register, -1, IORING_REGISTER_PROBE, NULL,
		    0) != -1 || (errno != EBADF && errno != EINVAL))
		broken("io_uring_register(PROBE)");
	if (pthread_create(&t, NULL, vcpu_thread, NULL) ||
	    pthread_join(t, NULL))
		broken("pthread_create");
	/* The vCPUs' stop (vm.c) waits for their threads until a time:
	 * one past January 2038 is a different call on i386. */
	if (pthread_create(&t, NULL, napper, NULL) ||
	    pthread_timedjoin_np(t, NULL, &(struct timespec){
					 .tv_sec = (time_t)1 << 32 }))
		broken("pthread_timedjoin_np");
}

/* ---- forbidden calls -------------------------------------------------- */

static void call_openat(void)
{
	open("/etc/hostname", O_RDONLY);
}

static void call_open_write(void)
{
	open("/tmp/lguest-seccomp-test-must-not-exist", O_WRONLY | O_CREAT, 0600);
}

/* A ring made by a queue thread; buffers registered with one. */
static void call_uring_setup(void)
{
	syscall(SYS_io_uring_setup, 0, NULL);
}

static void call_uring_register(void)
{
	syscall(SYS_io_uring_register, -1, IORING_REGISTER_BUFFERS, NULL, 0);
}

static void call_socket(void)
{
	socket(AF_UNIX, SOCK_DGRAM, 0);
}

/* The socket calls a 32-bit C library makes through socketcall(2), which
 * the filters there allow by operation only (src/seccomp.c): the line
 * names socketcall, and the main thread's forbidden socket call is one
 * it may not make at all, since any socket() passes. */
#ifdef __i386__
#define SOCKET_CALL	"socketcall", SYS_socketcall
#define MAIN_SOCKET	"listen()"

static void call_main_socket(void)
{
	listen(STDIN_FILENO, 1);
}
#else
#define SOCKET_CALL	"socket", SYS_socket
#define MAIN_SOCKET	"socket(AF_INET)"

static void call_main_socket(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}
#endif

static void call_execve(void)
{
	execl("/bin/true", "true", (char *)NULL);
}

static void call_fork(void)
{
	if (fork() == 0)
		_exit(0);
}

static void call_ioctl_tty(void)
{
	struct winsize ws;

	ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
}

static void call_thread(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, nothing, NULL) == 0)
		pthread_join(t, NULL);
}

#ifdef __x86_64__
/* A 32-bit call, and an x32 one: other ABIs, other numbers. */
static void call_i386(void)
{
	long ret = 20;				/* i386 getpid */

	asm volatile("int $0x80" : "+a"(ret) : : "memory");
}

static void call_x32(void)
{
	syscall(0x40000000 | SYS_getpid);
}
#else
/* From 32-bit code, an x86-64 call: a far jump into the kernel's 64-bit
 * user code segment (0x33) and getpid there.  Should it return, hlt
 * ends the process with SIGSEGV.  (A far jump through memory, not a
 * far return: QEMU's TCG pops a far return's stack as the kernel, which
 * SMAP faults, and the outer machine's kernel oopses.) */
extern const char x86_64_getpid[];
asm(".pushsection .text\n"
    ".code64\n"
    "x86_64_getpid:\n\t"
    "movl $39, %eax\n\t"
    "syscall\n\t"
    "hlt\n"
    ".code32\n"
    ".popsection");

static void call_x86_64(void)
{
	static const struct {
		const void *ip;
		u16 cs;
	} __attribute__((packed)) gate = { x86_64_getpid, 0x33 };

	asm volatile("ljmpl *%0" : : "m"(gate) : "memory");
}
#endif

/* ---- the children ------------------------------------------------------ */

struct outcome {
	int status;
	char out[8192], err[8192];
};

static void slurp(FILE *f, char *buf, size_t size)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Run @fn in a child with stdout and stderr captured. */
static void run(struct outcome *o, void (*fn)(void))
{
	FILE *out = tmpfile(), *errf = tmpfile();
	pid_t pid;

	if (!out || !errf)
		err(1, "tmpfile");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		err(1, "fork");
	if (pid == 0) {
		dup2(fileno(out), STDOUT_FILENO);
		dup2(fileno(errf), STDERR_FILENO);
		alarm(20);
		fn();
		_exit(0);
	}
	if (waitpid(pid, &o->status, 0) < 0)
		err(1, "waitpid");
	slurp(out, o->out, sizeof(o->out));
	slurp(errf, o->err, sizeof(o->err));
}

static const char *describe(int status)
{
	static char s[64];

	if (WIFEXITED(status))
		snprintf(s, sizeof(s), "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(s, sizeof(s), "killed by %s", strsignal(WTERMSIG(status)));
	else
		snprintf(s, sizeof(s), "status 0x%x", status);
	return s;
}

static char *first_line(const char *s)
{
	static char line[300];

	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\n"), s);
	return line;
}

/* One check's result; a failure says how the child ended and what it
 * said last, so that the log shows why. */
static void __attribute__((format(printf, 3, 4)))
report(bool ok, const struct outcome *o, const char *fmt, ...)
{
	const char *out = o->out + strlen(o->out);
	va_list ap;

	printf("%s: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok) {
		/* The child's last line of output. */
		if (out > o->out && out[-1] == '\n')
			out--;
		while (out > o->out && out[-1] != '\n')
			out--;
		printf(" (%s; stderr: %s; ", describe(o->status),
		       o->err[0] ? first_line(o->err) : "nothing");
		printf("last output: %s)", first_line(out));
		failures++;
	}
	printf("\n");
	fflush(stdout);
}

static enum thread_class child_class;
static void (*child_forbidden)(void);

/* In a child, before its filter: what the Launcher has done by the time
 * the thread confines itself. */
static void before_filter(void)
{
	pthread_t t;

	/* Our own status, not the parent's: /proc/self is resolved at open. */
	status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (status_fd < 0)
		broken("open /proc/self/status");
	/* stdout has been written to (stdio looks at it the first time). */
	printf("child: started\n");
	fflush(stdout);
	/* A thread was created before: the C library's first
	 * pthread_create() sets signal handlers up, under main's list. */
	if (pthread_create(&t, NULL, nothing, NULL) || pthread_join(t, NULL))
		broken("first pthread_create");
}

static void class_child(void)
{
	static const char *const names[] = { "main", "vCPU", "device" };
	const char *who = names[child_class];

	before_filter();
	seccomp_install(child_class);
	print_status(who, status_fd);
	switch (child_class) {
	case THREAD_MAIN:
		main_calls();
		break;
	case THREAD_VCPU:
		vcpu_calls();
		break;
	case THREAD_DEVICE:
		device_calls();
		break;
	}
	printf("%s: allowed calls ok\n", who);
	fflush(stdout);
	child_forbidden();
	printf("%s: survived the forbidden call\n", who);
	fflush(stdout);
}

/* A class's filter: the calls it needs pass, /proc shows filter mode,
 * and @name (system call @nr) kills the child with the one line. */
static void check_class(enum thread_class c, const char *cname,
			const char *what, void (*forbidden)(void),
			const char *name, int nr)
{
	struct outcome o;
	char want[200], ok[64], mode[64];

	child_class = c;
	child_forbidden = forbidden;
	run(&o, class_child);
	snprintf(want, sizeof(want), "lguest: seccomp: forbidden system call "
		 "%s (%d) in the %s thread\n", name, nr, cname);
	snprintf(ok, sizeof(ok), "%s: allowed calls ok\n", cname);
	snprintf(mode, sizeof(mode), "%s: Seccomp 2\n", cname);

	report(strstr(o.out, mode), &o, "%s: /proc/self/status shows "
	       "Seccomp 2 (child for %s)", cname, what);
	report(strstr(o.out, ok), &o, "%s: the calls it needs pass (child "
	       "for %s)", cname, what);
	report(WIFEXITED(o.status) && WEXITSTATUS(o.status) == EXIT_ERROR,
	       &o, "%s: %s ends it with exit status %d", cname, what,
	       EXIT_ERROR);
	report(!strcmp(o.err, want), &o, "%s: %s is named in one line on "
	       "stderr", cname, what);
}

static void killed_child(void)
{
	before_filter();
	seccomp_install(child_class);
	printf("installed\n");
	fflush(stdout);
	child_forbidden();
}

/* Calls that kill at once with SIGSYS, no line: i386 and x32 calls,
 * which a filter cannot judge by number, and a forbidden call made with
 * every signal blocked (as pthread_create() makes clone3()). */
static void check_killed(enum thread_class c, const char *cname,
			 const char *what, void (*fn)(void))
{
	struct outcome o;

	child_class = c;
	child_forbidden = fn;
	run(&o, killed_child);
	report(strstr(o.out, "installed") && WIFSIGNALED(o.status) &&
	       WTERMSIG(o.status) == SIGSYS, &o,
	       "%s: %s kills the process with SIGSYS", cname, what);
}

/* The main filter stays on across exec(), as over a reboot: a program
 * must still run to its end under it.  This one, told to exit at once:
 * /bin/true may be of another ABI, whose every call the filter kills. */
static void exec_true_child(void)
{
	seccomp_install(THREAD_MAIN);
	execl(self, self, "--true", (char *)NULL);
	broken("execl --true");
}

/* A reboot: fexecve() of ourselves under the main filter. */
static const char *reexec_mode;

static void reexec_child(void)
{
	open_kept("exe", "/proc/self/exe", O_RDONLY);
	seccomp_install(THREAD_MAIN);
	handover_exec((char *[]){ (char *)self, (char *)reexec_mode, NULL });
	broken("fexecve");
}

/* In the new image, from main(). */
static int reexec(const char *mode)
{
	int fd;

	if (!strcmp(mode, "--reexec-early"))
		call_main_socket();		/* before seccomp_install() */
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	seccomp_install(THREAD_MAIN);
	print_status("reexec", fd);
	call_main_socket();
	return 0;
}

static void check_exec(void)
{
	struct outcome o;
	char want[200];

	snprintf(want, sizeof(want), "lguest: seccomp: forbidden system call "
		 "%s (%d) in the main thread\n", SOCKET_CALL);

	run(&o, exec_true_child);
	report(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0, &o,
	       "main: a program runs to its end under the inherited filter");

	reexec_mode = "--reexec";
	run(&o, reexec_child);
	report(strstr(o.out, "reexec: Seccomp 2\n") &&
	       strstr(o.out, "reexec: Seccomp_filters 1\n"), &o,
	       "main: after exec of itself, one filter, not a second copy");
	report(WIFEXITED(o.status) && WEXITSTATUS(o.status) == EXIT_ERROR &&
	       !strcmp(o.err, want), &o, "main: after exec, %s is still "
	       "named and ends it", MAIN_SOCKET);

	reexec_mode = "--reexec-early";
	run(&o, reexec_child);
	report(WIFEXITED(o.status) && WEXITSTATUS(o.status) == EXIT_ERROR &&
	       !strcmp(o.err, want), &o, "main: after exec, a forbidden call "
	       "before seccomp_install() is named too");
}

static void no_seccomp_child(void)
{
	int fd;

	before_filter();
	seccomp_off = true;
	seccomp_install(THREAD_DEVICE);
	print_status("off", status_fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	printf("off: socket %s\n", fd >= 0 ? "ok" : strerror(errno));
	fflush(stdout);
}

static void check_off(void)
{
	struct outcome o;

	run(&o, no_seccomp_child);
	report(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0 &&
	       strstr(o.out, "off: Seccomp 0\n") &&
	       strstr(o.out, "off: socket ok\n"), &o,
	       "--no-seccomp (seccomp_off) installs nothing");
}

/* seccomp-test --without-io-uring PROG [ARG...]: run PROG where the
 * kernel seems to have no io_uring (io_uring_setup() says ENOSYS), as
 * an old kernel or a container's profile would have it. */
static int without_io_uring(char **argv)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				     SCMP_SYS(io_uring_setup), 0) < 0 ||
	    seccomp_load(ctx) < 0)
		err(1, "cannot refuse io_uring_setup");
	seccomp_release(ctx);
	execvp(argv[0], argv);
	err(127, "%s", argv[0]);
}

int main(int argc, char **argv)
{
	char name[] = "/tmp/lguest-seccomp-test.XXXXXX";

	self = argv[0];
	if (argc > 1 && !strcmp(argv[1], "--true"))
		return 0;
	if (argc > 1 && !strncmp(argv[1], "--reexec", 8))
		return reexec(argv[1]);
	if (argc > 2 && !strcmp(argv[1], "--without-io-uring"))
		return without_io_uring(argv + 2);

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		printf("UNSUPPORTED: this kernel has no seccomp\n");
		return 77;
	}
	/* What the threads hold before their filters go on. */
	if (sigaction(SIGUSR2, &(struct sigaction){ .sa_handler = kicked },
		      NULL) < 0)
		err(1, "sigaction");
	efd = eventfd(0, EFD_CLOEXEC);
	data_fd = mkstemp(name);
	if (efd < 0 || data_fd < 0 || ftruncate(data_fd, 65536))
		err(1, "setting up");
	unlink(name);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		printf("UNSUPPORTED: vCPU: KVM_GET_API_VERSION (no /dev/kvm: %s)\n",
		       strerror(errno));

	check_class(THREAD_DEVICE, "device", "openat", call_openat,
		    "openat", SYS_openat);
	check_class(THREAD_DEVICE, "device", "socket", call_socket,
		    SOCKET_CALL);
	check_class(THREAD_DEVICE, "device", "execve", call_execve,
		    "execve", SYS_execve);
	check_class(THREAD_DEVICE, "device", "io_uring_setup",
		    call_uring_setup, "io_uring_setup", SYS_io_uring_setup);
	check_class(THREAD_DEVICE, "device", "ioctl(TIOCGWINSZ)",
		    call_ioctl_tty, "ioctl", SYS_ioctl);

	check_class(THREAD_VCPU, "vCPU", "openat", call_openat,
		    "openat", SYS_openat);
	check_class(THREAD_VCPU, "vCPU", "execve", call_execve,
		    "execve", SYS_execve);
	check_class(THREAD_VCPU, "vCPU", "socket", call_socket,
		    SOCKET_CALL);
	check_class(THREAD_VCPU, "vCPU", "fork", call_fork, "clone", SYS_clone);
	check_class(THREAD_VCPU, "vCPU", "ioctl(TIOCGWINSZ)", call_ioctl_tty,
		    "ioctl", SYS_ioctl);

	check_class(THREAD_MAIN, "main", MAIN_SOCKET, call_main_socket,
		    SOCKET_CALL);
	check_class(THREAD_MAIN, "main", "openat for writing", call_open_write,
		    "openat", SYS_openat);
	check_class(THREAD_MAIN, "main", "fork", call_fork, "clone", SYS_clone);
	check_class(THREAD_MAIN, "main", "io_uring_register(BUFFERS)",
		    call_uring_register, "io_uring_register",
		    SYS_io_uring_register);

	check_killed(THREAD_DEVICE, "device", "creating a thread", call_thread);
#ifdef __x86_64__
	check_killed(THREAD_DEVICE, "device", "an i386 system call (int $0x80)",
		     call_i386);
	check_killed(THREAD_MAIN, "main", "an x32 system call", call_x32);
#else
	check_killed(THREAD_DEVICE, "device", "an x86-64 system call",
		     call_x86_64);
	check_killed(THREAD_MAIN, "main", "an x86-64 system call",
		     call_x86_64);
#endif
	check_exec();
	check_off();

	printf("seccomp-test: %d failed\n", failures);
	return failures ? 1 : 0;
}
