/*
 * blk.c - virtio-blk (virtio 1.x, 5.2): a disk backed by a host file or
 * block device.
 *
 *L:710 lguest's block device was the simplest possible: a file, read and
 * written at the guest's sector, with a flush that meant fdatasync().  We
 * keep that, reading and writing straight between the file and the
 * guest's buffers, and add what a modern driver asks for: the segment
 * limits, read-only disks, and discard and write-zeroes mapped onto
 * fallocate() so that a sparse image stays sparse.
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

#include "iov.h"
#include "virtio/devices.h"
#include "virtio/virtio.h"

#define VIRTIO_BLK_WZ_UNMAP		1
#define VIRTIO_BLK_ID_BYTES		20

#define SECTOR				512ULL
#define SIZE_MAX_SEG			(4 * MiB)
#define MAX_RANGE_SEGS			32
#define MAX_RANGE_SECTORS		(1U << 22)	/* 2 GiB per range */

/* 5.2.4; x86 is little-endian like the spec, so the struct is the wire
 * format as it stands. */
struct virtio_blk_config {
	u64 capacity;
	u32 size_max;
	u32 seg_max;
	u16 cylinders;
	u8 heads;
	u8 sectors;
	u32 blk_size;
	u8 physical_block_exp;
	u8 alignment_offset;
	u16 min_io_size;
	u32 opt_io_size;
	u8 writeback;
	u8 unused0[3];
	u32 max_discard_sectors;
	u32 max_discard_seg;
	u32 discard_sector_alignment;
	u32 max_write_zeroes_sectors;
	u32 max_write_zeroes_seg;
	u8 write_zeroes_may_unmap;
	u8 unused1[3];
} __attribute__((packed));

struct blk_range {
	u64 sector;
	u32 num_sectors;
	u32 flags;
} __attribute__((packed));

struct blk {
	int fd;
	bool ro;
	bool can_punch;		/* fallocate(PUNCH_HOLE) works here */
	bool can_zero;		/* fallocate(ZERO_RANGE) works, until it fails */
	bool dirty;		/* written since the last fdatasync() */
	u64 sectors;		/* capacity */
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct virtio_ops ops;	/* features differ from disk to disk */
};

/*L:712 Every request is checked against the capacity before it touches
 * the file, and the arithmetic is arranged so that no guest-chosen
 * sector can wrap it: a write past the end fails, and the file never
 * grows. */
static bool in_range(const struct blk *b, u64 sector, u64 bytes)
{
	if (sector > b->sectors)
		return false;
	return bytes <= (b->sectors - sector) * SECTOR;
}

/* preadv()/pwritev() until done: a short transfer inside the capacity
 * means the file shrank under us, which is an I/O error. */
