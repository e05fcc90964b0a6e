/*
 * pidfile.c - a pid in a locked file.
 *
 *L:364 The lock, not the pid written in the file, says whether another
 * process has it: a file left by one that was killed is simply taken
 * over, and the pid in it only names the holder in a message.  A file
 * we locked just as its owner removed it is not ours; the inode check
 * sends us round again to create a new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handover.h"
#include "lguest.h"
#include "pidfile.h"

/* Is @name in @dir still the file open on @fd? */
static bool still_there(int fd, int dir, const char *name, int at_flags)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && fstatat(dir, name, &b, at_flags) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int pid_in(int fd)
{
	char buf[32] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return 0;
	return atoi(buf);
}

int pidfile_lock(int dir, const char *name, int flags, mode_t mode,
		 int *holder)
{
	int at_flags = flags & O_NOFOLLOW ? AT_SYMLINK_NOFOLLOW : 0;
	int fd, e;

	for (;;) {
		*holder = -1;
		fd = openat(dir, name, O_RDWR | O_CREAT | O_CLOEXEC | flags,
			    mode);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			e = errno;
			*holder = e == EWOULDBLOCK ? pid_in(fd) : 0;
			close(fd);
			errno = e;
			return -1;
		}
		if (still_there(fd, dir, name, at_flags))
			return fd;
		close(fd);
	}
}

int pidfile_write(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, n, 0) != n)
		return -1;
	return 0;
}

int pidfile_pid(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC), pid;

	if (fd < 0)
		return 0;
	pid = pid_in(fd);
	close(fd);
	return pid;
}

/* ---- --pidfile ---------------------------------------------------------- */

static struct {
	int fd;
	int dir_fd;		/* where it is, as a descriptor */
	char *base;		/* and its name there */
	pid_t owner;
} pidf = { .fd = -1, .dir_fd = -1 };

static int take(const char *path)
{
	int fd, pid;

	fd = pidfile_lock(AT_FDCWD, path, 0, 0644, &pid);
	if (fd < 0 && pid < 0)
		err(EXIT_ERROR, "cannot open the pid file %s", path);
	if (fd < 0 && errno != EWOULDBLOCK)
		err(EXIT_ERROR, "cannot lock %s", path);
	if (fd < 0 && pid)
		errx(EXIT_ERROR, "%s is locked: another lguest (pid %d) is "
		     "running", path, pid);
	if (fd < 0)
		errx(EXIT_ERROR, "%s is locked: another lguest is running",
		     path);
	if (pidfile_write(fd) < 0)
		err(EXIT_ERROR, "cannot write %s", path);
	return fd;
}

/* The file and its directory are handed over on reboot: the new image
 * may be in a chroot, where the path leads elsewhere or nowhere. */
void pidfile_open(const char *path)
{
	char *d = strdup(path), *b = strdup(path);

	if (!d || !b)
		errx(EXIT_ERROR, "out of memory");
	pidf.fd = handover_fd("pidfile");
	if (pidf.fd < 0)
		pidf.fd = take(path);
	pidf.base = strdup(basename(b));
	pidf.dir_fd = handover_fd("pidfile.dir");
	if (pidf.dir_fd < 0)
		pidf.dir_fd = open(dirname(d), O_PATH | O_DIRECTORY |
				   O_CLOEXEC);
	free(d);
	free(b);
	if (!pidf.base || pidf.dir_fd < 0)
		err(EXIT_ERROR, "cannot find the directory of %s", path);
	handover_set_fd("pidfile", pidf.fd);
	handover_set_fd("pidfile.dir", pidf.dir_fd);
	pidf.owner = getpid();
	atexit(pidfile_remove);
}

void pidfile_remove(void)
{
	if (pidf.owner != getpid())
		return;
	pidf.owner = 0;
	if (still_there(pidf.fd, pidf.dir_fd, pidf.base, AT_SYMLINK_NOFOLLOW))
		unlinkat(pidf.dir_fd, pidf.base, 0);
}
