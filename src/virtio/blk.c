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
#include <stdio.h>

#include "host/disk.h"
#include "iov.h"
#include "machine.h"
#include "virtio/virtio.h"

#define VIRTIO_BLK_WZ_UNMAP		1
#define VIRTIO_BLK_ID_BYTES		20

#define SECTOR				DISK_SECTOR
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
	struct disk disk;
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
	bool ok;

	if (b->disk.ro)
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

		if (type == VIRTIO_BLK_T_DISCARD)
			ok = disk_punch(&b->disk, off, bytes);
		else
			ok = disk_zero(&b->disk, off, bytes,
				       r[i].flags & VIRTIO_BLK_WZ_UNMAP);
		if (!ok)
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
		    !disk_rw(&b->disk, data, n, hdr.sector * SECTOR,
			     false))
			status = VIRTIO_BLK_S_IOERR;
		else
			*used += dlen;
		break;
	case VIRTIO_BLK_T_OUT:
		dlen = rlen - sizeof(hdr);
		n = iov_slice(data, iov, out, sizeof(hdr), dlen);
		b->dirty = true;
		if (b->disk.ro || dlen % SECTOR || !in_range(b, hdr.sector, dlen) ||
		    !disk_rw(&b->disk, data, n, hdr.sector * SECTOR,
			     true))
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Nothing written since the last one: nothing to sync.  A
		 * new disk (or a reboot) starts dirty, to be sure. */
		if (b->disk.ro || !b->dirty)
			break;
		if (!disk_sync(&b->disk))
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
	.num_queues = 1,
	.service = { blk_request },
	.config_size = sizeof(struct virtio_blk_config),
};

/* What the driver sees of the disk: its size, the limits of a request,
 * and the features the host file allows. */
static void blk_config(struct blk *b)
{
	struct virtio_blk_config *c = &b->config;
	u64 features;

	c->capacity = b->sectors;
	c->size_max = SIZE_MAX_SEG;
	c->seg_max = VQ_MAX_SIZE - 2;		/* minus header and status */
	c->blk_size = SECTOR;
	features = 1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
		   1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH;
	if (b->disk.ro) {
		features |= 1ULL << VIRTIO_BLK_F_RO;
	} else {
		features |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
		c->max_write_zeroes_sectors = MAX_RANGE_SECTORS;
		c->max_write_zeroes_seg = MAX_RANGE_SEGS;
		c->write_zeroes_may_unmap = b->disk.can_punch;
	}
	if (b->disk.can_punch) {
		features |= 1ULL << VIRTIO_BLK_F_DISCARD;
		c->max_discard_sectors = MAX_RANGE_SECTORS;
		c->max_discard_seg = MAX_RANGE_SEGS;
		c->discard_sector_alignment = b->disk.blksize > SECTOR ?
					      b->disk.blksize / SECTOR : 1;
	}

	b->ops.features = features;
}

static void blk_add(struct vm *vm, const char *arg, int index)
{
	struct blk *b = malloc_or_die(sizeof(*b));

	b->ops = blk_ops;
	disk_open(&b->disk, arg, index);
	b->dirty = true;
	b->sectors = b->disk.size / SECTOR;
	snprintf(b->id, sizeof(b->id), "lg%llx-%llx",
		 (unsigned long long)b->disk.dev,
		 (unsigned long long)b->disk.ino);
	blk_config(b);

	verbose("--block=%s: disk %d, %llu sectors%s%s", arg, index,
		(unsigned long long)b->sectors, b->disk.ro ? ", read-only" : "",
		b->disk.can_punch ? ", discard" : "");
	virtio_add(vm, &b->ops, b, &b->config);
}

const struct device_type blk_device = {
	.option = "block",
	.has_arg = true,
	.help =
"  --block=FILE[,ro][,size=SIZE]\n"
"                  a virtio disk backed by FILE (repeatable: vda, vdb...);\n"
"                  with size=, FILE is created that big if it is missing\n",
	.add = blk_add,
};
