/*
 * selftest.c - the model of /dev/lguest, tried by a program that plays
 * Launcher to it directly, the ABI's rules one by one:
 *
 *   LD_PRELOAD=testsuite/lgmodel/lgmodel.so LGMODEL=selftest \
 *	testsuite/lgmodel/selftest
 *
 * A line "PASS: what" or "FAIL: what (why)" per check; exit status 0
 * when all passed.  The guest side is scen_selftest() in guest.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef ERESTART
#define ERESTART 85
#endif

#define PAGES	17

static int failures, lg;
static pthread_t main_thread;

static void report(int ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(int ok, const char *what, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (ok) {
		printf("PASS: %s\n", what);
	} else {
		printf("FAIL: %s (%s)\n", what, why);
		failures++;
	}
	fflush(stdout);
}

/* write() of up to four words; the result, with errno. */
static long req(unsigned long a, unsigned long b, unsigned long c,
		unsigned long d)
{
	unsigned long w[4] = { a, b, c, d };

	errno = 0;
	return write(lg, w, sizeof(w));
}

static void expect_err(long r, int err, const char *what)
{
	report(r == -1 && errno == err, what, "returned %ld, errno %d (%s)",
	       r, errno, strerror(errno));
}

/* pread() must return a notification of @addr. */
static void expect_notify(unsigned long addr, const char *what)
{
	unsigned long got = 0;
	ssize_t r = pread(lg, &got, sizeof(got), 0);

	report(r == sizeof(got) && got == addr, what,
	       "returned %zd, address %#lx, errno %d", r, got, errno);
}

static void *pread_elsewhere(void *arg)
{
	unsigned long n;
	ssize_t r = pread(lg, &n, sizeof(n), 0);

	*(int *)arg = r < 0 ? errno : 0;
	return NULL;
}

