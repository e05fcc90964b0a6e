/*
 * blk-aio.c - virtio-blk's requests on io_uring: all of them in flight
 * at once, one system call to submit a batch and collect what is done.
 *
 *L:740 The guest queues many requests before it kicks; doing them one
 * after another, each waiting for the last, keeps one request in the
 * host's disk at a time.  Here the queue's thread takes every request
 * there is, checks it exactly as before (blk_parse()), and hands the
 * lot to the kernel; as they complete, in whatever order, it fills the
 * used ring, and interrupts the guest once for the batch, when it has
 * nothing left to do but sleep.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "iov.h"
#include "virtio/blk.h"

/* Requests in flight per queue, and the ring's room for their
 * operations (a discard may take one per range).  The kernel keeps
 * twice as many completions as the ring has entries: no more
 * operations than that are ever in flight (OPS_MAX, the doorbell's read
 * included), so that none has to wait in the kernel's overflow list and
 * a submission is never refused for it. */
#define DEPTH		128
#define RING_ENTRIES	256
#define OPS_MAX		(2 * RING_ENTRIES)

/* A request in flight. */
struct slot {
	int head;
	unsigned ops;		/* operations not yet completed */
	bool writes_data;	/* a write, a discard or write-zeroes */
	struct blk_req r;
	u64 writes;		/* BLK_FLUSH: the count its sync covers */
	int mode[MAX_RANGE_SEGS];	/* BLK_RANGES: each one's fallocate() */
};

struct blk_queue {
	struct aio *aio;
	bool wake_armed;	/* the doorbell's read is in the ring */
	unsigned busy;		/* slots in flight */
	unsigned ops;		/* operations in flight, the doorbell's not */
	unsigned writing;	/* ... of which writes, discards, zeroes */
	int flush_held;		/* a flush waiting for writes, or -1 */
	int free[DEPTH];	/* a stack of free slots */
	unsigned nfree;
	/* Each slot's data buffers (BLK_READ, BLK_WRITE), kept for a
	 * short transfer's remainder: grown as needed, never shrunk. */
	struct iovec *iov[DEPTH];
	unsigned cap[DEPTH];
	/* Last, and left untouched until used: the free stack hands out
	 * the same few slots again and again, so a lightly used disk
	 * keeps only those resident. */
	struct slot slot[DEPTH];
};

/* Tags: the slot, and which of its operations (a range's number). */
#define TAG(s, i)	((u64)(s) << 8 | (i))
#define TAG_SLOT(t)	((int)((t) >> 8))
#define TAG_OP(t)	((unsigned)(t) & 0xff)

void blk_aio_init(struct blk *b, int queues, bool want)
{
	const char *why = NULL;
	struct blk_queue *q;
	struct aio *aio;

	if (!want)
		return;
	for (int i = 0; i < queues; i++) {
		q = malloc(sizeof(*q));
		if (!q)
			errx(EXIT_ERROR, "virtio-blk: out of memory");
		aio = aio_new(b->disk.fd, RING_ENTRIES, &why);
		if (!aio) {
			/* All queues alike: free what was made. */
			free(q);
			while (--i >= 0) {
				aio_free(b->aio[i]->aio);
				free(b->aio[i]);
				b->aio[i] = NULL;
			}
			verbose("virtio-blk: no io_uring (%s): synchronous "
				"I/O", why);
			return;
		}
		memset(q, 0, offsetof(struct blk_queue, slot));
		q->aio = aio;
		q->flush_held = -1;
		for (int s = 0; s < DEPTH; s++)
			q->free[q->nfree++] = DEPTH - 1 - s;
		b->aio[i] = q;
	}
}

static void queue_rw(struct blk_queue *q, int s)
{
	struct slot *sl = &q->slot[s];

	q->ops++;
	aio_rw(q->aio, q->iov[s], sl->r.n, sl->r.off,
	       sl->r.type == VIRTIO_BLK_T_OUT, TAG(s, 0));
	sl->ops = 1;
}

