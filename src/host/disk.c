/*
 * disk.c - the host file or block device behind a guest's disk.
 *
 * Opening it is where all the care goes: the disk is made if asked and
 * missing, refused if it is not a whole number of sectors, locked so
 * that no second guest writes it, and kept open across a reboot.  After
 * that it is a file descriptor, read and written at an offset.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handover.h"
#include "host/disk.h"
#include "iov.h"

/* preadv()/pwritev() until done: a short transfer inside the capacity
 * means the file shrank under us, which is an I/O error. */
bool disk_rw(struct disk *d, struct iovec *iov, unsigned n, u64 off,
	     bool write)
{
	ssize_t r;

	while (n) {
		if (write)
			r = pwritev(d->fd, iov, n, off);
		else
			r = preadv(d->fd, iov, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		off += r;
		n = iov_advance(&iov, n, r);
	}
	return true;
}

/* Zeroes the slow way, where the file system cannot fallocate them. */
static bool write_zeroes(struct disk *d, u64 off, u64 len)
{
	static const u8 zero[64 * KiB];
	struct iovec iov;
	size_t chunk;

	while (len) {
		chunk = len < sizeof(zero) ? len : sizeof(zero);
		iov.iov_base = (void *)zero;
		iov.iov_len = chunk;
		if (!disk_rw(d, &iov, 1, off, true))
			return false;
		off += chunk;
		len -= chunk;
	}
	return true;
}

bool disk_punch(struct disk *d, u64 off, u64 len)
{
	return fallocate(d->fd, DISK_PUNCH_MODE, off, len) == 0;
}

/* The file system is asked for zeroes (a hole, if unmapping is allowed)
 * and they are written only where it does not know how.  A file system
 * without ZERO_RANGE is asked once, not once a request. */
int disk_zero_mode(const struct disk *d, bool unmap)
{
	/* can_zero only ever goes from true to false, but several queue
	 * threads may look at it while one clears it: atomic accesses. */
	if (unmap && d->can_punch)
		return DISK_PUNCH_MODE;
	if (__atomic_load_n(&d->can_zero, __ATOMIC_RELAXED))
		return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	return 0;
}

bool disk_zero_after(struct disk *d, int mode, int err, u64 off, u64 len)
{
	if (mode && !err)
		return true;
	if ((mode & FALLOC_FL_ZERO_RANGE) && err == EOPNOTSUPP)
		__atomic_store_n(&d->can_zero, false, __ATOMIC_RELAXED);
	if (mode && err != EOPNOTSUPP)
		return false;
	return write_zeroes(d, off, len);
}

bool disk_zero(struct disk *d, u64 off, u64 len, bool unmap)
{
	int mode = disk_zero_mode(d, unmap), err = 0;

	if (mode && fallocate(d->fd, mode, off, len) < 0)
		err = errno;
	return disk_zero_after(d, mode, err, off, len);
}

bool disk_sync(struct disk *d)
{
	return fdatasync(d->fd) == 0;
}

/*L:718 Can we punch holes here?  Punching past the end of the file with
 * KEEP_SIZE changes nothing, but tells us whether the file system knows
 * how. */
static bool probe_punch(int fd, u64 size)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 size, 4096) == 0;
}

/* FILE[,ro][,size=SIZE][,direct][,aio=io_uring|sync]: @name arrives as
 * the whole argument and leaves as the file name. */
static void parse_flags(const char *arg, char *name, struct disk *d,
			u64 *create)
{
	char *flag = strchr(name, ','), *next, *end;

	if (flag)
		*flag++ = '\0';
	for (; flag; flag = next) {
		next = strchr(flag, ',');
		if (next)
			*next++ = '\0';
		if (!strcmp(flag, "ro")) {
			d->ro = true;
			continue;
		}
		if (!strcmp(flag, "direct")) {
			d->direct = true;
			continue;
		}
		if (!strcmp(flag, "aio=sync") || !strcmp(flag, "aio=io_uring")) {
			d->sync_io = !strcmp(flag, "aio=sync");
			continue;
		}
		if (!strncmp(flag, "aio=", 4))
			errx(EXIT_ERROR, "--block=%s: unknown %s; say aio=io_uring "
			     "or aio=sync", arg, flag);
		if (strncmp(flag, "size=", 5))
			errx(EXIT_ERROR, "--block=%s: unknown flag '%s'; say ro, "
			     "size=SIZE, direct or aio=sync", arg, flag);
		*create = strtoull(flag + 5, &end, 10);
		switch (*end) {
		case 'k': case 'K': *create <<= 10; end++; break;
		case 'm': case 'M': *create <<= 20; end++; break;
		case 'g': case 'G': *create <<= 30; end++; break;
		case 't': case 'T': *create <<= 40; end++; break;
		}
		if (!isdigit((unsigned char)flag[5]) || *end || !*create ||
		    *create % 512)
			errx(EXIT_ERROR, "--block=%s: size=%s is not a size like "
			     "64M (a multiple of 512 bytes)", arg, flag + 5);
	}
}

/*L:719 size=SIZE makes the disk on first start: a sparse file, created
 * only if nothing is there (O_EXCL), and removed again if it cannot be
 * made whole -- never a half-made disk, never a truncated one. */
