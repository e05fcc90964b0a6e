/*
 * iov.c - walking arrays of struct iovec.
 *
 * Every device gets the guest's buffers as a chain of iovecs, cut
 * wherever the driver's pages happened to fall: a header may straddle
 * two of them, a status byte sits at the very end.  These few helpers
 * are all the devices need to find their way in such a chain.
 */
#include <string.h>

#include "iov.h"

u64 iov_total(const struct iovec *iov, unsigned n)
{
	u64 len = 0;

	for (unsigned i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

unsigned iov_slice(struct iovec *dst, const struct iovec *src, unsigned n,
		   u64 skip, u64 len)
{
	unsigned count = 0;
	u64 take;

	for (unsigned i = 0; i < n && len; i++) {
		if (skip >= src[i].iov_len) {
			skip -= src[i].iov_len;
			continue;
		}
		take = src[i].iov_len - skip;
		if (take > len)
			take = len;
		dst[count].iov_base = (u8 *)src[i].iov_base + skip;
		dst[count].iov_len = take;
		count++;
		len -= take;
		skip = 0;
	}
	return count;
}

/* Between a flat buffer and the buffers from byte @off on, either way. */
static size_t copy(const struct iovec *iov, unsigned n, size_t off, u8 *buf,
		   size_t len, bool to_iov)
{
	size_t done = 0, take;
	u8 *p;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		p = (u8 *)iov[i].iov_base + off;
		take = iov[i].iov_len - off;
		if (take > len - done)
			take = len - done;
		if (to_iov)
			memcpy(p, buf + done, take);
		else
			memcpy(buf + done, p, take);
		done += take;
		off = 0;
	}
	return done;
}

size_t iov_to(const struct iovec *iov, unsigned n, size_t off,
	      const void *buf, size_t len)
{
	return copy(iov, n, off, (u8 *)buf, len, true);
}

size_t iov_from(const struct iovec *iov, unsigned n, size_t off, void *buf,
		size_t len)
{
	return copy(iov, n, off, buf, len, false);
}

unsigned iov_advance(struct iovec **iov, unsigned n, size_t len)
{
	struct iovec *v = *iov;

	while (n && len >= v->iov_len) {
		len -= v->iov_len;
		v++;
		n--;
	}
	if (n) {
		v->iov_base = (u8 *)v->iov_base + len;
		v->iov_len -= len;
	}
	*iov = v;
	return n;
}