static bool rw(struct blk *b, struct iovec *iov, unsigned n, u64 off,
	       bool write)
{
	ssize_t r;

	while (n) {
		if (write)
			r = pwritev(b->fd, iov, n, off);
		else
			r = preadv(b->fd, iov, n, off);
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
static bool write_zeroes(struct blk *b, u64 off, u64 len)
{
	static const u8 zero[64 * KiB];
	struct iovec iov;
	size_t chunk;

	while (len) {
		chunk = len < sizeof(zero) ? len : sizeof(zero);
		iov.iov_base = (void *)zero;
		iov.iov_len = chunk;
		if (!rw(b, &iov, 1, off, true))
			return false;
		off += chunk;
		len -= chunk;
	}
	return true;
}

/*L:714 Discard punches a hole; write-zeroes asks the file system for
 * zeroes (a hole too, if the driver allows unmapping), and falls back to
 * writing them.  The ranges sit in the readable part of the request. */
static u8 do_ranges(struct blk *b, u32 type, const struct iovec *data,
		    unsigned n)
{
	struct blk_range r[MAX_RANGE_SEGS];
	size_t len = iov_total(data, n);
	unsigned count = len / sizeof(r[0]);
	u64 off, bytes;
	int mode;

	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (!count || len % sizeof(r[0]) || count > MAX_RANGE_SEGS)
		return VIRTIO_BLK_S_IOERR;
	iov_from(data, n, 0, r, len);

	for (unsigned i = 0; i < count; i++) {
		if (r[i].flags & ~VIRTIO_BLK_WZ_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;
		if (type == VIRTIO_BLK_T_DISCARD && r[i].flags)
			return VIRTIO_BLK_S_UNSUPP;
		if (r[i].num_sectors > MAX_RANGE_SECTORS)
			return VIRTIO_BLK_S_IOERR;
		off = r[i].sector * SECTOR;
		bytes = (u64)r[i].num_sectors * SECTOR;
		if (!in_range(b, r[i].sector, bytes))
			return VIRTIO_BLK_S_IOERR;
		if (!bytes)
			continue;

		if (type == VIRTIO_BLK_T_DISCARD) {
			if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE |
				      FALLOC_FL_KEEP_SIZE, off, bytes) < 0)
				return VIRTIO_BLK_S_IOERR;
			continue;
		}
		if ((r[i].flags & VIRTIO_BLK_WZ_UNMAP) && b->can_punch)
			mode = FALLOC_FL_PUNCH_HOLE;
		else if (b->can_zero)
			mode = FALLOC_FL_ZERO_RANGE;
		else
			mode = 0;
		if (mode && fallocate(b->fd, mode | FALLOC_FL_KEEP_SIZE,
				      off, bytes) == 0)
			continue;
		if (mode == FALLOC_FL_ZERO_RANGE && errno == EOPNOTSUPP)
			b->can_zero = false;
		if (mode && errno != EOPNOTSUPP)
			return VIRTIO_BLK_S_IOERR;
		if (!write_zeroes(b, off, bytes))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*L:716 One request: a 16-byte header the device reads, data, and a status
 * byte, the last byte the device may write.  *@used gets the bytes
 * written into the guest's buffers, status included; false means the
 * driver broke the rules. */
static bool blk_one(struct virtio_dev *d, struct blk *b, struct iovec *iov,
		    unsigned out, unsigned in, u32 *used)
{
	struct { u32 type; u32 ioprio; u64 sector; } hdr;
	struct iovec data[VQ_MAX_IOV], st;
	size_t rlen = iov_total(iov, out), wlen = iov_total(iov + out, in);
	size_t dlen = 0;
	unsigned n;
	u8 status = VIRTIO_BLK_S_OK;

	if (rlen < sizeof(hdr) || wlen < 1) {
		virtio_broken(d, "request without a readable header or a "
			      "writable status byte");
		return false;
	}
	*used = 1;
	iov_from(iov, out, 0, &hdr, sizeof(hdr));
	iov_slice(&st, iov + out, in, wlen - 1, 1);

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		dlen = wlen - 1;
		n = iov_slice(data, iov + out, in, 0, dlen);
		if (dlen % SECTOR || !in_range(b, hdr.sector, dlen) ||
		    !rw(b, data, n, hdr.sector * SECTOR, false))
			status = VIRTIO_BLK_S_IOERR;
		else
			*used += dlen;
		break;
	case VIRTIO_BLK_T_OUT:
		dlen = rlen - sizeof(hdr);
		n = iov_slice(data, iov, out, sizeof(hdr), dlen);
		b->dirty = true;
		if (b->ro || dlen % SECTOR || !in_range(b, hdr.sector, dlen) ||
		    !rw(b, data, n, hdr.sector * SECTOR, true))
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Nothing written since the last one: nothing to sync.  A
		 * new disk (or a reboot) starts dirty, to be sure. */
		if (b->ro || !b->dirty)
			break;
		if (fdatasync(b->fd) < 0)
			status = VIRTIO_BLK_S_IOERR;
		else
			b->dirty = false;
		break;
	case VIRTIO_BLK_T_GET_ID:
		n = iov_slice(data, iov + out, in, 0, wlen - 1);
		*used += iov_to(data, n, 0, b->id, sizeof(b->id));
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!virtio_has(d, hdr.type == VIRTIO_BLK_T_DISCARD ?
				VIRTIO_BLK_F_DISCARD :
				VIRTIO_BLK_F_WRITE_ZEROES)) {
			status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
		n = iov_slice(data, iov, out, sizeof(hdr), rlen - sizeof(hdr));
		b->dirty = true;
		status = do_ranges(b, hdr.type, data, n);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	*(u8 *)st.iov_base = status;
	return true;
}

static void blk_request(struct virtqueue *vq)
{
	struct iovec iov[VQ_MAX_IOV];
	struct blk *b = vq->dev->priv;
	unsigned out, in;
	int head;
	u32 used;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		if (!blk_one(vq->dev, b, iov, out, in, &used))
			return;
		vq_push(vq, head, used);
	}
}

static const struct virtio_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x018000,		/* mass storage, "other" */
	.num_queues = 1,
	.service = { blk_request },
	.config_size = sizeof(struct virtio_blk_config),
};

/*L:718 Can we punch holes here?  Punching past the end of the file with
 * KEEP_SIZE changes nothing, but tells us whether the file system knows
 * how. */
static bool probe_punch(int fd, u64 size)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 size, 4096) == 0;
}

/* FILE[,ro][,size=SIZE]: @name arrives as the whole argument and leaves
 * as the file name. */
