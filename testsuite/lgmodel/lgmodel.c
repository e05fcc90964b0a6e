/*
 * lgmodel.c - /dev/lguest as the Launcher sees it, in the Launcher's own
 * process (LD_PRELOAD=lgmodel.so LGMODEL=scenario).  intercept.c hands
 * us the calls on the descriptor; the rules are those of Linux's
 * drivers/lguest/lguest_user.c:
 *
 *   write {LHREQ_INITIALIZE, base, pfn_limit, start}  once; 3 words back
 *   write {LHREQ_IRQ, irq}                            irq < 32
 *   write {LHREQ_EVENTFD, addr, eventfd}              addr != 0, no removal
 *   pread(&notify, sizeof(long), 0)                   runs the guest
 *
 * Each open descriptor gets two threads, made at open() so that they
 * carry no filter the Launcher installs later: the guest (guest.c), and
 * a helper that checks and duplicates the eventfds the Launcher binds,
 * as the kernel takes its own reference to them.  Both block every
 * signal: a signal meant for the process must not land on them.
 *
 * Reboot is exec() of the Launcher, and a descriptor may be handed to the
 * new image open: LGMODEL_FDS in the environment ("5:u,7:r") says which
 * descriptors are ours and what state they are in, so the next image's
 * model knows a used descriptor from a fresh one, as the kernel would.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lgmodel.h"

#ifndef ERESTART
#define ERESTART 85
#endif

#define MAX_OPEN	16

static struct lgm inst[MAX_OPEN];
static int ninst;
bool lgm_on;

long lgm_futex_wait(u32 *word, u32 val, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };

	return syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val,
		       timeout_ms < 0 ? NULL : &ts, NULL, 0);
}

void lgm_futex_wake(u32 *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static pid_t tid(void)
{
	return syscall(SYS_gettid);
}

struct lgm *lgm_find(int fd)
{
	if (!__atomic_load_n(&ninst, __ATOMIC_ACQUIRE) || fd < 0)
		return NULL;
	for (int i = 0; i < ninst; i++)
		if (inst[i].fd == fd &&
		    __atomic_load_n(&inst[i].state, __ATOMIC_ACQUIRE) != LGM_CLOSED)
			return &inst[i];
	return NULL;
}

/* ---- the environment that outlives exec() ------------------------------- */

/* Called whenever a descriptor's state changes.  The variable exists
 * from the constructor on, so setenv() only swaps its value: the array
 * other threads may be reading is never reallocated. */
void lgm_set_env_state(struct lgm *m)
{
	static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;
	static const char code[] = { [LGM_FRESH] = 'u', [LGM_LIVE] = 'l' };
	char buf[MAX_OPEN * 16] = "", *p = buf;

	(void)m;
	pthread_mutex_lock(&env_lock);
	for (int i = 0; i < ninst; i++) {
		int st = __atomic_load_n(&inst[i].state, __ATOMIC_ACQUIRE);
		char c;

		if (st == LGM_CLOSED)
			continue;
		c = st == LGM_DEAD ? (inst[i].restart ? 'r' : 'd') : code[st];
		p += sprintf(p, "%s%d:%c", p == buf ? "" : ",", inst[i].fd, c);
	}
	setenv("LGMODEL_FDS", buf, 1);
	pthread_mutex_unlock(&env_lock);
}

/* ---- the helper thread: descriptors the Launcher binds ------------------ */

/* What eventfd_ctx_fdget() says of @fd: our duplicate, or -errno. */
static int check_eventfd(int fd)
{
	char path[64], link[64];
	struct stat st;
	ssize_t n;
	int dup;

	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dup);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		if (!strcmp(link, "anon_inode:[eventfd]"))
			return dup;
	} else if (fstat(dup, &st) == 0 && !(st.st_mode & S_IFMT)) {
		/* No /proc (a chroot): an anonymous inode will have to do. */
		return dup;
	}
	lgm_raw_close(dup);
	return -EINVAL;
}

static void *helper_main(void *arg)
{
	struct lgm *m = arg;

	/* Named from inside: naming another thread opens a /proc file. */
	prctl(PR_SET_NAME, "lgmodel-kernel", 0, 0, 0);

	for (;;) {
		u32 k = __atomic_load_n(&m->kreq, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) == LGM_CLOSED)
			break;
		if (k != 1) {
			lgm_futex_wait(&m->kreq, k, -1);
			continue;
		}
		m->kreq_ret = check_eventfd(m->kreq_fd);
		__atomic_store_n(&m->kreq, 2, __ATOMIC_RELEASE);
		lgm_futex_wake(&m->kreq);
	}
	pthread_mutex_lock(&m->lock);
	for (int i = 0; i < m->nev; i++)
		lgm_raw_close(m->ev[i].fd);
	m->nev = 0;
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static int ask_helper(struct lgm *m, int fd)
{
	int r;

	pthread_mutex_lock(&m->kreq_lock);
	m->kreq_fd = fd;
	__atomic_store_n(&m->kreq, 1, __ATOMIC_RELEASE);
	lgm_futex_wake(&m->kreq);
	while (__atomic_load_n(&m->kreq, __ATOMIC_ACQUIRE) != 2)
		lgm_futex_wait(&m->kreq, 1, -1);
	r = m->kreq_ret;
	__atomic_store_n(&m->kreq, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->kreq_lock);
	return r;
}

