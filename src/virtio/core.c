/*
 * core.c - what every virtio device is, whatever bus it sits on
 * (virtio 1.x, 2 and 3): the status machine, feature negotiation, reset,
 * DEVICE_NEEDS_RESET, and when the queues' threads start and stop.
 *
 * A transport (virtio/pci.c) turns the driver's register accesses into
 * the calls below, and is called back to interrupt the driver and to
 * bind doorbells; the devices themselves see neither.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/eventfd.h>

#include "virtio/virtio.h"

int virtio_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	if (fd < 0)
		err(EXIT_ERROR, "eventfd");
	return fd;
}

struct virtio_dev *virtio_add(struct vm *vm, const struct virtio_ops *ops,
			      void *priv, void *config)
{
	struct virtio_dev *d = malloc_or_die(sizeof(*d)), **tail;

	d->ops = ops;
	d->vm = vm;
	d->priv = priv;
	d->config = config;
	pthread_mutex_init(&d->lock, NULL);
	for (int i = 0; i < ops->num_queues; i++) {
		struct virtqueue *vq = &d->vq[i];

		vq->dev = d;
		vq->index = i;
		vq->size = VQ_MAX_SIZE;
		vq->vector = VIRTIO_MSI_NO_VECTOR;
		vq->kick_fd = virtio_eventfd();
	}
	for (tail = &vm->devices; *tail; tail = &(*tail)->next)
		;
	*tail = d;
	if (vm->lgbus)
		virtio_lgbus_plug(d);
	else
		virtio_pci_plug(d);
	return d;
}

/* Called from a queue's thread: it raises the interrupt itself. */
void vq_notify(struct virtqueue *vq)
{
	vq->dev->tops->notify(vq->dev, vq);
}

void virtio_config_changed(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->config_gen++;
	pthread_mutex_unlock(&d->lock);
	d->tops->notify(d, NULL);
}

/* A device's first few problems are logged; then one line says the rest
 * are not.  Per device, not per reset: a guest that breaks, resets and
 * breaks its device in a loop must not flood our log. */
#define BROKEN_LOGGED	4

/*L:640 A driver that breaks the rules breaks its own device, not the
 * Launcher: we say so, set DEVICE_NEEDS_RESET, stop its queues and tell
 * it through a configuration interrupt.  Resetting the device brings it
 * back. */
void virtio_broken(struct virtio_dev *d, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&d->lock);
	if (!(d->status & VIRTIO_S_NEEDS_RESET)) {
		d->problems++;
		if (d->problems <= BROKEN_LOGGED)
			warnx("%s: %s; device needs reset", d->ops->name, msg);
		if (d->problems == BROKEN_LOGGED)
			warnx("%s: the device's further problems are not "
			      "logged", d->ops->name);
	}
	d->status |= VIRTIO_S_NEEDS_RESET;
	for (int i = 0; i < d->ops->num_queues; i++)
		d->vq[i].stopping = true;
	pthread_mutex_unlock(&d->lock);
	virtio_config_changed(d);
}

/*L:610 Reset, by writing 0 to the status: the queue threads stop (each
 * finishes the request in hand), the rings are forgotten, and the device
 * forgets whatever it keeps. */
void virtio_reset(struct virtio_dev *d)
{
	for (int i = 0; i < d->ops->num_queues; i++) {
		struct virtqueue *vq = &d->vq[i];

		vq_stop(vq);
		vq->enabled = false;
		d->tops->bind_doorbell(d, vq, false);
		vq->size = VQ_MAX_SIZE;
		vq->vector = VIRTIO_MSI_NO_VECTOR;
		vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	}
	if (d->ops->reset)
		d->ops->reset(d);
	pthread_mutex_lock(&d->lock);
	d->status = 0;
	d->features = 0;
	d->driver_features = 0;
	d->isr = 0;
	pthread_mutex_unlock(&d->lock);
	d->tops->reset(d);
}

