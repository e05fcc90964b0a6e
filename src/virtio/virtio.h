/*
 * virtio.h - virtio devices, their virtqueues, and the threads that
 * serve them.
 *
 * A device is data plus one service function per virtqueue.  Each
 * virtqueue gets a thread when the driver says DRIVER_OK; the thread
 * sleeps on an eventfd the guest's doorbell write signals (KVM_IOEVENTFD),
 * does the I/O straight into guest memory, and raises the guest's
 * interrupt itself.  Devices never see PCI or KVM: the core
 * (virtio/core.c) keeps the status machine, features and reset, a
 * transport (virtio/pci.c) puts the device on a bus, and the backend
 * does the rest.
 */
#ifndef LGUEST_VIRTIO_H
#define LGUEST_VIRTIO_H

#include <pthread.h>
#include <sys/uio.h>

#include "lguest.h"
#include "virtio/spec.h"

#define VQ_MAX_SIZE		256
#define VQ_MAX_IOV		(VQ_MAX_SIZE + 2)
/* Devices with a queue (or a pair of queues) per vCPU have at most
 * VIRTIO_MAX_MQ of them: beyond that more queues only cost threads.
 * virtio-net's are pairs, plus its control queue. */
#define VIRTIO_MAX_MQ		16
#define VIRTIO_MAX_QUEUES	(2 * VIRTIO_MAX_MQ + 1)

struct virtio_dev;
struct virtqueue;

/* Serve the queue until vq_get() says stop. */
typedef void (*vq_service_fn)(struct virtqueue *vq);

struct virtio_ops {
	const char *name;		/* "virtio-blk", for messages */
	u16 device_id;
	u64 features;			/* device-specific features offered */
	int num_queues;
	vq_service_fn service[VIRTIO_MAX_QUEUES];
	u32 config_size;		/* bytes of device config space */
	/* Config writes the device cares about (may be NULL). */
	void (*config_write)(struct virtio_dev *d, u32 off, int size);
	/* The driver said DRIVER_OK; queue threads start right after. */
	void (*start)(struct virtio_dev *d);
	/* Called with no queue thread running: forget all state. */
	void (*reset)(struct virtio_dev *d);
};

struct virtqueue {
	struct virtio_dev *dev;
	int index;

	/* What the driver told us through the common config. */
	u16 size;
	bool enabled;
	u16 vector;			/* the transport's interrupt for it */
	u64 desc_gpa, avail_gpa, used_gpa;

	/* Set up when the thread starts: host views of the three parts,
	 * each checked to lie wholly in guest RAM. */
	struct vring_desc *desc;
	volatile u16 *avail;		/* flags, idx, ring[size], used_event */
	volatile u16 *used;		/* flags, idx, then ring elements */
	u16 last_avail;			/* next avail entry we will take */
	u16 used_idx;			/* our copy of used->idx */
	u16 signalled_used;		/* used_idx when we last interrupted */
	bool need_irq;			/* pushed buffers since last interrupt */

	int kick_fd;			/* the guest's doorbell */
	pthread_t thread;
	bool running;
	volatile bool stopping;
	u64 notify_addr;		/* where the doorbell is bound */
};

/*
 * What the core needs of a transport: the driver talks to the device
 * through the transport's registers, which call the virtio_*() functions
 * below; the core calls back through these.
 */
struct virtio_transport_ops {
	/* Interrupt the driver: @vq has used buffers, or (@vq NULL) the
	 * configuration changed. */
	void (*notify)(struct virtio_dev *d, struct virtqueue *vq);
	/* Let the guest's doorbell for @vq signal vq->kick_fd (or stop). */
	void (*bind_doorbell)(struct virtio_dev *d, struct virtqueue *vq,
			      bool on);
	/* The device was reset: forget the transport's own state. */
	void (*reset)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_ops *ops;
	struct vm *vm;
	void *priv;			/* the device's own state */
	u8 *config;			/* device config space, config_size bytes */
	struct virtio_dev *next;	/* the machine's list, in slot order */