static void queue_ranges(struct blk *b, struct blk_queue *q, int s)
{
	struct slot *sl = &q->slot[s];
	u64 off, len;
	int *mode;

	sl->ops = 0;
	for (unsigned i = 0; i < sl->r.nr; i++) {
		off = sl->r.r[i].sector * DISK_SECTOR;
		len = (u64)sl->r.r[i].num_sectors * DISK_SECTOR;
		mode = &sl->mode[i];
		if (!len)
			continue;
		/* As disk_punch() and disk_zero() would; where the file
		 * system knows no way, zeroes are written here and now
		 * (that is rare). */
		*mode = sl->r.type == VIRTIO_BLK_T_DISCARD ? DISK_PUNCH_MODE :
			disk_zero_mode(&b->disk, sl->r.r[i].flags & 1);
		if (!*mode) {
			if (!disk_zero_after(&b->disk, 0, 0, off, len))
				sl->r.st = VIRTIO_BLK_S_IOERR;
			continue;
		}
		q->ops++;
		aio_fallocate(q->aio, *mode, off, len, TAG(s, i));
		sl->ops++;
	}
}

/* A flush goes to the ring once the writes this queue has in flight
 * are done: it is ordered after them.  One with nothing to sync is done
 * at once. */
static void queue_flush(struct blk *b, struct blk_queue *q, int s)
{
	struct slot *sl = &q->slot[s];

	sl->ops = 0;
	if (!blk_flush_needed(b, &sl->writes))
		return;
	q->ops++;
	aio_sync(q->aio, TAG(s, 0));
	sl->ops = 1;
}

/* The request is done: its status to the guest, its chain back.  A
 * failed write may have written part of the data: it counts as a write
 * all the same. */
static void finish(struct virtqueue *vq, struct blk *b, struct blk_queue *q,
		   int s)
{
	struct slot *sl = &q->slot[s];

	if (sl->writes_data) {
		blk_wrote(b);
		q->writing--;
	}
	*sl->r.status = sl->r.st;
	if (!vq->stopping)
		vq_push(vq, sl->head, sl->r.used);
	q->busy--;
	q->free[q->nfree++] = s;
}

/* Is there room for one more request, whatever it asks for? */
static bool room(const struct blk_queue *q)
{
	return q->nfree && q->flush_held < 0 &&
	       q->ops + MAX_RANGE_SEGS + 1 <= OPS_MAX;
}

/* Take one request off the ring; false if there is none (or no room
 * for it). */
static bool take(struct virtqueue *vq, struct blk *b, struct blk_queue *q)
{
	struct iovec iov[VQ_MAX_IOV];
	unsigned out, in;
	struct slot *sl;
	int head, s;

	if (!room(q))
		return false;
	if (!aio_room(q->aio, MAX_RANGE_SEGS))
		aio_submit(q->aio, false);
	head = vq_try_get(vq, iov, &out, &in);
	if (head < 0)
		return false;
	s = q->free[--q->nfree];
	sl = &q->slot[s];
	sl->head = head;
	sl->ops = 0;
	sl->writes_data = false;
	if (out + in > q->cap[s]) {
		/* The data buffers are at most the chain's. */
		struct iovec *n = realloc(q->iov[s], (out + in) * sizeof(*n));

		if (!n)
			errx(EXIT_ERROR, "virtio-blk: out of memory");
		q->iov[s] = n;
		q->cap[s] = out + in;
	}
	q->busy++;
	switch (blk_parse(vq->dev, b, iov, out, in, q->iov[s], &sl->r)) {
	case BLK_BROKEN:
		q->busy--;
		q->free[q->nfree++] = s;
		return false;
	case BLK_DONE:
		break;
	case BLK_WRITE:
		sl->writes_data = true;
		q->writing++;
		/*L:741 A write into the host's page cache is a copy: the ring
		 * would hand it to a kernel worker (file systems such as ext4
		 * cannot do it without blocking), one at a time per file,
		 * for the same copy and two context switches more.  So those
		 * are done here, at once; with ,direct a write is real I/O
		 * and goes to the ring like a read. */
		if (!b->disk.direct) {
			if (!disk_rw(&b->disk, q->iov[s], sl->r.n, sl->r.off,
				     true))
				sl->r.st = VIRTIO_BLK_S_IOERR;
			break;
		}
		/* fall through */
	case BLK_READ:
		if (sl->r.len)
			queue_rw(q, s);
		break;
	case BLK_RANGES:
		sl->writes_data = true;
		q->writing++;
		queue_ranges(b, q, s);
		break;
	case BLK_FLUSH:
		if (q->writing) {
			q->flush_held = s;
			return true;
		}
		queue_flush(b, q, s);
		break;
	}
	if (!sl->ops)
		finish(vq, b, q, s);
	return true;
}