static int create_disk(const char *arg, const char *name, u64 size,
		       const char *key)
{
	int fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		err(EXIT_ERROR, "--block=%s: cannot create %s", arg, name);
	if (ftruncate(fd, size) < 0) {
		int e = errno;

		unlink(name);
		errno = e;
		err(EXIT_ERROR, "--block=%s: cannot make %s %llu bytes", arg,
		    name, (unsigned long long)size);
	}
	verbose("--block=%s: created %s", arg, name);
	handover_set_fd(key, fd);
	return fd;
}

/*L:713 ,direct: the disk's I/O bypasses the host's page cache
 * (O_DIRECT), for users who would rather the guest's own cache be the
 * only one.  Such I/O must be aligned, in memory and on the disk, to
 * what the file system says (statx's DIOALIGN); the guest is then told
 * that is its block size. */
static void set_direct(struct disk *d, const char *arg, const char *name)
{
	int fl = fcntl(d->fd, F_GETFL);

	if (fl < 0 || fcntl(d->fd, F_SETFL, fl | O_DIRECT) < 0)
		err(EXIT_ERROR, "--block=%s: %s cannot be opened for direct "
		    "I/O; leave out ,direct", arg, name);
	d->dio_align = DISK_SECTOR;
#ifdef STATX_DIOALIGN
	struct statx sx;

	if (statx(d->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
	    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align > 0) {
		if (sx.stx_dio_offset_align > 4096 ||
		    sx.stx_dio_mem_align > 4096)
			errx(EXIT_ERROR, "--block=%s: direct I/O on %s needs "
			     "%u-byte alignment, more than a page; leave out "
			     ",direct", arg, name, sx.stx_dio_offset_align);
		if (sx.stx_dio_offset_align > d->dio_align)
			d->dio_align = sx.stx_dio_offset_align;
	}
#endif
	if (d->size % d->dio_align)
		errx(EXIT_ERROR, "--block=%s: %s is not a whole number of "
		     "%u-byte blocks, which direct I/O needs; leave out ,direct",
		     arg, name, d->dio_align);
}

/* A disk image or a block device, a whole number of sectors long. */
static u64 disk_size(int fd, const struct stat *st, const char *arg,
		     const char *name)
{
	u64 size;

	if (S_ISREG(st->st_mode)) {
		size = st->st_size;
	} else if (S_ISBLK(st->st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			err(EXIT_ERROR, "--block=%s: cannot get the size of "
			    "%s", arg, name);
	} else {
		errx(EXIT_ERROR, "--block=%s: %s is not a regular file or a "
		     "block device; give a disk image", arg, name);
	}
	if (!size)
		errx(EXIT_ERROR, "--block=%s: %s is empty; make a disk image "
		     "first, e.g. truncate -s 1G %s", arg, name, name);
	if (size % DISK_SECTOR)
		errx(EXIT_ERROR, "--block=%s: %s is %llu bytes, not a multiple "
		     "of 512; round it up with truncate -s %%512 %s", arg,
		     name, (unsigned long long)size, name);
	return size;
}

void disk_open(struct disk *d, const char *arg, int index)
{
	char name[4096], key[24];
	struct stat st;
	u64 create = 0;

	*d = (struct disk){ .fd = -1 };
	/* Cut short, "FILE,ro" would lose its ",ro" and open read-write. */
	if (strlen(arg) >= sizeof(name))
		errx(EXIT_ERROR, "--block=%.32s...: %zu bytes is too long; give "
		     "a path of at most %zu bytes", arg, strlen(arg),
		     sizeof(name) - 4);
	snprintf(name, sizeof(name), "%s", arg);
	parse_flags(arg, name, d, &create);
	if (!name[0])
		errx(EXIT_ERROR, "--block=%s: no file name; give --block=FILE "
		     "or --block=FILE,ro", arg);

	/* The number, the same on every boot, names the descriptor kept
	 * across a reboot. */
	snprintf(key, sizeof(key), "block%d", index);
	d->fd = open_kept(key, name, d->ro ? O_RDONLY : O_RDWR);
	if (d->fd < 0 && errno == ENOENT && create)
		d->fd = create_disk(arg, name, create, key);
	if (d->fd < 0 && errno == EROFS && !d->ro)
		err(EXIT_ERROR, "--block=%s: the file system is read-only; "
		    "use --block=%s,ro", arg, name);
	if (d->fd < 0)
		err(EXIT_ERROR, "--block=%s: cannot open %s", arg, name);
	if (fstat(d->fd, &st) < 0)
		err(EXIT_ERROR, "--block=%s: cannot stat %s", arg, name);
	d->size = disk_size(d->fd, &st, arg, name);

	/* Two guests writing one disk would wreck it: a lock makes the
	 * second fail here (it goes when we exit or reboot). */
	if (flock(d->fd, (d->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0 &&
	    errno == EWOULDBLOCK)
		errx(EXIT_ERROR, "--block=%s: %s is in use by another "
		     "process; stop it or use a copy", arg, name);

	if (d->direct)
		set_direct(d, arg, name);
	d->can_punch = !d->ro && S_ISREG(st.st_mode) &&
		       probe_punch(d->fd, d->size);
	d->can_zero = true;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->blksize = st.st_blksize;
}
