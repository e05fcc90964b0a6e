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
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "iov.h"
#include "machine.h"
#include "virtio/blk.h"

#define VIRTIO_BLK_WZ_UNMAP		1

#define SECTOR				DISK_SECTOR
#define SIZE_MAX_SEG			(4 * MiB)
#define MAX_RANGE_SECTORS		(1U << 22)	/* 2 GiB per range */

_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34,
	       "virtio_blk_config.num_queues is at offset 34 (5.2.4)");

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
 * writing them.  The ranges sit in the readable part of the request;
 * all of them are checked before any is done. */
static u8 parse_ranges(struct blk *b, struct blk_req *r,
		       const struct iovec *data, unsigned n)
{
	u64 len = iov_total(data, n);

	if (b->disk.ro)
		return VIRTIO_BLK_S_IOERR;
	if (!len || len % sizeof(r->r[0]) || len > sizeof(r->r))
		return VIRTIO_BLK_S_IOERR;
	iov_from(data, n, 0, r->r, len);
	r->nr = len / sizeof(r->r[0]);

	for (unsigned i = 0; i < r->nr; i++) {
		if (r->r[i].flags & ~VIRTIO_BLK_WZ_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;
		if (r->type == VIRTIO_BLK_T_DISCARD && r->r[i].flags)
			return VIRTIO_BLK_S_UNSUPP;
		if (r->r[i].num_sectors > MAX_RANGE_SECTORS)
			return VIRTIO_BLK_S_IOERR;
		if (!in_range(b, r->r[i].sector,
			      (u64)r->r[i].num_sectors * SECTOR))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

static u8 do_ranges(struct blk *b, const struct blk_req *r)
{
	u64 off, bytes;
	bool ok;

	for (unsigned i = 0; i < r->nr; i++) {
		off = r->r[i].sector * SECTOR;
		bytes = (u64)r->r[i].num_sectors * SECTOR;
		if (!bytes)
			continue;
		if (r->type == VIRTIO_BLK_T_DISCARD)
			ok = disk_punch(&b->disk, off, bytes);
		else
			ok = disk_zero(&b->disk, off, bytes,
				       r->r[i].flags & VIRTIO_BLK_WZ_UNMAP);
		if (!ok)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* A write (or discard, or write-zeroes) is done: a later flush must
 * sync.  Counted after the data went to the file, never before, so a
 * flush that sees the count also covers the data. */
void blk_wrote(struct blk *b)
{
	__atomic_fetch_add(&b->writes, 1, __ATOMIC_RELEASE);
}

/*L:717 A flush with nothing written since the last one has nothing to
 * sync.  With one queue a flag did; with a thread per queue, one
 * thread's fdatasync() may run while another's write completes, and
 * clearing a flag after the sync would forget that write.  So we note
 * how many writes were done before the sync started, and after it
 * succeeds raise the "synced" mark to that number (never lower it: two
 * flushes may finish out of order).  A write the driver saw complete
 * before it sent the flush is in the count we read; if the mark is
 * already that high, an fdatasync() that started after it covered it. */
bool blk_flush_needed(struct blk *b, u64 *writes)
{
	u64 s = __atomic_load_n(&b->synced, __ATOMIC_ACQUIRE);

	*writes = __atomic_load_n(&b->writes, __ATOMIC_ACQUIRE);
	return !b->disk.ro && s < *writes;
}

void blk_synced(struct blk *b, u64 writes)
{
	u64 s = __atomic_load_n(&b->synced, __ATOMIC_ACQUIRE);

	while (s < writes && !__atomic_compare_exchange_n(&b->synced, &s,
							   writes, false,
							   __ATOMIC_RELEASE,
							   __ATOMIC_ACQUIRE))
		;
}

static u8 blk_flush(struct blk *b)
{
	u64 w;

	if (!blk_flush_needed(b, &w))
		return VIRTIO_BLK_S_OK;
	if (!disk_sync(&b->disk))
		return VIRTIO_BLK_S_IOERR;
	blk_synced(b, w);
	return VIRTIO_BLK_S_OK;
}

/*L:716 One request: a 16-byte header the device reads, data, and a status
 * byte, the last byte the device may write.  Everything about it is
 * checked here, before any I/O, whichever way the I/O is then done. */
enum blk_kind blk_parse(struct virtio_dev *d, struct blk *b,
			struct iovec *iov, unsigned out, unsigned in,
			struct iovec *data, struct blk_req *r)
{
	struct { u32 type; u32 ioprio; u64 sector; } hdr;
	struct iovec st;
	u64 rlen = iov_total(iov, out), wlen = iov_total(iov + out, in);
	unsigned n;

	if (rlen < sizeof(hdr) || wlen < 1) {
		virtio_broken(d, "request without a readable header or a "
			      "writable status byte");
		return BLK_BROKEN;
	}
	iov_from(iov, out, 0, &hdr, sizeof(hdr));
	iov_slice(&st, iov + out, in, wlen - 1, 1);
	r->type = hdr.type;
	r->status = st.iov_base;
	r->st = VIRTIO_BLK_S_OK;
	r->used = 1;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (hdr.type == VIRTIO_BLK_T_IN) {
			r->len = wlen - 1;
			r->n = iov_slice(data, iov + out, in, 0, r->len);
		} else {
			r->len = rlen - sizeof(hdr);
			r->n = iov_slice(data, iov, out, sizeof(hdr), r->len);
		}
		r->off = hdr.sector * SECTOR;
		if ((hdr.type == VIRTIO_BLK_T_OUT && b->disk.ro) ||
		    r->len % SECTOR || !in_range(b, hdr.sector, r->len)) {
			r->st = VIRTIO_BLK_S_IOERR;
			return BLK_DONE;
		}
		return hdr.type == VIRTIO_BLK_T_IN ? BLK_READ : BLK_WRITE;
	case VIRTIO_BLK_T_FLUSH:
		return BLK_FLUSH;
	case VIRTIO_BLK_T_GET_ID:
		n = iov_slice(data, iov + out, in, 0, wlen - 1);
		r->used += iov_to(data, n, 0, b->id, sizeof(b->id));
		return BLK_DONE;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!virtio_has(d, hdr.type == VIRTIO_BLK_T_DISCARD ?
				VIRTIO_BLK_F_DISCARD :
				VIRTIO_BLK_F_WRITE_ZEROES)) {
			r->st = VIRTIO_BLK_S_UNSUPP;
			return BLK_DONE;
		}
		n = iov_slice(data, iov, out, sizeof(hdr), rlen - sizeof(hdr));
		r->st = parse_ranges(b, r, data, n);
		return r->st == VIRTIO_BLK_S_OK ? BLK_RANGES : BLK_DONE;
	default:
		r->st = VIRTIO_BLK_S_UNSUPP;
		return BLK_DONE;
	}
}

/*L:711 Without io_uring, each request is done on the queue's thread,
 * one system call (or a few) at a time, before the next is looked at. */
static bool blk_one(struct virtio_dev *d, struct blk *b, struct iovec *iov,
		    unsigned out, unsigned in, u32 *used)
{
	struct iovec data[VQ_MAX_IOV];
	struct blk_req r;

	switch (blk_parse(d, b, iov, out, in, data, &r)) {
	case BLK_BROKEN:
		return false;
	case BLK_DONE:
		break;
	case BLK_READ:
		if (!disk_rw(&b->disk, data, r.n, r.off, false))
			r.st = VIRTIO_BLK_S_IOERR;
		else
			r.used += r.len;
		break;
	case BLK_WRITE:
		/* A failed write may have written part of the data: it
		 * counts as a write all the same. */
		if (!disk_rw(&b->disk, data, r.n, r.off, true))
			r.st = VIRTIO_BLK_S_IOERR;
		blk_wrote(b);
		break;
	case BLK_FLUSH:
		r.st = blk_flush(b);
		break;
	case BLK_RANGES:
		r.st = do_ranges(b, &r);
		blk_wrote(b);
		break;
	}
	*r.status = r.st;
	*used = r.used;
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
	.num_queues = 1,			/* or one per vCPU: blk_config() */
	.service = { blk_request },
	.config_size = sizeof(struct virtio_blk_config),
};

/* What the driver sees of the disk: its size, the limits of a request,
 * and the features the host file allows. */
static void blk_config(struct blk *b, int nr_vcpus)
{
	struct virtio_blk_config *c = &b->config;
	u64 features;
	int queues = nr_vcpus < VIRTIO_MAX_MQ ? nr_vcpus : VIRTIO_MAX_MQ;

	c->capacity = b->sectors;
	c->size_max = SIZE_MAX_SEG;
	c->seg_max = VQ_MAX_SIZE - 2;		/* minus header and status */
	c->blk_size = b->disk.direct ? b->disk.dio_align : SECTOR;
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

	/*L:715 A request queue per vCPU (up to VIRTIO_MAX_MQ), each with
	 * its own thread and interrupt vector: a driver that submits from
	 * the CPU it runs on never waits for another CPU's requests.  One
	 * vCPU: one queue and no VIRTIO_BLK_F_MQ, as always. */
	if (queues > 1) {
		features |= 1ULL << VIRTIO_BLK_F_MQ;
		c->num_queues = queues;
		b->ops.num_queues = queues;
	}
	b->ops.features = features;
	blk_aio_init(b, b->ops.num_queues, !b->disk.sync_io);
	for (int i = 0; i < b->ops.num_queues; i++)
		b->ops.service[i] = b->aio[i] ? blk_aio_request : blk_request;
}

static void blk_add(struct vm *vm, const char *arg, int index)
{
	struct blk *b = malloc_or_die(sizeof(*b));

	memset(b, 0, sizeof(*b));
	b->ops = blk_ops;
	disk_open(&b->disk, arg, index);
	/* A new disk (or a reboot) starts as written to: the first flush
	 * syncs whatever the last image may have left unsynced. */
	b->writes = 1;
	b->synced = 0;
	b->sectors = b->disk.size / SECTOR;
	snprintf(b->id, sizeof(b->id), "lg%llx-%llx",
		 (unsigned long long)b->disk.dev,
		 (unsigned long long)b->disk.ino);
	blk_config(b, vm->nr_vcpus);

	verbose("--block=%s: disk %d, %llu sectors%s%s%s, %d queue%s, %s",
		arg, index, (unsigned long long)b->sectors,
		b->disk.ro ? ", read-only" : "",
		b->disk.can_punch ? ", discard" : "",
		b->disk.direct ? ", direct" : "", b->ops.num_queues,
		b->ops.num_queues > 1 ? "s" : "",
		b->aio[0] ? "io_uring" : "synchronous I/O");
	virtio_add(vm, &b->ops, b, &b->config);
}

const struct device_type blk_device = {
	.option = "block",
	.has_arg = true,
	.help =
"  --block=FILE[,ro][,size=SIZE][,direct][,aio=sync]\n"
"                  a virtio disk backed by FILE (repeatable: vda, vdb...);\n"
"                  with size=, FILE is created that big if it is missing;\n"
"                  direct bypasses the host's page cache; aio=sync does\n"
"                  without io_uring\n",
	.add = blk_add,
};