	u64 driver_features;		/* being written by the driver */
	u64 features;			/* negotiated */
	u8 status;
	u8 config_gen;
	u8 isr;
	unsigned problems;		/* virtio_broken() calls, for the log */
	/* A legacy (virtio 0.9.5) driver, as on the lguest bus: no
	 * VERSION_1, and no FEATURES_OK step (the transport supplies it). */
	bool legacy;

	const struct virtio_transport_ops *tops;
	void *transport;		/* the transport's state */
	struct virtqueue vq[VIRTIO_MAX_QUEUES];
	pthread_mutex_t lock;		/* status, isr, reset against threads */
};

/* Create a device and plug it into the transport.  @priv and @config
 * belong to the device; @config is config_size bytes. */
struct virtio_dev *virtio_add(struct vm *vm, const struct virtio_ops *ops,
			      void *priv, void *config);

/* The transports' side of virtio_add(): put @d on the machine's bus,
 * PCI (virtio/pci.c) or the lguest bus (virtio/lgbus.c). */
void virtio_pci_plug(struct virtio_dev *d);
void virtio_lgbus_plug(struct virtio_dev *d);
/* Set up the lguest bus in the last lgbus_area() bytes of guest memory:
 * its device page and rings.  The guest is told of the RAM below,
 * which ends at lgbus_ram_end(). */
void lgbus_init(struct vm *vm);
u64 lgbus_area(void);
u64 lgbus_ram_end(const struct vm *vm);

/* A close-on-exec eventfd, for kicks and interrupts; fatal if none. */
int virtio_eventfd(void);

static inline bool virtio_has(const struct virtio_dev *d, int feature)
{
	return d->features & (1ULL << feature);
}

/*
 * For service functions.  vq_get() returns the head of the next chain
 * with its buffers in @iov: first *@out readable ones, then *@in writable
 * ones, every address checked against guest RAM.  It sleeps until there
 * is one, interrupting the guest for what was pushed before it sleeps.
 * It returns -1 when the thread must stop (device reset, broken ring).
 * vq_try_get() is the same without sleeping: -1 also when nothing waits.
 */
int vq_get(struct virtqueue *vq, struct iovec *iov, unsigned *out,
	   unsigned *in);
int vq_try_get(struct virtqueue *vq, struct iovec *iov, unsigned *out,
	       unsigned *in);

/* Give a chain back with @len bytes written into it. */
void vq_push(struct virtqueue *vq, int head, u32 len);

/* Interrupt the guest if it wants to hear about what was pushed. */
void vq_interrupt(struct virtqueue *vq);
/* Interrupt it for @vq whether it wants to or not (vq_interrupt's end). */
void vq_notify(struct virtqueue *vq);

/* The driver broke the rules: say so, mark the device DEVICE_NEEDS_RESET
 * and stop serving it until it is reset. */
void virtio_broken(struct virtio_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* For devices whose threads also wait on a file: the fd to poll for
 * the guest's kick.  vq_wait_kick() consumes a kick. */
void vq_wait_kick(struct virtqueue *vq);

/* For devices that sleep elsewhere (io_uring): before sleeping,
 * interrupt the guest for what was pushed and ask it for a kick.
 * False if a chain came in meanwhile (or the queue stops): do not
 * sleep.  After a sleep it allowed, vq_woken(). */
bool vq_may_sleep(struct virtqueue *vq);
void vq_woken(struct virtqueue *vq);

/* Device config changed: bump the generation and tell the driver. */
void virtio_config_changed(struct virtio_dev *d);

/* Queue lifetime, driven by the core. */
void vq_start(struct virtqueue *vq);
void vq_stop(struct virtqueue *vq);

/*
 * For transports: what the driver wrote, given to the core.
 */
/* Features we offer: the device's and the transport-independent ones. */
u64 virtio_offered(const struct virtio_dev *d);
/* Driver features, 32 bits at a time (@sel 0 or 1), until FEATURES_OK. */
void virtio_set_driver_features(struct virtio_dev *d, u32 sel, u32 bits);
/* A new status byte; 0 resets the device. */
void virtio_set_status(struct virtio_dev *d, u8 status);
void virtio_reset(struct virtio_dev *d);
/* The driver enabled @vq after setting it up. */
void virtio_queue_enable(struct virtio_dev *d, struct virtqueue *vq);

#endif
