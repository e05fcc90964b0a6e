/*
 * iov.h - walking arrays of struct iovec: the guest's buffers as vq_get()
 * hands them to a device, which rarely line up with what the device
 * reads or writes (a header, a status byte, a frame).
 */
#ifndef LGUEST_IOV_H
#define LGUEST_IOV_H

#include <sys/uio.h>

#include "lguest.h"

/* How many bytes the @n buffers hold: 64 bits, since a guest's chain may
 * hold more than a 32-bit Launcher's size_t counts. */
u64 iov_total(const struct iovec *iov, unsigned n);

/* The bytes [@skip, @skip + @len) of the @n buffers of @src, as iovecs
 * in @dst, which has room for @n; returns how many it used. */
unsigned iov_slice(struct iovec *dst, const struct iovec *src, unsigned n,
		   u64 skip, u64 len);

/* Copy @len bytes of @buf into the buffers, starting @off bytes in; as
 * many as fit.  Returns how many were copied. */
size_t iov_to(const struct iovec *iov, unsigned n, size_t off,
	      const void *buf, size_t len);

/* Copy up to @len bytes from the buffers, starting @off bytes in, to
 * @buf.  Returns how many were copied. */
size_t iov_from(const struct iovec *iov, unsigned n, size_t off, void *buf,
		size_t len);

/* Drop the first @len bytes of the @n buffers at *@iov, in place, after
 * a short readv() or writev(); returns how many buffers are left. */
unsigned iov_advance(struct iovec **iov, unsigned n, size_t len);

#endif
