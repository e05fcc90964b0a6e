/*
 * rng.c - virtio-rng (virtio 1.x, 5.4): entropy for the guest.
 *
 *L:700 The simplest virtio device there is: one queue, no features, no
 * config space.  The driver hands us empty buffers and we fill them from
 * the host's random pool.  A guest without this waits a long time at
 * boot for enough entropy to seed its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include "machine.h"
#include "virtio/virtio.h"

#define RNG_MAX		(64 * KiB)	/* bytes per request at most */

struct rng {
	int urandom_fd;	/* opened only if the kernel has no getrandom() */
};

/* Fill @len bytes at @p; the host pool never runs dry, so this only
 * fails if the host is badly broken. */
static bool fill(struct rng *r, u8 *p, size_t len)
{
	ssize_t n;

	while (len) {
		if (r->urandom_fd < 0)
			n = getrandom(p, len, 0);
		else
			n = read(r->urandom_fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

static void rng_request(struct virtqueue *vq)
{
	struct rng *r = vq->dev->priv;
	struct iovec iov[VQ_MAX_IOV];
	unsigned out, in, i;
	int head;
	u32 len;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		if (out) {
			virtio_broken(vq->dev, "request with %u readable "
				      "buffers", out);
			return;
		}
		/* The used length tells the driver how much it got, so we
		 * may fill less than it gave: a chain of gigabytes gets
		 * RNG_MAX bytes, and that count cannot wrap. */
		len = 0;
		for (i = 0; i < in && len < RNG_MAX; i++) {
			size_t n = iov[i].iov_len;

			if (n > RNG_MAX - len)
				n = RNG_MAX - len;
			if (!fill(r, iov[i].iov_base, n)) {
				warn("virtio-rng: no entropy from the host");
				break;
			}
			len += n;
		}
		vq_push(vq, head, len);
	}
}

static const struct virtio_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.service = { rng_request },
};

static void rng_add(struct vm *vm, const char *arg, int nth)
{
	struct rng *r = malloc_or_die(sizeof(*r));

	u8 b;

	/* Kernels before 3.17 have no getrandom(): /dev/urandom is opened
	 * now, while we may, and kept across reboots. */
	r->urandom_fd = -1;
	if (getrandom(&b, 1, GRND_NONBLOCK) < 0 && errno == ENOSYS) {
		r->urandom_fd = open_kept("urandom", "/dev/urandom", O_RDONLY);
		if (r->urandom_fd < 0)
			err(EXIT_ERROR, "--rng: /dev/urandom");
	}
	virtio_add(vm, &rng_ops, r, NULL);
}

const struct device_type rng_device = {
	.option = "rng",
	.help = "  --rng           a virtio entropy source\n",
	.add = rng_add,
};
