/*
 * support.c - the host as the fuzz harnesses let the Launcher see it.
 *
 * Linked with -Wl,--wrap= for the functions below (fuzz/run.sh has the
 * list), so that the Launcher's files are fuzzed as they are: a fatal
 * error on bad input jumps back to the harness; what malloc_or_die(),
 * strdup(), asprintf() and zlib took, and every eventfd and file, are
 * released after each input; a queue thread runs to completion in the caller and stops when
 * the input has nothing more for it; the tap is one end of a socket
 * pair.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz.h"
#include "hv.h"
#include "host/tap.h"
#include "machine.h"
#include "pidfile.h"
#include "priv.h"
#include "seccomp-filter.h"

jmp_buf fuzz_jmp;
bool fuzz_armed;
int fuzz_tap_peer = -1;

static struct vm *cur_vm;

#define MAX_ALLOCS	4096
#define MAX_FDS		64

static void *allocs[MAX_ALLOCS];
static int nallocs;
static int efds[MAX_FDS], nefds;	/* eventfds: kicks and interrupts */
static int ofds[MAX_FDS], nofds;	/* other descriptors */
static FILE *files[MAX_FDS];		/* fopen()ed while an input ran */
static int nfiles;

static bool quiet(void)
{
	static int q = -1;

	if (q < 0)
		q = !getenv("FUZZ_VERBOSE");
	return q;
}

static void track(void *p)
{
	if (nallocs == MAX_ALLOCS) {
		fprintf(stderr, "fuzz: more than %d allocations\n", MAX_ALLOCS);
		abort();
	}
	allocs[nallocs++] = p;
}

static bool untrack(void *p)
{
	for (int i = nallocs - 1; i >= 0; i--) {
		if (allocs[i] == p) {
			allocs[i] = allocs[--nallocs];
			return true;
		}
	}
	return false;
}

static void add_fd(int *set, int *n, int fd)
{
	if (*n == MAX_FDS) {
		fprintf(stderr, "fuzz: more than %d descriptors\n", MAX_FDS);
		abort();
	}
	set[(*n)++] = fd;
}

/* ---- what the wrapped functions do ---------------------------------- */

void *__wrap_malloc_or_die(size_t size);
void __real_free(void *p);
void __wrap_free(void *p);
void *__real_realloc(void *p, size_t size);
void *__wrap_realloc(void *p, size_t size);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);
int __real_fclose(FILE *f);
int __wrap_fclose(FILE *f);
int __real_inflateInit2_(z_streamp zs, int bits, const char *version,
			 int size);
int __wrap_inflateInit2_(z_streamp zs, int bits, const char *version,
			 int size);
char *__real_strdup(const char *s);
char *__wrap_strdup(const char *s);
int __wrap_asprintf(char **p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int __real_eventfd(unsigned int initval, int flags);
int __wrap_eventfd(unsigned int initval, int flags);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);
int __real_poll(struct pollfd *p, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *p, nfds_t n, int timeout);
void __wrap_tap_open(struct tap *tap, const struct tunnet *t, int index,
		     int hdr_len, int queues);
void __wrap_tap_set_offload(const struct tap *tap, unsigned off);
void __real_verr(int status, const char *fmt, va_list ap)
	__attribute__((noreturn));
void __real_verrx(int status, const char *fmt, va_list ap)
	__attribute__((noreturn));
void __wrap_err(int status, const char *fmt, ...) __attribute__((noreturn));
void __wrap_errx(int status, const char *fmt, ...) __attribute__((noreturn));
void __wrap_verr(int status, const char *fmt, va_list ap)
	__attribute__((noreturn));
void __wrap_verrx(int status, const char *fmt, va_list ap)
	__attribute__((noreturn));
void __real_exit(int status) __attribute__((noreturn));
void __wrap_exit(int status) __attribute__((noreturn));
void __real_vwarn(const char *fmt, va_list ap);
void __real_vwarnx(const char *fmt, va_list ap);
void __wrap_warn(const char *fmt, ...);
void __wrap_warnx(const char *fmt, ...);
void __wrap_vwarn(const char *fmt, va_list ap);
void __wrap_vwarnx(const char *fmt, va_list ap);

void *__wrap_malloc_or_die(size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		err(EXIT_ERROR, "out of memory allocating %zu bytes", size);
	track(p);
	return p;
}

void __wrap_free(void *p)
{
	if (p)
		untrack(p);
	__real_free(p);
}

void *__wrap_realloc(void *p, size_t size)
{
	bool tracked = p && untrack(p);
	void *q = __real_realloc(p, size);

	if (tracked)
		track(q ? q : p);
	return q;
}

