/*
 * intercept.c - where the Launcher's calls come in: the C library's
 * open(), close(), write() and read() families, ours first, the real
 * ones (dlsym(RTLD_NEXT)) for every descriptor but the model's.
 *
 * An open() of exactly "/dev/lguest" opens /dev/null instead, with the
 * same flags, through the same function: the descriptor is a real one,
 * which close() and exec() treat as they treat any, and every call the
 * Launcher then makes on it is made for real on /dev/null before the
 * model answers.  So a seccomp filter that forbids the call, or a
 * descriptor opened without the access the call needs, gives what the
 * kernel would have given for /dev/lguest.
 */

/* Both names of each call are defined here (pread and pread64...): on a
 * 32-bit build the headers must not turn the one into the other. */
#undef _FILE_OFFSET_BITS
#undef _TIME_BITS

#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "lgmodel.h"

#define EXPORT		__attribute__((visibility("default")))

/* What _FORTIFY_SOURCE makes of open(), read() and pread(). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t len, size_t size);
ssize_t __pread_chk(int fd, void *buf, size_t len, off_t off, size_t size);
ssize_t __pread64_chk(int fd, void *buf, size_t len, off64_t off,
		      size_t size);

/* The C library's own functions, under ours. */
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_open_2)(const char *, int);
static int (*real_open64_2)(const char *, int);
static int (*real_openat_2)(int, const char *, int);
static int (*real_openat64_2)(int, const char *, int);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static ssize_t (*real_pread64)(int, void *, size_t, off64_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_read_chk)(int, void *, size_t, size_t);
static ssize_t (*real_pread_chk)(int, void *, size_t, off_t, size_t);
static ssize_t (*real_pread64_chk)(int, void *, size_t, off64_t, size_t);

#define RESOLVE(var, name) \
	do { if (!var) var = dlsym(RTLD_NEXT, name); } while (0)

/* Called before each use: other libraries' constructors may write
 * before ours has run. */
static void resolve(void)
{
	if (real_pread64_chk)
		return;
	RESOLVE(real_open, "open");
	RESOLVE(real_open64, "open64");
	RESOLVE(real_openat, "openat");
	RESOLVE(real_openat64, "openat64");
	RESOLVE(real_open_2, "__open_2");
	RESOLVE(real_open64_2, "__open64_2");
	RESOLVE(real_openat_2, "__openat_2");
	RESOLVE(real_openat64_2, "__openat64_2");
	RESOLVE(real_close, "close");
	RESOLVE(real_write, "write");
	RESOLVE(real_read, "read");
	RESOLVE(real_pread, "pread");
	RESOLVE(real_pread64, "pread64");
	RESOLVE(real_pwrite, "pwrite");
	RESOLVE(real_pwrite64, "pwrite64");
	RESOLVE(real_read_chk, "__read_chk");
	RESOLVE(real_pread_chk, "__pread_chk");
	RESOLVE(real_pread64_chk, "__pread64_chk");
}

ssize_t lgm_raw_write(int fd, const void *buf, size_t len)
{
	resolve();
	return real_write(fd, buf, len);
}

int lgm_raw_close(int fd)
{
	resolve();
	return real_close(fd);
}

static bool is_lguest(const char *path)
{
	return lgm_on && path && !strcmp(path, "/dev/lguest");
}

/* "lguest" in a directory descriptor of /dev counts too: that is how
 * the Launcher opens it again after a reboot (and the real call is then
 * "null" in the same directory, which its filter allows alike). */
static bool is_lguest_at(int dirfd, const char *path)
{
	if (is_lguest(path))
		return true;
	return lgm_on && path && dirfd >= 0 && !strcmp(path, "lguest") &&
	       lgm_is_dev_dir(dirfd);
}

static const char *null_at(const char *path)
{
	return path[0] == '/' ? "/dev/null" : "null";
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

#define UNPAREN(...)	__VA_ARGS__

/* NAME([int dirfd,] path, flags[, mode]): DECL and DIR are the directory
 * argument's declaration and use, "()" for the open() family; AT is the
 * directory to look in.  The _2 forms take no mode: MODE is empty. */
#define OPENER(name, realfn, decl, dir, at)				\
EXPORT int name(UNPAREN decl const char *path, int flags, ...)		\
{									\
	va_list ap;							\
	mode_t mode;							\
									\
	resolve();							\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap);							\
	if (is_lguest_at(at, path))					\
		return lgm_opened(realfn(UNPAREN dir null_at(path),	\
					 flags, mode));			\
	return realfn(UNPAREN dir path, flags, mode);			\
}

#define OPENER2(name, realfn, decl, dir, at)				\
EXPORT int name(UNPAREN decl const char *path, int flags)		\
{									\
	resolve();							\
	if (is_lguest_at(at, path))					\
		return lgm_opened(realfn(UNPAREN dir null_at(path), flags)); \
	return realfn(UNPAREN dir path, flags);				\
}

OPENER(open, real_open, (), (), AT_FDCWD)
OPENER(open64, real_open64, (), (), AT_FDCWD)
OPENER(openat, real_openat, (int dirfd,), (dirfd,), dirfd)
OPENER(openat64, real_openat64, (int dirfd,), (dirfd,), dirfd)
OPENER2(__open_2, real_open_2, (), (), AT_FDCWD)
OPENER2(__open64_2, real_open64_2, (), (), AT_FDCWD)
OPENER2(__openat_2, real_openat_2, (int dirfd,), (dirfd,), dirfd)
OPENER2(__openat64_2, real_openat64_2, (int dirfd,), (dirfd,), dirfd)

EXPORT int close(int fd)
{
	struct lgm *m;

	resolve();
	m = lgm_find(fd);
	if (m)
		lgm_closing(m);
	return real_close(fd);
}

/* The model's descriptor, the call made for real first; else the call. */
#define PASS_ON(realfn, model, ...)					\
{									\
	struct lgm *m;							\
									\
	resolve();							\
	m = lgm_find(fd);						\
	if (!m)								\
		return realfn(fd, buf, len, ##__VA_ARGS__);		\
	if (realfn(fd, buf, len, ##__VA_ARGS__) < 0)			\
		return -1;						\
	return model;							\
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
	PASS_ON(real_write, lgm_write(m, buf, len, 0))
EXPORT ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
	PASS_ON(real_pwrite, lgm_write(m, buf, len, off), off)
EXPORT ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
	PASS_ON(real_pwrite64, lgm_write(m, buf, len, off), off)
EXPORT ssize_t read(int fd, void *buf, size_t len)
	PASS_ON(real_read, lgm_read(m, buf, len, 0))
EXPORT ssize_t pread(int fd, void *buf, size_t len, off_t off)
	PASS_ON(real_pread, lgm_read(m, buf, len, off), off)
EXPORT ssize_t pread64(int fd, void *buf, size_t len, off64_t off)
	PASS_ON(real_pread64, lgm_read(m, buf, len, off), off)
EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t size)
	PASS_ON(real_read_chk, lgm_read(m, buf, len, 0), size)
EXPORT ssize_t __pread_chk(int fd, void *buf, size_t len, off_t off,
			   size_t size)
	PASS_ON(real_pread_chk, lgm_read(m, buf, len, off), off, size)
EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t len, off64_t off,
			     size_t size)
	PASS_ON(real_pread64_chk, lgm_read(m, buf, len, off), off, size)
