/*
 * input.c - what the fuzz harnesses make of their input: numbers, a
 * virtqueue placed in guest RAM, a driver that brings a device up, a
 * queue service that takes whatever chains it is given, files.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

u8 fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

u16 fuzz_u16(struct fuzz_in *in)
{
	u16 lo = fuzz_u8(in);

	return lo | fuzz_u8(in) << 8;
}

u32 fuzz_u32(struct fuzz_in *in)
{
	u32 lo = fuzz_u16(in);

	return lo | (u32)fuzz_u16(in) << 16;
}

static u64 gpa(u16 off, bool high)
{
	return high ? HIGH_RAM_START + off : off;
}

void fuzz_queue(struct virtqueue *vq, struct fuzz_in *in)
{
	u8 size = fuzz_u8(in), high = fuzz_u8(in);

	vq->size = 1 << (size % 9);
	vq->desc_gpa = gpa(fuzz_u16(in), high & 1);
	vq->avail_gpa = gpa(fuzz_u16(in), high & 2);
	vq->used_gpa = gpa(fuzz_u16(in), high & 4);
}

void fuzz_driver_start(struct virtio_dev *d, u8 take, const int *features,
		       int n)
{
	const u8 s = VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER;
	u64 want = 1ULL << VIRTIO_F_VERSION_1;

	for (int i = 0; i < n; i++)
		if (take & 1 << i)
			want |= 1ULL << features[i];
	want &= virtio_offered(d);
	virtio_set_status(d, s);
	virtio_set_driver_features(d, 0, want);
	virtio_set_driver_features(d, 1, want >> 32);
	virtio_set_status(d, s | VIRTIO_S_FEATURES_OK);
}

void fuzz_driver_ok(struct virtio_dev *d)
{
	for (int i = 0; i < d->ops->num_queues; i++)
		virtio_queue_enable(d, &d->vq[i]);
	virtio_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
			  VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
}

int fuzz_input(void (*fn)(void *arg), const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };

	fuzz_run(fn, &in);
	fuzz_reset();
	return 0;
}

void fuzz_drain(struct virtqueue *vq)
{
	struct iovec iov[VQ_MAX_IOV];
	unsigned out, in;
	int head;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		volatile u8 sink = 0;
		u32 len = 0;

		/* Both ends of each buffer: the middle lies between. */
		for (unsigned i = 0; i < out + in; i++) {
			u8 *p = iov[i].iov_base;
			size_t n = iov[i].iov_len;

			if (!n)
				continue;
			sink ^= p[0] ^ p[n - 1];
			if (i >= out) {
				p[0] = p[n - 1] = sink;
				len += n;
			}
		}
		vq_push(vq, head, len);
	}
}

#define MAX_TMPFILES	4
static char *tmpfiles[MAX_TMPFILES];
static int ntmpfiles;

static void remove_tmpfiles(void)
{
	for (int i = 0; i < ntmpfiles; i++)
		unlink(tmpfiles[i]);
}

const char *fuzz_tmpfile(const char *tag)
{
	const char *dir = getenv("TMPDIR");
	struct stat st;
	char *path;
	int fd;

	if (ntmpfiles == MAX_TMPFILES)
		abort();
	/* Rewritten for every input: memory is faster than a disk. */
	if (!dir)
		dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ?
		      "/dev/shm" : "/tmp";
	if (asprintf(&path, "%s/lguest-fuzz-%s-XXXXXX", dir, tag) < 0)
		abort();
	fd = mkstemp(path);
	if (fd < 0) {
		perror(path);
		abort();
	}
	close(fd);
	if (!ntmpfiles)
		atexit(remove_tmpfiles);
	tmpfiles[ntmpfiles++] = path;
	return path;
}

void fuzz_write_file(const char *path, const u8 *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size)) {
		perror(path);
		abort();
	}
	close(fd);
}