/* The strings a configuration file leaves in struct args and messages,
 * kept for the whole of a real run, live as long as the input here. */
char *__wrap_strdup(const char *s)
{
	char *d = __real_strdup(s);

	if (d && fuzz_armed)
		track(d);
	return d;
}

int __wrap_asprintf(char **p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(p, fmt, ap);
	va_end(ap);
	if (r >= 0 && fuzz_armed)
		track(*p);
	return r;
}

/* zlib's state, so that a fatal error while inflating leaves none. */
static voidpf zalloc(voidpf opaque, uInt items, uInt size)
{
	void *p = calloc(items, size);

	if (p)
		track(p);
	return p;
}

static void zfree(voidpf opaque, voidpf p)
{
	__wrap_free(p);
}

int __wrap_inflateInit2_(z_streamp zs, int bits, const char *version,
			 int size)
{
	zs->zalloc = zalloc;
	zs->zfree = zfree;
	zs->opaque = NULL;
	return __real_inflateInit2_(zs, bits, version, size);
}

/* A file being read when a fatal error came is closed at the reset. */
FILE *__wrap_fopen(const char *path, const char *mode)
{
	FILE *f = __real_fopen(path, mode);

	if (f && fuzz_armed) {
		if (nfiles == MAX_FDS)
			abort();
		files[nfiles++] = f;
	}
	return f;
}

int __wrap_fclose(FILE *f)
{
	for (int i = 0; i < nfiles; i++) {
		if (files[i] == f) {
			files[i] = files[--nfiles];
			break;
		}
	}
	return __real_fclose(f);
}

int __wrap_eventfd(unsigned int initval, int flags)
{
	int fd = __real_eventfd(initval, flags);

	if (fd >= 0)
		add_fd(efds, &nefds, fd);
	return fd;
}

/* The input has nothing more for the queues: let their loops end. */
static void stop_queues(void)
{
	if (!cur_vm)
		return;
	for (struct virtio_dev *d = cur_vm->devices; d; d = d->next)
		for (int i = 0; i < d->ops->num_queues; i++)
			d->vq[i].stopping = true;
}

/* A queue about to sleep for a kick: no guest will ever kick it. */
ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	if (fuzz_armed) {
		for (int i = 0; i < nefds; i++) {
			if (efds[i] == fd) {
				stop_queues();
				memset(buf, 0, n);
				return n;
			}
		}
	}
	return __real_read(fd, buf, n);
}

/* Nothing ready now means nothing ready ever. */
int __wrap_poll(struct pollfd *p, nfds_t n, int timeout)
{
	int r;

	if (!fuzz_armed)
		return __real_poll(p, n, timeout);
	r = __real_poll(p, n, 0);
	if (r == 0)
		stop_queues();
	return r;
}

void __wrap_tap_open(struct tap *tap, const struct tunnet *t, int index,
		     int hdr_len, int queues)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		err(EXIT_ERROR, "socketpair");
	add_fd(ofds, &nofds, sv[0]);
	add_fd(ofds, &nofds, sv[1]);
	tap->fd[0] = sv[0];
	tap->queues = 1;
	tap->attached[0] = true;
	snprintf(tap->ifname, sizeof(tap->ifname), "fuzz%d", index);
	fuzz_tap_peer = sv[1];
}

void __wrap_tap_set_offload(const struct tap *tap, unsigned off)
{
}

static void __attribute__((noreturn)) fatal(int status, const char *fmt,
					    va_list ap, bool with_errno)
{
	if (!fuzz_armed) {
		if (with_errno)
			__real_verr(status, fmt, ap);
		__real_verrx(status, fmt, ap);
	}
	if (!quiet()) {
		fprintf(stderr, "fuzz: rejected (%d): ", status);
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, "\n");
	}
	longjmp(fuzz_jmp, 1);
}

void __wrap_err(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fatal(status, fmt, ap, true);
}

void __wrap_errx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fatal(status, fmt, ap, false);
}

void __wrap_verr(int status, const char *fmt, va_list ap)
{
	fatal(status, fmt, ap, true);
}

void __wrap_verrx(int status, const char *fmt, va_list ap)
{
	fatal(status, fmt, ap, false);
}

void __wrap_exit(int status)
{
	if (fuzz_armed)
		longjmp(fuzz_jmp, 1);
	__real_exit(status);
}

void __wrap_vwarn(const char *fmt, va_list ap)
{
	if (!quiet())
		__real_vwarn(fmt, ap);
}