/* ---- descriptors -------------------------------------------------------- */

/* Is @fd a descriptor of /dev?  LGMODEL_DEV, set by the first image,
 * says which directory that is, chroot or not. */
bool lgm_is_dev_dir(int fd)
{
	struct stat st;
	unsigned long long dev, ino;
	const char *v = getenv("LGMODEL_DEV");

	return v && sscanf(v, "%llu:%llu", &dev, &ino) == 2 &&
	       fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) &&
	       st.st_dev == dev && st.st_ino == ino;
}

static void start_thread(struct lgm *m, void *(*fn)(void *))
{
	sigset_t all, old;
	pthread_t t;
	int e;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&t, NULL, fn, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		fprintf(stderr, "lgmodel: cannot start a thread: %s\n",
			strerror(e));
		abort();
	}
	pthread_detach(t);
}

static struct lgm *adopt(int fd, int state)
{
	struct lgm *m;

	if (ninst == MAX_OPEN) {
		fprintf(stderr, "lgmodel: more than %d opens of /dev/lguest\n",
			MAX_OPEN);
		abort();
	}
	m = &inst[ninst];
	memset(m, 0, sizeof(*m));
	m->fd = fd;
	m->acc = fcntl(fd, F_GETFL) & O_ACCMODE;
	m->state = state;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->kreq_lock, NULL);
	__atomic_store_n(&ninst, ninst + 1, __ATOMIC_RELEASE);
	if (state == LGM_FRESH) {
		start_thread(m, guest_main);
		start_thread(m, helper_main);
	}
	return m;
}

int lgm_opened(int fd)
{
	if (fd >= 0) {
		adopt(fd, LGM_FRESH);
		lgm_set_env_state(NULL);
	}
	return fd;
}

/* close() frees the guest; its threads see that and go. */
void lgm_closing(struct lgm *m)
{
	__atomic_store_n(&m->state, LGM_CLOSED, __ATOMIC_RELEASE);
	__atomic_add_fetch(&m->wake, 1, __ATOMIC_RELEASE);
	lgm_futex_wake(&m->wake);
	lgm_futex_wake(&m->run);
	lgm_futex_wake(&m->kreq);
	lgm_set_env_state(NULL);
}

/* ---- write(): the requests ---------------------------------------------- */

static long do_initialize(struct lgm *m, const unsigned long *arg)
{
	pthread_mutex_lock(&m->lock);
	if (m->state != LGM_FRESH) {
		pthread_mutex_unlock(&m->lock);
		return -EBUSY;
	}
	m->base = arg[0];
	m->pfn_limit = arg[1];
	m->start = arg[2];
	m->owner = tid();
	__atomic_store_n(&m->state, LGM_LIVE, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->lock);
	lgm_set_env_state(m);
	__atomic_add_fetch(&m->wake, 1, __ATOMIC_RELEASE);
	lgm_futex_wake(&m->wake);
	return 3 * sizeof(unsigned long);
}

static long do_irq(struct lgm *m, unsigned long irq)
{
	if (irq >= LGUEST_IRQS)
		return -EINVAL;
	/* Interrupt 0 is the guest's clock, which the host raises. */
	if (irq == 0)
		fail("the Launcher raised interrupt 0, the guest's timer");
	__atomic_add_fetch(&m->irq_count[irq], 1, __ATOMIC_RELAXED);
	__atomic_or_fetch(&m->irq_pending, 1U << irq, __ATOMIC_RELEASE);
	__atomic_add_fetch(&m->wake, 1, __ATOMIC_RELEASE);
	lgm_futex_wake(&m->wake);
	return 0;
}

