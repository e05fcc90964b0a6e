/*
 * lgbus.c - the lguest bus: virtio devices the way the original Launcher
 * offered them to a paravirtual guest on /dev/lguest (Linux's
 * drivers/lguest/lguest_device.c is the driver's side).
 *
 *L:650 The bus is a page just above the guest's RAM, which the guest
 * finds at max_pfn.  It lists the devices back to back, each as
 *
 *	u8 type, num_vq, feature_len, config_len, status;
 *	struct { u16 num, irq; u32 pfn; } vq[num_vq];
 *	u8 features[feature_len];	(what we offer)
 *	u8 acked[feature_len];		(what the driver takes)
 *	u8 config[config_len];
 *
 * and a type of 0 ends the list.  The rings follow the page: we place
 * them (legacy layout, the used ring aligned to 4096) and the driver maps
 * what vq[].pfn says.  The driver writes the status byte and then
 * notifies the descriptor's address (see status_written()); a queue's kick notifies its pfn's
 * address, which we bind to the queue's eventfd, so that the kernel
 * wakes the queue's thread directly.  The thread raises the device's
 * interrupt with LHREQ_IRQ.  Every value is read from the page once and
 * kept: a guest that rewrites vq[] later changes nothing.
 */
#include <string.h>
#include <unistd.h>

#include "conhost.h"
#include "virtio/virtio.h"

#define LG_PAGE			4096
#define LGBUS_PAGES		256	/* the device page and the rings */
#define LG_VRING_ALIGN		4096
#define LG_IRQS			32	/* 0 is the guest's timer */
#define DESC_HDR		5
#define VQCONFIG_LEN		8
#define FEATURE_LEN		4	/* bits 0-31: all a legacy driver has */

struct lgbus {
	struct vm *vm;
	u64 base;			/* the device page: the end of RAM */
	u8 *page;
	u32 used;			/* bytes of the page described */
	u64 next;			/* where the next ring goes */
	int next_irq;
	unsigned strays;		/* notifications nobody answers */
	struct lgdev *devs;
};

struct lgdev {
	struct virtio_dev *d;
	struct lgbus *bus;
	struct lgdev *next;
	u32 off;			/* the descriptor, in the page */
	int irq;
	u64 ring[VIRTIO_MAX_QUEUES];	/* guest-physical, page aligned */
};

static u64 ring_bytes(u16 num)
{
	u64 avail_end = 16ULL * num + 6 + 2ULL * num;

	return ((avail_end + LG_VRING_ALIGN - 1) & ~(u64)(LG_VRING_ALIGN - 1)) +
	       6 + 8ULL * num;
}

static u8 *desc_of(const struct lgdev *ld)
{
	return ld->bus->page + ld->off;
}

/* The device config, copied into the page: at startup and whenever it
 * changes.  The driver's writes to it are not ours to act on. */
static void copy_config(struct lgdev *ld)
{
	const struct virtio_ops *ops = ld->d->ops;
	u8 *config = desc_of(ld) + DESC_HDR + VQCONFIG_LEN * ops->num_queues +
		     2 * FEATURE_LEN;

	if (ops->config_size)
		memcpy(config, ld->d->config, ops->config_size);
}

/* An interrupt for a queue, or for a configuration change (which a
 * legacy lguest driver does not ask about: the new config is in the
 * page, and the interrupt makes its queues look). */
static void lgbus_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	struct lgdev *ld = d->transport;

	if (!vq)
		copy_config(ld);
	vm_irq_line(d->vm, ld->irq, 1);
}

static void bind_doorbell(struct virtio_dev *d, struct virtqueue *vq, bool on)
{
	struct lgdev *ld = d->transport;

	if (!on)
		return;		/* bindings stay: see lg_ioeventfd() */
	vq->notify_addr = ld->ring[vq->index];
	if (vm_ioeventfd(d->vm, vq->kick_fd, vq->notify_addr, 4, false,
			 true) < 0)
		verbose("%s: no eventfd for queue %d: kicks come to the vCPU",
			d->ops->name, vq->index);
}

/* The rings are ours, above RAM: a reset leaves them zeroed, as a new
 * driver expects to find them (it does not clear them itself). */
static void lgbus_reset(struct virtio_dev *d)
{
	struct lgdev *ld = d->transport;

	for (int i = 0; i < d->ops->num_queues; i++)
		memset(guest_ptr(d->vm, ld->ring[i], ring_bytes(VQ_MAX_SIZE)),
		       0, ring_bytes(VQ_MAX_SIZE));
}

