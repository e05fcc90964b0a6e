/*
 * disk.h - the host file or block device behind a guest's disk.
 *
 * Everything here is about the host: which file --block= names, whether
 * it may be written, how big it is, and what its file system can do.
 * What the guest sees of it is virtio-blk's business (virtio/blk.c).
 */
#ifndef LGUEST_HOST_DISK_H
#define LGUEST_HOST_DISK_H

#include <linux/falloc.h>
#include <sys/uio.h>

#include "lguest.h"

/* A disk's size and every offset into it come in these: virtio-blk's
 * sector, whatever the host's block size. */
#define DISK_SECTOR		512ULL

struct disk {
	int fd;
	bool ro;
	bool can_punch;		/* fallocate(PUNCH_HOLE) works here */
	bool can_zero;		/* fallocate(ZERO_RANGE) works, until it fails */
	u64 size;		/* bytes, a multiple of 512 */
	u64 dev, ino;		/* which file it is */
	u64 blksize;		/* the file system's preferred I/O size */
	bool sync_io;		/* aio=sync: no io_uring */
	bool direct;		/* O_DIRECT: no host page cache */
	u32 dio_align;		/* with it, the offsets' and sizes' unit */
};

/* --block=@arg, FILE[,ro][,size=SIZE][,direct][,aio=io_uring|sync]: open, create, size and lock the
 * disk, the @index'th of the machine (from 1, in command-line order; it
 * names the descriptor kept across a reboot).  Any failure is fatal,
 * with a message that names @arg. */
void disk_open(struct disk *d, const char *arg, int index);

/* Read or write all of the @n buffers at byte @off: false on an I/O
 * error or a short transfer (@iov is used up either way). */
bool disk_rw(struct disk *d, struct iovec *iov, unsigned n, u64 off,
	     bool write);

/* Make [@off, @off + @len) a hole: discard. */
bool disk_punch(struct disk *d, u64 off, u64 len);

/* Make [@off, @off + @len) read as zeroes, as a hole if @unmap allows. */
bool disk_zero(struct disk *d, u64 off, u64 len, bool unmap);

/* disk_zero() in two steps, for a caller that does the fallocate()
 * itself (io_uring): the mode to ask for (0: the file system knows
 * none, write the zeroes), then, given how it ended (0 or an errno),
 * the rest: written the slow way where the file system could not. */
#define DISK_PUNCH_MODE		(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
int disk_zero_mode(const struct disk *d, bool unmap);
bool disk_zero_after(struct disk *d, int mode, int err, u64 off, u64 len);

/* Everything written so far, on stable storage. */
bool disk_sync(struct disk *d);

#endif