u64 virtio_offered(const struct virtio_dev *d)
{
	u64 f = d->ops->features | (1ULL << VIRTIO_F_EVENT_IDX) |
		(1ULL << VIRTIO_F_INDIRECT_DESC);

	return d->legacy ? f : f | (1ULL << VIRTIO_F_VERSION_1);
}

void virtio_set_driver_features(struct virtio_dev *d, u32 sel, u32 bits)
{
	if (sel > 1 || (d->status & VIRTIO_S_FEATURES_OK))
		return;
	d->driver_features &= ~(0xffffffffULL << (32 * sel));
	d->driver_features |= (u64)bits << (32 * sel);
}

/* FEATURES_OK only sticks if we can live with what was chosen (3.1.1):
 * a subset of ours, and virtio 1.0 itself (unless the bus is a legacy
 * one, whose drivers predate it).  Called with d->lock held. */
static u8 check_features(struct virtio_dev *d, u8 v)
{
	u64 f = d->driver_features;

	if ((f & ~virtio_offered(d)) ||
	    (!d->legacy && !(f & (1ULL << VIRTIO_F_VERSION_1))))
		return v & ~VIRTIO_S_FEATURES_OK;
	d->features = f;
	return v;
}

/*L:630 The status only grows until a reset (2.1.2): a driver that takes
 * back FEATURES_OK or DRIVER_OK would renegotiate under running queues.
 * The whole change is made under the lock, so a queue thread's
 * NEEDS_RESET is never lost, and a broken device's queues never start
 * again before a reset. */
void virtio_set_status(struct virtio_dev *d, u8 v)
{
	u8 old;
	bool start;

	if (v == 0) {
		virtio_reset(d);
		return;
	}
	pthread_mutex_lock(&d->lock);
	old = d->status & ~VIRTIO_S_NEEDS_RESET;
	if (old & ~v) {
		pthread_mutex_unlock(&d->lock);
		virtio_broken(d, "status 0x%02x takes back bits of 0x%02x "
			      "without a reset", v, old);
		return;
	}
	if ((v & VIRTIO_S_FEATURES_OK) && !(old & VIRTIO_S_FEATURES_OK))
		v = check_features(d, v);
	d->status = v | (d->status & VIRTIO_S_NEEDS_RESET);
	start = (v & VIRTIO_S_DRIVER_OK) && !(old & VIRTIO_S_DRIVER_OK) &&
		!(d->status & VIRTIO_S_NEEDS_RESET);
	pthread_mutex_unlock(&d->lock);

	if (!start)
		return;
	if (!(v & VIRTIO_S_FEATURES_OK)) {
		virtio_broken(d, "DRIVER_OK without FEATURES_OK");
		return;
	}
	if (d->ops->start)
		d->ops->start(d);
	for (int i = 0; i < d->ops->num_queues; i++)
		vq_start(&d->vq[i]);
}

void virtio_queue_enable(struct virtio_dev *d, struct virtqueue *vq)
{
	bool start;

	if (vq->enabled)
		return;
	if (!vq->size || vq->size > VQ_MAX_SIZE || (vq->size & (vq->size - 1))) {
		virtio_broken(d, "queue %d: size %u is not a power of two "
			      "up to %u", vq->index, vq->size, VQ_MAX_SIZE);
		return;
	}
	if (!(d->status & VIRTIO_S_FEATURES_OK)) {
		virtio_broken(d, "queue %d enabled before FEATURES_OK",
			      vq->index);
		return;
	}
	vq->enabled = true;
	d->tops->bind_doorbell(d, vq, true);
	pthread_mutex_lock(&d->lock);
	start = (d->status & (VIRTIO_S_DRIVER_OK | VIRTIO_S_NEEDS_RESET)) ==
		VIRTIO_S_DRIVER_OK;
	pthread_mutex_unlock(&d->lock);
	if (start)
		vq_start(vq);
}
