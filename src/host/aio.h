/*
 * aio.h - a disk's requests in flight: io_uring, seen from a queue thread.
 *
 * A queue thread puts reads, writes, syncs and fallocate()s in, submits
 * them all with one system call, and takes back whatever has completed,
 * each with the tag it gave.  It sleeps in the same call, on completions
 * and on its guest's doorbell at once: the doorbell is an eventfd, and
 * reading it is one more request.  Where io_uring is missing (an old
 * kernel, a container's seccomp profile, kernel.io_uring_disabled) or
 * built out (no liburing), aio_new() says so and the caller does its
 * I/O with plain system calls instead.
 */
#ifndef LGUEST_HOST_AIO_H
#define LGUEST_HOST_AIO_H

#include <sys/uio.h>

#include "lguest.h"

struct aio;

/* The tag aio_reap() gives for the doorbell's read. */
#define AIO_TAG_WAKE	(~0ULL)

/* A ring for @depth requests at once on @fd; NULL, with *@why set to
 * a few words, if io_uring cannot be had. */
struct aio *aio_new(int fd, unsigned depth, const char **why);

/* Close the ring (nothing may be in flight). */
void aio_free(struct aio *a);

/* Room for @n more requests before the next aio_submit()? */
bool aio_room(const struct aio *a, unsigned n);

/* Queue a request (the caller made sure of the room).  The buffers of
 * @iov are written or read until the request completes; the array
 * itself only until aio_submit() returns. */
void aio_rw(struct aio *a, const struct iovec *iov, unsigned n, u64 off,
	    bool write, u64 tag);
void aio_sync(struct aio *a, u64 tag);
void aio_fallocate(struct aio *a, int mode, u64 off, u64 len, u64 tag);

/* Read the eventfd @fd when it is signalled (once per aio_wake()). */
void aio_wake(struct aio *a, int fd);

/* Submit what was queued; with @wait, sleep until something
 * completes first. */
void aio_submit(struct aio *a, bool wait);

/* One completion: its tag and its result (bytes, or -errno); false
 * when none is left. */
bool aio_reap(struct aio *a, u64 *tag, int *res);

#endif