void __wrap_vwarnx(const char *fmt, va_list ap)
{
	if (!quiet())
		__real_vwarnx(fmt, ap);
}

void __wrap_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	__wrap_vwarn(fmt, ap);
	va_end(ap);
}

void __wrap_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	__wrap_vwarnx(fmt, ap);
	va_end(ap);
}

/* ---- what is not linked ------------------------------------------------ */

/* queue.c is compiled with these names for pthread_create and
 * pthread_join: the queue's service runs now, in the caller. */
int fuzz_pthread_create(pthread_t *t, const pthread_attr_t *attr,
			void *(*fn)(void *), void *arg);
int fuzz_pthread_join(pthread_t t, void **ret);

int fuzz_pthread_create(pthread_t *t, const pthread_attr_t *attr,
			void *(*fn)(void *), void *arg)
{
	*t = 0;
	fn(arg);
	return 0;
}

int fuzz_pthread_join(pthread_t t, void **ret)
{
	return 0;
}

void seccomp_install(enum thread_class c)
{
}

void priv_set_user(const char *name)
{
}

void priv_set_chroot(const char *dir)
{
}

int pidfile_lock(int dir, const char *name, int flags, mode_t mode,
		 int *holder)
{
	errno = ENOSYS;
	return -1;
}

int pidfile_write(int fd)
{
	errno = ENOSYS;
	return -1;
}

/* The chips other than the PCI bus are never put on a fuzzed machine. */
#define CHIP(fn) \
	__attribute__((weak)) void fn(struct vm *vm) { abort(); }
#define DEVICE(type)
#include "parts.def"
#undef CHIP
#undef DEVICE

/* ---- machines and inputs -------------------------------------------- */

static void hv_irq_line(struct vm *vm, int irq, int level)
{
}

static int hv_ioeventfd(struct vm *vm, int fd, u64 addr, int len, bool pio,
			bool add)
{
	return 0;
}

static int hv_msi_route(struct vm *vm, int gsi, u64 addr, u32 data)
{
	return 0;
}

static int hv_irqfd(struct vm *vm, int fd, int gsi, bool add)
{
	return 0;
}

static const struct hv_ops fuzz_hv = {
	.name = "fuzz",
	.irq_line = hv_irq_line,
	.ioeventfd = hv_ioeventfd,
	.msi_route = hv_msi_route,
	.irqfd = hv_irqfd,
};

/*
 * Guest RAM: one mapping kept for the whole run, between two pages that
 * fault on any access, and zeroed for each input: a small one by
 * writing it, a big one by dropping its pages, which costs only the
 * pages the last input touched.
 */
static u8 *guest_ram(u64 size)
{
	static u8 *ram;
	static u64 ram_size;
	long page = sysconf(_SC_PAGESIZE);

	if (ram && ram_size != size) {
		munmap(ram - page, ram_size + 2 * page);
		ram = NULL;
	}
	if (!ram) {
		u8 *p = mmap(NULL, size + 2 * page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || mprotect(p, page, PROT_NONE) < 0 ||
		    mprotect(p + page + size, page, PROT_NONE) < 0) {
			perror("fuzz: guest RAM");
			abort();
		}
		ram = p + page;
		ram_size = size;
	} else if (size <= MiB) {
		memset(ram, 0, size);
	} else if (madvise(ram, size, MADV_DONTNEED) < 0) {
		perror("fuzz: guest RAM");
		abort();
	}
	return ram;
}

struct vm *fuzz_vm(u64 ram, u64 low)
{
	struct vm *vm = malloc_or_die(sizeof(*vm));

	vm_init(vm, &fuzz_hv);
	vm->ram = guest_ram(ram);
	vm->ram_size = ram;
	vm->low_end = low;
	cur_vm = vm;
	return vm;
}

void fuzz_reset(void)
{
	while (nallocs)
		__real_free(allocs[--nallocs]);
	while (nefds)
		close(efds[--nefds]);
	while (nofds)
		close(ofds[--nofds]);
	while (nfiles)
		__real_fclose(files[--nfiles]);
	fuzz_tap_peer = -1;
	cur_vm = NULL;
	verbose_flag = false;
}

bool fuzz_run(void (*fn)(void *arg), void *arg)
{
	if (setjmp(fuzz_jmp)) {
		fuzz_armed = false;
		return false;
	}
	fuzz_armed = true;
	fn(arg);
	fuzz_armed = false;
	return true;
}

/* The lguest bus's early console writes to the console's host end,
 * which the harnesses do not have: the bytes go nowhere. */
void conhost_write(const void *buf, size_t len)
{
	(void)buf;
	(void)len;
}
