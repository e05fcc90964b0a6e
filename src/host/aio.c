/*
 * aio.c - a disk's requests in flight, on io_uring (liburing).
 *
 *L:738 The Launcher's block device once did one read or write at a
 * time, each a system call, while the guest waited.  With io_uring a
 * queue thread hands the kernel every request the guest has queued in
 * one system call, and the next call both submits and collects: the
 * disk works on many requests at once, and the thread sleeps until any
 * of them, or the guest's doorbell, needs it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "host/aio.h"

/* LGUEST_NO_URING: the fuzzing harnesses' build (fuzz/run.sh). */
#if defined(HAVE_LIBURING) && !defined(LGUEST_NO_URING)
#include <liburing.h>

struct aio {
	struct io_uring ring;
	int fd;
	u64 wake;			/* the doorbell's count lands here */
};

/* Every operation the block device uses must be there: io_uring
 * appeared in 5.1, its fallocate and plain read in 5.6. */
static bool ops_present(struct io_uring *ring)
{
	static const int ops[] = {
		IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC,
		IORING_OP_FALLOCATE, IORING_OP_READ,
	};
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	bool ok = p != NULL;

	for (unsigned i = 0; ok && i < sizeof(ops) / sizeof(ops[0]); i++)
		ok = io_uring_opcode_supported(p, ops[i]);
	if (p)
		io_uring_free_probe(p);
	return ok;
}

struct aio *aio_new(int fd, unsigned depth, const char **why)
{
	struct aio *a = calloc(1, sizeof(*a));
	int r;

	if (!a) {
		*why = "out of memory";
		return NULL;
	}
	/* The ring's descriptor is close-on-exec: a reboot makes a new
	 * one, as it makes everything else.  SUBMIT_ALL (Linux 5.18): an
	 * operation that fails as it is submitted completes with its
	 * error, and the rest are still submitted, none left behind in
	 * the ring to fill it up. */
	r = io_uring_queue_init(depth, &a->ring, IORING_SETUP_SUBMIT_ALL);
	if (r == -EINVAL)
		r = io_uring_queue_init(depth, &a->ring, 0);
	if (r < 0) {
		*why = r == -ENOSYS ? "the kernel has no io_uring" :
		       r == -EPERM ? "io_uring is not permitted here" :
		       "io_uring_setup failed";
		free(a);
		return NULL;
	}
	if (!ops_present(&a->ring)) {
		*why = "the kernel's io_uring lacks fallocate or read";
		io_uring_queue_exit(&a->ring);
		free(a);
		return NULL;
	}
	a->fd = fd;
	return a;
}

void aio_free(struct aio *a)
{
	io_uring_queue_exit(&a->ring);
	free(a);
}

bool aio_room(const struct aio *a, unsigned n)
{
	return io_uring_sq_space_left(&a->ring) >= n;
}

static struct io_uring_sqe *sqe(struct aio *a, u64 tag)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&a->ring);

	/* aio_room() was asked first, but on a kernel without SUBMIT_ALL
	 * a failed submission leaves the rest queued: submit them. */
	if (!s) {
		io_uring_submit(&a->ring);
		s = io_uring_get_sqe(&a->ring);
	}
	if (!s)
		errx(EXIT_ERROR, "io_uring: the submission ring stays full");
	io_uring_sqe_set_data64(s, tag);
	return s;
}

void aio_rw(struct aio *a, const struct iovec *iov, unsigned n, u64 off,
	    bool write, u64 tag)
{
	struct io_uring_sqe *s = sqe(a, tag);

	if (write)
		io_uring_prep_writev(s, a->fd, iov, n, off);
	else
		io_uring_prep_readv(s, a->fd, iov, n, off);
}

void aio_sync(struct aio *a, u64 tag)
{
	io_uring_prep_fsync(sqe(a, tag), a->fd, IORING_FSYNC_DATASYNC);
}

void aio_fallocate(struct aio *a, int mode, u64 off, u64 len, u64 tag)
{
	io_uring_prep_fallocate(sqe(a, tag), a->fd, mode, off, len);
}

void aio_wake(struct aio *a, int fd)
{
	io_uring_prep_read(sqe(a, AIO_TAG_WAKE), fd, &a->wake,
			   sizeof(a->wake), 0);
}

/* An interrupted wait returns early, which the caller's loop is built
 * for.  So is a kernel that cannot take more submissions until
 * completions are reaped (EBUSY). */
void aio_submit(struct aio *a, bool wait)
{
	int r;

	do {
		r = wait ? io_uring_submit_and_wait(&a->ring, 1) :
			   io_uring_submit(&a->ring);
	} while (r == -EINTR && !wait);
}

bool aio_reap(struct aio *a, u64 *tag, int *res)
{
	struct io_uring_cqe *c;

	if (io_uring_peek_cqe(&a->ring, &c) < 0 || !c)
		return false;
	*tag = io_uring_cqe_get_data64(c);
	*res = c->res;
	io_uring_cqe_seen(&a->ring, c);
	return true;
}

#else /* !HAVE_LIBURING */

struct aio *aio_new(int fd, unsigned depth, const char **why)
{
	(void)fd;
	(void)depth;
	*why = "lguest was built without liburing";
	return NULL;
}

/* Never called without a ring. */
void aio_free(struct aio *a)
{
	(void)a;
}

bool aio_room(const struct aio *a, unsigned n)
{
	(void)a;
	(void)n;
	return false;
}

void aio_rw(struct aio *a, const struct iovec *iov, unsigned n, u64 off,
	    bool write, u64 tag)
{
	(void)a, (void)iov, (void)n, (void)off, (void)write, (void)tag;
	abort();
}

void aio_sync(struct aio *a, u64 tag)
{
	(void)a, (void)tag;
	abort();
}

void aio_fallocate(struct aio *a, int mode, u64 off, u64 len, u64 tag)
{
	(void)a, (void)mode, (void)off, (void)len, (void)tag;
	abort();
}

void aio_wake(struct aio *a, int fd)
{
	(void)a, (void)fd;
	abort();
}

void aio_submit(struct aio *a, bool wait)
{
	(void)a, (void)wait;
	abort();
}

bool aio_reap(struct aio *a, u64 *tag, int *res)
{
	(void)a, (void)tag, (void)res;
	return false;
}
#endif