static const struct virtio_transport_ops lgbus_transport = {
	.notify = lgbus_notify,
	.bind_doorbell = bind_doorbell,
	.reset = lgbus_reset,
};

/*L:652 DRIVER_OK is where a legacy driver's features are settled, so
 * that is where we take them, give the core the FEATURES_OK step the
 * driver never makes, and set up and start the queues. */
static void driver_ok(struct lgdev *ld, u8 status)
{
	struct virtio_dev *d = ld->d;
	const u8 *acked = desc_of(ld) + DESC_HDR +
			  VQCONFIG_LEN * d->ops->num_queues + FEATURE_LEN;
	u32 f = acked[0] | acked[1] << 8 | acked[2] << 16 | (u32)acked[3] << 24;

	virtio_set_driver_features(d, 0, f);
	virtio_set_driver_features(d, 1, 0);
	virtio_set_status(d, (status & ~VIRTIO_S_DRIVER_OK) | VIRTIO_S_FEATURES_OK);
	if (d->status & VIRTIO_S_FEATURES_OK) {
		for (int i = 0; i < d->ops->num_queues; i++) {
			struct virtqueue *vq = &d->vq[i];
			u64 r = ld->ring[i];

			vq->size = VQ_MAX_SIZE;
			vq->desc_gpa = r;
			vq->avail_gpa = r + 16ULL * VQ_MAX_SIZE;
			vq->used_gpa = r + ring_bytes(VQ_MAX_SIZE) -
				       (6 + 8ULL * VQ_MAX_SIZE);
			virtio_queue_enable(d, vq);
		}
	}
	virtio_set_status(d, status | (d->status & VIRTIO_S_FEATURES_OK));
}

/* A status the driver notified.  0 is a reset, and DRIVER_OK the start.
 * Drivers of Linux 3.x notify only when their features are settled
 * (ACKNOWLEDGE | DRIVER), on a reset and on failure, never on DRIVER_OK:
 * their devices start at their first kick (ring_kicked()). */
static void status_written(struct lgdev *ld)
{
	struct virtio_dev *d = ld->d;
	u8 v = __atomic_load_n(&desc_of(ld)[4], __ATOMIC_ACQUIRE);

	if (v == 0) {
		virtio_reset(d);
		copy_config(ld);
		return;
	}
	if ((v & VIRTIO_S_DRIVER_OK) && !(d->status & VIRTIO_S_DRIVER_OK)) {
		driver_ok(ld, v);
		return;
	}
	virtio_set_status(d, v | (d->status & (VIRTIO_S_FEATURES_OK |
					       VIRTIO_S_DRIVER_OK)));
}

/* A kick on a ring nothing is bound to.  Before DRIVER_OK: drivers of
 * Linux before 3.19 use their queues from their probe routines (a disk's
 * partition table is read there), and DRIVER_OK comes after; their
 * features are settled by then, so the first kick starts the device, as
 * the original Launcher did.  After it: the eventfd binding failed, and
 * the kick is passed on by hand. */
static bool ring_kicked(struct lgdev *ld, u64 addr)
{
	struct virtio_dev *d = ld->d;

	for (int i = 0; i < d->ops->num_queues; i++) {
		struct virtqueue *vq = &d->vq[i];
		u64 one = 1;
		u8 v;

		if (ld->ring[i] != addr)
			continue;
		v = __atomic_load_n(&desc_of(ld)[4], __ATOMIC_ACQUIRE);
		if (!(d->status & VIRTIO_S_DRIVER_OK) &&
		    (v & VIRTIO_S_DRIVER)) {
			driver_ok(ld, v | VIRTIO_S_DRIVER_OK);
			return true;
		}
		if (vq->running && write(vq->kick_fd, &one, sizeof(one)) < 0)
			warn("%s: cannot pass a kick on", d->ops->name);
		return true;
	}
	return false;
}

/*L:654 A notification: a descriptor's address is a status change, a
 * ring's a kick, and one inside RAM is the guest's early console: the
 * address of a string to print, before any driver runs.  Anything else
 * is counted, and only the first few are logged. */
