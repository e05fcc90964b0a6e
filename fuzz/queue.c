/*
 * queue.c - fuzz the split-virtqueue walker (src/virtio/queue.c).
 *
 * Input: byte 0 says which features the driver took (bit 0 indirect
 * descriptors, bit 1 event index) and bit 2 puts half of guest RAM
 * above 4 GiB; the next 8 bytes place the queue (fuzz_queue()); the rest
 * is guest RAM from address 0: rings, tables and buffers.  The queue is
 * started as the core starts it and served until the input has nothing
 * more: every chain walked, every buffer touched at both ends.
 */
#include <string.h>

#include "fuzz.h"

#define RAM	(64 * KiB)

static void notify(struct virtio_dev *d, struct virtqueue *vq)
{
}

static void bind_doorbell(struct virtio_dev *d, struct virtqueue *vq, bool on)
{
}

static void transport_reset(struct virtio_dev *d)
{
}

static const struct virtio_transport_ops tops = {
	.notify = notify,
	.bind_doorbell = bind_doorbell,
	.reset = transport_reset,
};

static const struct virtio_ops ops = {
	.name = "fuzz-queue",
	.num_queues = 1,
	.service = { fuzz_drain },
};

static void one(void *arg)
{
	struct fuzz_in *in = arg;
	u8 flags = fuzz_u8(in);
	struct vm *vm = fuzz_vm(RAM, flags & 4 ? RAM / 2 : RAM);
	struct virtio_dev *d = malloc_or_die(sizeof(*d));
	struct virtqueue *vq = &d->vq[0];

	d->ops = &ops;
	d->vm = vm;
	d->tops = &tops;
	pthread_mutex_init(&d->lock, NULL);
	vm->devices = d;
	d->features = 1ULL << VIRTIO_F_VERSION_1;
	if (flags & 1)
		d->features |= 1ULL << VIRTIO_F_INDIRECT_DESC;
	if (flags & 2)
		d->features |= 1ULL << VIRTIO_F_EVENT_IDX;
	vq->dev = d;
	vq->kick_fd = virtio_eventfd();
	fuzz_queue(vq, in);
	vq->enabled = true;
	memcpy(vm->ram, in->p, in->left < RAM ? in->left : RAM);

	vq_start(vq);
	vq_stop(vq);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };

	fuzz_run(one, &in);
	fuzz_reset();
	return 0;
}
