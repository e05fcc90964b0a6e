/*
 * image.c - reading kernel and initrd files, carefully.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "handover.h"
#include "x86/image.h"

void img_read(const struct image *img, void *dst, u64 off, u64 len)
{
	u8 *p = dst;

	if (off > img->size || len > img->size - off)
		errx(EXIT_ERROR, "%s: truncated: needs %llu bytes at offset "
		     "%llu, the file has %llu", img->name,
		     (unsigned long long)len, (unsigned long long)off,
		     (unsigned long long)img->size);
	if (img->buf) {
		memcpy(p, img->buf + off, len);
		return;
	}
	while (len) {
		ssize_t n = pread(img->fd, p, min64(len, 1 * GiB), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(EXIT_ERROR, "%s", img->name);
		if (n == 0)
			errx(EXIT_ERROR, "%s: file shrank while being read",
			     img->name);
		p += n;
		off += n;
		len -= n;
	}
}

int open_image(const char *key, const char *file, const char *what,
	       u64 *size)
{
	struct stat st;
	/* Kept open: a reboot loads it again, maybe after chroot(). */
	int fd = open_kept(key, file, O_RDONLY);

	if (fd < 0)
		err(EXIT_ERROR, "%s", file);
	if (fstat(fd, &st) < 0)
		err(EXIT_ERROR, "%s", file);
	if (S_ISDIR(st.st_mode))
		errx(EXIT_ERROR, "%s: is a directory, not %s", file, what);
	if (!S_ISREG(st.st_mode))
		errx(EXIT_ERROR, "%s: is not a regular file; %s must be one",
		     file, what);
	if (st.st_size == 0)
		errx(EXIT_ERROR, "%s: is empty, not %s", file, what);
	*size = st.st_size;
	return fd;
}