/* One operation of slot @s completed with @res. */
static void done(struct virtqueue *vq, struct blk *b, struct blk_queue *q,
		 u64 tag, int res)
{
	int s = TAG_SLOT(tag);
	struct slot *sl;

	if (s < 0 || s >= DEPTH || !q->slot[s].ops)
		return;
	sl = &q->slot[s];
	switch (sl->r.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		/* A short transfer inside the capacity goes on from where
		 * it stopped; none at all means the file shrank. */
		if (res > 0 && (u64)res < sl->r.len) {
			struct iovec *iov = q->iov[s];

			sl->r.n = iov_advance(&iov, sl->r.n, res);
			memmove(q->iov[s], iov, sl->r.n * sizeof(*iov));
			sl->r.off += res;
			sl->r.len -= res;
			sl->r.used += sl->r.type == VIRTIO_BLK_T_IN ? res : 0;
			if (!aio_room(q->aio, 1))
				aio_submit(q->aio, false);
			queue_rw(q, s);
			return;
		}
		if (res <= 0)
			sl->r.st = VIRTIO_BLK_S_IOERR;
		else if (sl->r.type == VIRTIO_BLK_T_IN)
			sl->r.used += res;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (res < 0)
			sl->r.st = VIRTIO_BLK_S_IOERR;
		else
			blk_synced(b, sl->writes);
		break;
	case VIRTIO_BLK_T_DISCARD:
		if (res < 0)
			sl->r.st = VIRTIO_BLK_S_IOERR;
		break;
	default: {		/* a range of a write-zeroes */
		const struct blk_range *r = &sl->r.r[TAG_OP(tag)];

		if (!disk_zero_after(&b->disk, sl->mode[TAG_OP(tag)], -res,
				     r->sector * DISK_SECTOR,
				     (u64)r->num_sectors * DISK_SECTOR))
			sl->r.st = VIRTIO_BLK_S_IOERR;
		break;
	}
	}
	if (!--sl->ops)
		finish(vq, b, q, s);
}

/* Collect every completion there is; true if there was one. */
static bool reap(struct virtqueue *vq, struct blk *b, struct blk_queue *q)
{
	bool any = false;
	u64 tag;
	int res;

	while (aio_reap(q->aio, &tag, &res)) {
		any = true;
		if (tag == AIO_TAG_WAKE) {
			q->wake_armed = false;
		} else {
			q->ops--;
			done(vq, b, q, tag, res);
		}
	}
	return any;
}

/*L:742 The loop: take what the guest queued, submit it, collect what
 * completed; when none of that does anything, interrupt the guest for
 * what was done and sleep until a completion or a kick.  On a reset it
 * waits for what is in flight: the kernel must be done with the
 * guest's buffers before the queue is given up. */
void blk_aio_request(struct virtqueue *vq)
{
	struct blk *b = vq->dev->priv;
	struct blk_queue *q = b->aio[vq->index];
	bool busy, can_take;
	int s;

	for (;;) {
		busy = false;
		while (!vq->stopping && take(vq, b, q))
			busy = true;
		aio_submit(q->aio, false);
		busy |= reap(vq, b, q);
		if (q->flush_held >= 0 && !q->writing) {
			s = q->flush_held;
			q->flush_held = -1;
			queue_flush(b, q, s);
			if (!q->slot[s].ops)
				finish(vq, b, q, s);
			busy = true;
		}
		if (busy)
			continue;
		if (vq->stopping && !q->busy)
			break;

		can_take = !vq->stopping && room(q);
		if (can_take && !vq_may_sleep(vq))
			continue;
		if (!can_take)
			vq_interrupt(vq);
		if (!q->wake_armed) {
			aio_wake(q->aio, vq->kick_fd);
			q->wake_armed = true;
		}
		aio_submit(q->aio, true);
		if (can_take)
			vq_woken(vq);
	}
}