static void parse_flags(const char *arg, char *name, bool *ro, u64 *create)
{
	char *flag = strchr(name, ','), *next, *end;

	if (flag)
		*flag++ = '\0';
	for (; flag; flag = next) {
		next = strchr(flag, ',');
		if (next)
			*next++ = '\0';
		if (!strcmp(flag, "ro")) {
			*ro = true;
			continue;
		}
		if (strncmp(flag, "size=", 5))
			errx(EXIT_ERROR, "--block=%s: unknown flag '%s'; say ro "
			     "or size=SIZE", arg, flag);
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

/*L:730 size=SIZE makes the disk on first start: a sparse file, created
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
	fd_keep(key, fd);
	return fd;
}

void blk_add(struct vm *vm, const char *arg)
{
	static int count;
	int n;
	struct blk *b = malloc_or_die(sizeof(*b));
	struct virtio_blk_config *c = &b->config;
	char name[4096], key[24];
	struct stat st;
	u64 size, create = 0;
	u64 features;

	b->ops = blk_ops;
	snprintf(name, sizeof(name), "%s", arg);
	parse_flags(arg, name, &b->ro, &create);
	if (!name[0])
		errx(EXIT_ERROR, "--block=%s: no file name; give --block=FILE "
		     "or --block=FILE,ro", arg);

	/* Disks are numbered from 1 in the order given, the same on every
	 * boot: the number names the descriptor kept across a reboot. */
	n = ++count;
	snprintf(key, sizeof(key), "block%d", n);
	b->dirty = true;
	b->fd = open_kept(key, name, b->ro ? O_RDONLY : O_RDWR);
	if (b->fd < 0 && errno == ENOENT && create)
		b->fd = create_disk(arg, name, create, key);
	if (b->fd < 0 && errno == EROFS && !b->ro)
		err(EXIT_ERROR, "--block=%s: the file system is read-only; "
		    "use --block=%s,ro", arg, name);
	if (b->fd < 0)
		err(EXIT_ERROR, "--block=%s: cannot open %s", arg, name);
	if (fstat(b->fd, &st) < 0)
		err(EXIT_ERROR, "--block=%s: cannot stat %s", arg, name);

	if (S_ISREG(st.st_mode)) {
		size = st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &size) < 0)
			err(EXIT_ERROR, "--block=%s: cannot get the size of "
			    "%s", arg, name);
	} else {
		errx(EXIT_ERROR, "--block=%s: %s is not a regular file or a "
		     "block device; give a disk image", arg, name);
	}
	if (!size)
		errx(EXIT_ERROR, "--block=%s: %s is empty; make a disk image "
		     "first, e.g. truncate -s 1G %s", arg, name, name);
	if (size % SECTOR)
		errx(EXIT_ERROR, "--block=%s: %s is %llu bytes, not a multiple "
		     "of 512; round it up with truncate -s %%512 %s", arg,
		     name, (unsigned long long)size, name);

	/* Two guests writing one disk would wreck it: a lock makes the
	 * second fail here (it goes when we exit or reboot). */
	if (flock(b->fd, (b->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0 &&
	    errno == EWOULDBLOCK)
		errx(EXIT_ERROR, "--block=%s: %s is in use by another "
		     "process; stop it or use a copy", arg, name);

	b->sectors = size / SECTOR;
	b->can_punch = !b->ro && S_ISREG(st.st_mode) && probe_punch(b->fd, size);
	b->can_zero = true;
	snprintf(b->id, sizeof(b->id), "lg%llx-%llx",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);

	c->capacity = b->sectors;
	c->size_max = SIZE_MAX_SEG;
	c->seg_max = VQ_MAX_SIZE - 2;		/* minus header and status */
	c->blk_size = SECTOR;
	features = 1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
		   1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH;
	if (b->ro) {
		features |= 1ULL << VIRTIO_BLK_F_RO;
	} else {
		features |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
		c->max_write_zeroes_sectors = MAX_RANGE_SECTORS;
		c->max_write_zeroes_seg = MAX_RANGE_SEGS;
		c->write_zeroes_may_unmap = b->can_punch;
	}
	if (b->can_punch) {
		features |= 1ULL << VIRTIO_BLK_F_DISCARD;
		c->max_discard_sectors = MAX_RANGE_SECTORS;
		c->max_discard_seg = MAX_RANGE_SEGS;
		c->discard_sector_alignment = (u64)st.st_blksize > SECTOR ?
					      st.st_blksize / SECTOR : 1;
	}

	b->ops.features = features;

	verbose("--block=%s: disk %d, %llu sectors%s%s", arg, n,
		(unsigned long long)b->sectors, b->ro ? ", read-only" : "",
		b->can_punch ? ", discard" : "");
	virtio_add(vm, &b->ops, b, c);
}