static void notified(void *opaque, u64 addr, u8 *data, int size, bool write)
{
	struct lgbus *bus = opaque;
	struct lgdev *ld;

	(void)data, (void)size, (void)write;
	if (addr < bus->base) {
		u64 room = bus->base - addr < LG_PAGE ? bus->base - addr :
							LG_PAGE;
		const char *s = guest_ptr(bus->vm, addr, room);

		if (s)
			conhost_write(s, strnlen(s, room));
		return;
	}
	for (ld = bus->devs; ld; ld = ld->next) {
		if (addr == bus->base + ld->off) {
			status_written(ld);
			return;
		}
		if (ring_kicked(ld, addr))
			return;
	}
	if (++bus->strays <= 4)
		warnx("lguest bus: the guest notified 0x%llx, which is "
		      "nothing%s", (unsigned long long)addr,
		      bus->strays == 4 ? " (further ones are not logged)" : "");
}

void lgbus_init(struct vm *vm)
{
	struct lgbus *bus = malloc_or_die(sizeof(*bus));

	memset(bus, 0, sizeof(*bus));
	bus->vm = vm;
	bus->base = vm->ram_size - LGBUS_PAGES * LG_PAGE;
	bus->page = guest_ptr(vm, bus->base, LG_PAGE);
	if (!bus->page)
		errx(EXIT_ERROR, "no room for the lguest bus");
	bus->next = bus->base + LG_PAGE;
	bus->next_irq = 1;
	vm->lgbus = bus;
	vm->buf_end = bus->base;
	mmio_register(vm, 0, vm->ram_size, notified, bus);
}

/* The RAM the guest is told of: the bus's pages are not. */
u64 lgbus_ram_end(const struct vm *vm)
{
	return vm->lgbus->base;
}

u64 lgbus_area(void)
{
	return LGBUS_PAGES * LG_PAGE;
}

void virtio_lgbus_plug(struct virtio_dev *d)
{
	struct lgbus *bus = d->vm->lgbus;
	const struct virtio_ops *ops = d->ops;
	struct lgdev *ld = malloc_or_die(sizeof(*ld)), **tail;
	u32 len = DESC_HDR + VQCONFIG_LEN * ops->num_queues + 2 * FEATURE_LEN +
		  ops->config_size;
	u64 offered;
	u8 *desc;

	memset(ld, 0, sizeof(*ld));
	d->legacy = true;
	d->tops = &lgbus_transport;
	d->transport = ld;
	ld->d = d;
	ld->bus = bus;
	/* One byte more stays 0: the end of the list. */
	if (ops->config_size > 255 || bus->used + len >= LG_PAGE)
		errx(EXIT_ERROR, "%s: the lguest bus's device page is full; "
		     "use fewer devices", ops->name);
	if (bus->next_irq == LG_IRQS)
		errx(EXIT_ERROR, "%s: the lguest bus has %d interrupts for "
		     "devices; use fewer devices", ops->name, LG_IRQS - 1);
	ld->off = bus->used;
	ld->irq = bus->next_irq++;
	bus->used += len;

	desc = desc_of(ld);
	desc[0] = ops->device_id;
	desc[1] = ops->num_queues;
	desc[2] = FEATURE_LEN;
	desc[3] = ops->config_size;
	for (int i = 0; i < ops->num_queues; i++) {
		u8 *c = desc + DESC_HDR + VQCONFIG_LEN * i;
		u64 size = (ring_bytes(VQ_MAX_SIZE) + LG_PAGE - 1) & ~(u64)(LG_PAGE - 1);
		u32 pfn = bus->next / LG_PAGE;

		if (bus->next + size > bus->base + lgbus_area())
			errx(EXIT_ERROR, "%s: no room for its rings on the "
			     "lguest bus; use fewer devices", ops->name);
		ld->ring[i] = bus->next;
		bus->next += size;
		memcpy(c, &(u16){ VQ_MAX_SIZE }, 2);
		memcpy(c + 2, &(u16){ ld->irq }, 2);
		memcpy(c + 4, &pfn, 4);
	}
	offered = virtio_offered(d);
	for (int i = 0; i < FEATURE_LEN; i++)
		desc[DESC_HDR + VQCONFIG_LEN * ops->num_queues + i] =
			offered >> (8 * i);
	copy_config(ld);

	for (tail = &bus->devs; *tail; tail = &(*tail)->next)
		;
	*tail = ld;
	verbose("%s: lguest bus, descriptor at 0x%llx, interrupt %d",
		ops->name, (unsigned long long)(bus->base + ld->off), ld->irq);
}