static void *kick_main(void *arg)
{
	(void)arg;
	usleep(200000);
	pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void first_guest(void *mem)
{
	int pfd[2], efd, efd2, elsewhere = -1;
	struct sigaction sa = { .sa_handler = on_usr1 };
	unsigned long n;
	char reason[64];
	pthread_t t;
	uint64_t count = 0;
	ssize_t r;

	lg = open("/dev/lguest", O_RDWR | O_CLOEXEC);
	report(lg >= 0, "open /dev/lguest", "%s", strerror(errno));
	errno = 0;
	r = pread(lg, &n, sizeof(n), 0);
	expect_err(r, EINVAL, "read before INITIALIZE is EINVAL");
	expect_err(req(2, 5, 0, 0), EINVAL, "IRQ before INITIALIZE is EINVAL");

	*(unsigned long *)((char *)mem + 0x100) = 0x1234000;
	r = req(0, (unsigned long)mem, PAGES, 0x100000);
	report(r == 3 * sizeof(long), "INITIALIZE returns three words",
	       "returned %zd, errno %d", r, errno);
	expect_err(req(0, (unsigned long)mem, PAGES, 0x100000), EBUSY,
		   "a second INITIALIZE is EBUSY");

	pthread_create(&t, NULL, pread_elsewhere, &elsewhere);
	pthread_join(t, NULL);
	report(elsewhere == EPERM, "read from another thread is EPERM",
	       "errno %d", elsewhere);

	expect_err(req(2, 32, 0, 0), EINVAL, "IRQ 32 is EINVAL");
	report(req(2, 5, 0, 0) == 0, "IRQ 5 returns 0", "errno %d", errno);
	expect_err(req(99, 0, 0, 0), EINVAL, "an unknown request is EINVAL");
	expect_err(req(1, 0, 0, 0), EINVAL, "LHREQ_GETDMA is EINVAL");

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pipe(pfd) < 0)
		abort();
	expect_err(req(4, 0, efd, 0), EINVAL, "EVENTFD for address 0 is EINVAL");
	expect_err(req(4, 0x2000, 12345, 0), EBADF,
		   "EVENTFD of a closed descriptor is EBADF");
	expect_err(req(4, 0x2000, pfd[0], 0), EINVAL,
		   "EVENTFD of a pipe is EINVAL");
	report(req(4, 0x2000, efd, 0) == 0, "EVENTFD binds 0x2000", "errno %d",
	       errno);
	/* The binding holds the eventfd, not our descriptor. */
	efd2 = dup(efd);
	close(efd);

	expect_err(pread(lg, &n, sizeof(n), 1), EINVAL,
		   "read at offset 1 (no vCPU 1) is EINVAL");
	expect_notify(0x1234000, "the guest read its memory and notified it");
	expect_notify(0x3000, "a bound address goes to the eventfd, the next "
		      "comes back");
	r = read(efd2, &count, sizeof(count));
	report(r == 8 && count == 1, "the eventfd was signalled once",
	       "read %zd, count %llu", r, (unsigned long long)count);
	expect_notify(0x5000, "interrupt 5 reached the guest");

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&t, NULL, kick_main, NULL);
	r = pread(lg, &n, sizeof(n), 0);
	pthread_join(t, NULL);
	expect_err(r, EINTR, "SIGUSR1 without SA_RESTART makes read EINTR");
	report(req(2, 7, 0, 0) == 0, "IRQ 7 returns 0", "errno %d", errno);
	expect_notify(0x7000, "after EINTR, read runs the guest on");

	r = pread(lg, &n, sizeof(n), 0);
	expect_err(r, ENOENT, "a dead guest's read is ENOENT");
	memset(reason, 'x', sizeof(reason));
	r = pread(lg, reason, sizeof(reason), 0);
	report(r == 16 && !strcmp(reason, "CRASH: selftest"),
	       "the next read gives the reason", "returned %zd, '%.20s'", r,
	       reason);
	memset(reason, 'x', sizeof(reason));
	r = pread(lg, reason, 4, 0);
	report(r == 4 && !memcmp(reason, "CRASxx", 6),
	       "a short read gives as much of it", "returned %zd", r);
	expect_err(req(2, 5, 0, 0), ENOENT, "IRQ to a dead guest is ENOENT");
	expect_err(req(0, (unsigned long)mem, PAGES, 0), EBUSY,
		   "INITIALIZE of a dead guest's descriptor is EBUSY");
	report(close(lg) == 0, "close", "errno %d", errno);
	close(efd2);
	close(pfd[0]);
	close(pfd[1]);
}

static void second_guest(void *mem)
{
	unsigned long n;
	ssize_t r;

	lg = openat(AT_FDCWD, "/dev/lguest", O_RDWR);
	report(lg >= 0, "openat /dev/lguest", "%s", strerror(errno));
	r = req(0, (unsigned long)mem, PAGES, 0x100000);
	report(r == 3 * sizeof(long), "INITIALIZE a second guest",
	       "returned %zd", r);
	r = pread(lg, &n, sizeof(n), 0);
	expect_err(r, ERESTART, "a restarting guest's read is ERESTART");
	r = pread(lg, &n, sizeof(n), 0);
	expect_err(r, ERESTART, "and the next read too");
	expect_err(req(2, 5, 0, 0), ENOENT, "IRQ to it is ENOENT");
	close(lg);

	lg = open("/dev/lguest", O_RDONLY);
	expect_err(req(0, (unsigned long)mem, PAGES, 0), EBADF,
		   "write to a read-only descriptor is EBADF");
	close(lg);
}

int main(void)
{
	void *mem;

	if (!getenv("LGMODEL")) {
		fprintf(stderr, "selftest: run with LD_PRELOAD=lgmodel.so "
			"LGMODEL=selftest\n");
		return 2;
	}
	/* A model that hangs is a failure too. */
	alarm(60);
	main_thread = pthread_self();
	mem = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 2;
	first_guest(mem);
	second_guest(mem);
	printf("selftest: %d failures\n", failures);
	return failures ? 1 : 0;
}