static long do_eventfd(struct lgm *m, unsigned long addr, unsigned long fd)
{
	int dup;

	if (!addr)
		return -EINVAL;
	if (fd > INT_MAX)
		return -EBADF;
	dup = ask_helper(m, (int)fd);
	if (dup < 0)
		return dup;
	pthread_mutex_lock(&m->lock);
	if (m->nev == MAX_EVENTFDS) {
		pthread_mutex_unlock(&m->lock);
		lgm_raw_close(dup);
		return -ENOMEM;
	}
	m->ev[m->nev].fd = dup;
	__atomic_store_n(&m->ev[m->nev].addr, addr, __ATOMIC_RELAXED);
	__atomic_store_n(&m->nev, m->nev + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static ssize_t result(long r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

ssize_t lgm_write(struct lgm *m, const void *buf, size_t len, off64_t off)
{
	const unsigned long *w = buf;
	int st = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);

	/* As the kernel does, take words whatever the length said. */
	if (w[0] != LHREQ_INITIALIZE) {
		if (st == LGM_FRESH || off != 0)
			return result(-EINVAL);
		if (st == LGM_DEAD)
			return result(-ENOENT);
	}
	switch (w[0]) {
	case LHREQ_INITIALIZE:
		return result(do_initialize(m, w + 1));
	case LHREQ_IRQ:
		return result(do_irq(m, w[1]));
	case LHREQ_EVENTFD:
		return result(do_eventfd(m, w[1], w[2]));
	default:
		return result(-EINVAL);
	}
}

/* ---- read(): run the guest ---------------------------------------------- */

static ssize_t run_guest(struct lgm *m, void *buf)
{
	long r;

	__atomic_store_n(&m->run, RUN_GO, __ATOMIC_RELEASE);
	__atomic_add_fetch(&m->wake, 1, __ATOMIC_RELEASE);
	lgm_futex_wake(&m->wake);
	for (;;) {
		u32 run = __atomic_load_n(&m->run, __ATOMIC_ACQUIRE);

		if (run == RUN_EXIT)
			break;
		/* No time limit, as in the kernel: a handler without
		 * SA_RESTART makes this EINTR, one with it restarts it. */
		if (lgm_futex_wait(&m->run, run, -1) < 0 && errno == EINTR) {
			u32 go = RUN_GO;

			if (__atomic_compare_exchange_n(&m->run, &go, RUN_IDLE,
							false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				say("read() interrupted by a signal (EINTR)");
				errno = EINTR;
				return -1;
			}
		}
		if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) == LGM_CLOSED)
			return result(-EBADF);
	}
	r = m->exit_ret;
	if (r > 0)
		*(unsigned long *)buf = m->exit_addr;
	__atomic_store_n(&m->run, RUN_IDLE, __ATOMIC_RELEASE);
	return result(r);
}

ssize_t lgm_read(struct lgm *m, void *buf, size_t len, off64_t off)
{
	int st = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);
	size_t n;

	if (st == LGM_FRESH || off != 0)
		return result(-EINVAL);
	if (tid() != m->owner)
		return result(-EPERM);
	if (st == LGM_DEAD) {
		if (m->restart)
			return result(-ERESTART);
		n = strlen(m->reason) + 1;
		if (n > len)
			n = len;
		memcpy(buf, m->reason, n);
		return n;
	}
	return run_guest(m, buf);
}

/* ---- start-up ----------------------------------------------------------- */

/* The descriptors an earlier image of this process left us, if they are
 * still open and still /dev/null. */
static void adopt_inherited(void)
{
	const char *s = getenv("LGMODEL_FDS");
	struct stat st, null;

	if (!s || stat("/dev/null", &null) < 0)
		return;
	while (*s) {
		char *end, c;
		long fd = strtol(s, &end, 10);
		struct lgm *m;

		if (end == s || *end != ':' || !end[1])
			break;
		c = end[1];
		s = end + 2;
		if (*s == ',')
			s++;
		if (fd < 0 || fd > INT_MAX || fstat(fd, &st) < 0 ||
		    !S_ISCHR(st.st_mode) || st.st_rdev != null.st_rdev)
			continue;
		if (c == 'u') {
			adopt(fd, LGM_FRESH);
			continue;
		}
		/* A guest does not outlive its memory: whatever it was
		 * doing, it is dead now, as the kernel's would be. */
		m = adopt(fd, LGM_DEAD);
		m->restart = c == 'r';
		snprintf(m->reason, sizeof(m->reason),
			 c == 'd' ? "lgmodel: died before the exec()" :
			 "lgmodel: the Launcher's memory went with exec()");
	}
}

static void __attribute__((constructor)) lgm_start(void)
{
	struct stat st;
	char dev[48];

	if (!getenv("LGMODEL"))
		return;
	lgm_on = true;
	/* Made now, while there is one thread: later only their values
	 * change (lgm_set_env_state()). */
	setenv("LGMODEL_FDS", getenv("LGMODEL_FDS") ? : "", 1);
	setenv("LGMODEL_BOOT", getenv("LGMODEL_BOOT") ? : "0", 1);
	if (!getenv("LGMODEL_DEV") && stat("/dev", &st) == 0) {
		snprintf(dev, sizeof(dev), "%llu:%llu",
			 (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		setenv("LGMODEL_DEV", dev, 1);
	}
	adopt_inherited();
	lgm_set_env_state(NULL);
}
