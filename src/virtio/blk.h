/*
 * blk.h - virtio-blk's insides, shared by its two ways of doing I/O:
 * one system call per request on the queue's thread (blk.c), and
 * io_uring, many requests in flight at once (blk-aio.c).
 */
#ifndef LGUEST_VIRTIO_BLK_H
#define LGUEST_VIRTIO_BLK_H

#include "host/aio.h"
#include "host/disk.h"
#include "virtio/virtio.h"

#define VIRTIO_BLK_ID_BYTES		20
#define MAX_RANGE_SEGS			32

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
	u8 unused0;
	u16 num_queues;			/* with VIRTIO_BLK_F_MQ */
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

struct blk_queue;

/*
 * With VIRTIO_BLK_F_MQ several queue threads serve one disk at once.
 * The file's offsets are their own (pread/pwrite), the configuration
 * is fixed once the driver runs, and the rest is read-only after
 * blk_add() -- except what flushes need, two counters (see blk_flush()).
 */
struct blk {
	struct disk disk;
	u64 writes;		/* writes done, counted after each is done */
	u64 synced;		/* writes an fdatasync() has covered */
	u64 sectors;		/* capacity */
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct virtio_ops ops;	/* features differ from disk to disk */
	/* io_uring's state per queue, or NULL: synchronous I/O. */
	struct blk_queue *aio[VIRTIO_MAX_MQ];
};

/* What a request asks for, once blk_parse() has checked it. */
enum blk_kind {
	BLK_BROKEN,		/* the driver broke the rules */
	BLK_DONE,		/* nothing more to do: the status is set */
	BLK_READ,		/* data: len bytes at off */
	BLK_WRITE,
	BLK_FLUSH,
	BLK_RANGES,		/* discard or write-zeroes: nr ranges */
};

struct blk_req {
	u32 type;		/* VIRTIO_BLK_T_* */
	u8 *status;		/* the request's last byte */
	u8 st;			/* what goes there */
	u32 used;		/* bytes written into the guest's buffers */
	u64 off, len;		/* BLK_READ, BLK_WRITE: on the disk */
	unsigned n;		/* ... from these buffers (@data) */
	unsigned nr;		/* BLK_RANGES: whole and checked */
	struct blk_range r[MAX_RANGE_SEGS];
};

/* Take apart the chain @iov (@out readable buffers, then @in writable
 * ones); the data buffers go to @data. */
enum blk_kind blk_parse(struct virtio_dev *d, struct blk *b,
			struct iovec *iov, unsigned out, unsigned in,
			struct iovec *data, struct blk_req *r);

/* A write is done; a flush may be needed. */
void blk_wrote(struct blk *b);
/* The writes counted so far, and whether a sync is needed for them. */
bool blk_flush_needed(struct blk *b, u64 *writes);
/* A sync that started when @writes were done has succeeded. */
void blk_synced(struct blk *b, u64 writes);

/* Set up io_uring for @queues queues of @b (or leave them synchronous),
 * and serve one of them with it. */
void blk_aio_init(struct blk *b, int queues, bool want);
void blk_aio_request(struct virtqueue *vq);

#endif
