/*
 * pci.c - the virtio 1.0 "modern" PCI transport (virtio 1.x, 4.1).
 *
 * BAR0 holds the four structures the capabilities point at; BAR1 the
 * MSI-X table.  Doorbell writes never reach this file while the queue is
 * enabled: the backend turns them into eventfd signals for the queue's
 * thread.  What does reach us is configuration: features, status, queue
 * addresses -- and every rule the driver might break on the way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci.h"
#include "virtio/virtio.h"

/* BAR0 layout, 16 KiB: one page per structure. */
#define COMMON_OFF	0x0000
#define COMMON_LEN	0x38
#define ISR_OFF		0x1000
#define DEVICE_OFF	0x2000
#define NOTIFY_OFF	0x3000
#define NOTIFY_MULT	4
#define BAR0_SIZE	0x4000

/* BAR1: the MSI-X table, then the pending-bit array. */
#define MSIX_TABLE	0x000
#define MSIX_PBA	0x800
#define BAR1_SIZE	0x1000
#define MSIX_VECTORS	(VIRTIO_MAX_QUEUES + 1)
#define NO_VECTOR	0xffff

#define CAP_VNDR	0x09
#define CAP_MSIX	0x11
#define MSIX_ENABLE	0x8000
#define MSIX_MASKALL	0x4000

enum { CFG_COMMON = 1, CFG_NOTIFY, CFG_ISR, CFG_DEVICE, CFG_PCI };

struct msix_entry {
	u32 addr_lo, addr_hi, data, ctrl;
};

struct vpci {
	struct virtio_dev *dev;
	struct pci_dev *pci;
	u32 dfselect, gfselect;
	u64 driver_features;
	u16 queue_select, msix_config;
	u8 msix_cap, cfg_cap;
	struct msix_entry msix[MSIX_VECTORS];
	bool pending[MSIX_VECTORS];
	int gsi[MSIX_VECTORS];
	int irq_fd[MSIX_VECTORS];
	int intx;			/* INTx line level */
};

static struct virtqueue *selected(struct vpci *p)
{
	if (p->queue_select >= p->dev->ops->num_queues)
		return NULL;
	return &p->dev->vq[p->queue_select];
}

static bool msix_on(struct vpci *p)
{
	return pci_get16(p->pci, p->msix_cap + 2) & MSIX_ENABLE;
}

/*L:600 Sending an MSI-X message: the vector's irqfd, bound in KVM to a
 * route carrying the address and data the driver wrote.  A masked vector
 * (or function) only sets its pending bit; unmasking sends it then. */
static void msix_fire(struct vpci *p, u16 v)
{
	u64 one = 1;

	if (v >= MSIX_VECTORS)
		return;
	if ((p->msix[v].ctrl & 1) ||
	    (pci_get16(p->pci, p->msix_cap + 2) & MSIX_MASKALL)) {
		p->pending[v] = true;
		return;
	}
	p->pending[v] = false;
	if (write(p->irq_fd[v], &one, sizeof(one)) < 0)
		warn("%s: cannot raise MSI-X vector %u", p->pci->name, v);
}

static void intx_update(struct vpci *p)
{
	int level = p->dev->isr &&
		    !(pci_get16(p->pci, PCI_COMMAND) & PCI_COMMAND_INTX_OFF);

	if (level != p->intx) {
		p->intx = level;
		vm_irq_line(p->dev->vm, p->pci->gsi, level);
	}
}

/* An interrupt: the MSI-X vector, or (MSI-X off) the ISR bit on INTx. */
static void raise_irq(struct virtio_dev *d, u16 vector, u8 isr_bit)
{
	struct vpci *p = d->transport;

	pthread_mutex_lock(&d->lock);
	if (isr_bit == 2)
		d->config_gen++;
	if (msix_on(p)) {
		if (vector != NO_VECTOR)
			msix_fire(p, vector);
	} else {
		d->isr |= isr_bit;
		intx_update(p);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Called from a queue's thread: it raises the interrupt itself. */
void virtio_transport_irq(struct virtio_dev *d, struct virtqueue *vq)
{
	raise_irq(d, vq->msix_vector, 1);
}

void virtio_config_changed(struct virtio_dev *d)
{
	raise_irq(d, ((struct vpci *)d->transport)->msix_config, 2);
}

/* Doorbells: bound to the queue's eventfd while the queue is enabled and
 * BAR0 decodes.  Called on enable, on reset and when the BAR moves. */
static void bind_notify(struct vpci *p, struct virtqueue *vq, bool on)
{
	struct vm *vm = p->dev->vm;
	u64 bar = p->pci->bar_addr[0];

	if (vq->notify_addr) {
		vm_ioeventfd(vm, vq->kick_fd, vq->notify_addr, 2, false, false);
		vq->notify_addr = 0;
	}
	if (!on || !bar || !vq->enabled)
		return;
	vq->notify_addr = bar + NOTIFY_OFF + NOTIFY_MULT * vq->index;
	if (vm_ioeventfd(vm, vq->kick_fd, vq->notify_addr, 2, false,
			 true) < 0) {
		verbose("%s: no ioeventfd (%s): doorbells exit to us",
			p->pci->name, strerror(errno));
		vq->notify_addr = 0;
	}
}

static void bar_moved(struct pci_dev *pd, int bar, u64 old, u64 new)
{
	struct vpci *p = pd->opaque;

	if (bar != 0)
		return;
	for (int i = 0; i < p->dev->ops->num_queues; i++)
		bind_notify(p, &p->dev->vq[i], true);
}

/*L:610 Reset, by writing 0 to the status: the queue threads stop (each
 * finishes the request in hand), the rings are forgotten, and the device
 * forgets whatever it keeps. */
void virtio_reset(struct virtio_dev *d)
{
	struct vpci *p = d->transport;

	for (int i = 0; i < d->ops->num_queues; i++) {
		struct virtqueue *vq = &d->vq[i];

		vq_stop(vq);
		vq->enabled = false;
		bind_notify(p, vq, false);
		vq->size = VQ_MAX_SIZE;
		vq->msix_vector = NO_VECTOR;
		vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	}
	if (d->ops->reset)
		d->ops->reset(d);
	pthread_mutex_lock(&d->lock);
	d->status = 0;
	d->features = 0;
	d->isr = 0;
	intx_update(p);
	pthread_mutex_unlock(&d->lock);
	p->driver_features = 0;
	p->msix_config = NO_VECTOR;
}

static u64 offered(struct virtio_dev *d)
{
	return d->ops->features | (1ULL << VIRTIO_F_VERSION_1) |
	       (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << VIRTIO_F_INDIRECT_DESC);
}

static void set_status(struct vpci *p, u8 v)
{
	struct virtio_dev *d = p->dev;
	u8 old = d->status;

	if (v == 0) {
		virtio_reset(d);
		return;
	}
	/* FEATURES_OK only sticks if we can live with what was chosen
	 * (3.1.1): a subset of ours, and virtio 1.0 itself. */
	if ((v & VIRTIO_S_FEATURES_OK) && !(old & VIRTIO_S_FEATURES_OK)) {
		u64 f = p->driver_features;

		if ((f & ~offered(d)) || !(f & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~VIRTIO_S_FEATURES_OK;
		else
			d->features = f;
	}
	pthread_mutex_lock(&d->lock);
	d->status = v | (old & VIRTIO_S_NEEDS_RESET);
	pthread_mutex_unlock(&d->lock);

	if ((v & VIRTIO_S_DRIVER_OK) && !(old & VIRTIO_S_DRIVER_OK)) {
		if (!(v & VIRTIO_S_FEATURES_OK)) {
			virtio_broken(d, "DRIVER_OK without FEATURES_OK");
			return;
		}
		if (d->ops->start)
			d->ops->start(d);
		for (int i = 0; i < d->ops->num_queues; i++)
			vq_start(&d->vq[i]);
	}
}

static void enable_queue(struct vpci *p, struct virtqueue *vq)
{
	struct virtio_dev *d = p->dev;

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
	bind_notify(p, vq, true);
	if (d->status & VIRTIO_S_DRIVER_OK)
		vq_start(vq);
}

/* The common configuration structure, as the driver would read it now. */
static void common_image(struct vpci *p, u8 *img)
{
	struct virtio_dev *d = p->dev;
	struct virtqueue *vq = selected(p);
	u64 f = offered(d);
	u32 dfeat = p->dfselect == 0 ? (u32)f : p->dfselect == 1 ? f >> 32 : 0;
	u32 gfeat = p->gfselect == 0 ? (u32)p->driver_features :
		    p->gfselect == 1 ? p->driver_features >> 32 : 0;

	memset(img, 0, COMMON_LEN);
	memcpy(img + 0x00, &p->dfselect, 4);
	memcpy(img + 0x04, &dfeat, 4);
	memcpy(img + 0x08, &p->gfselect, 4);
	memcpy(img + 0x0c, &gfeat, 4);
	memcpy(img + 0x10, &p->msix_config, 2);
	memcpy(img + 0x12, &(u16){ d->ops->num_queues }, 2);
	img[0x14] = d->status;
	img[0x15] = d->config_gen;
	memcpy(img + 0x16, &p->queue_select, 2);
	if (!vq)
		return;
	memcpy(img + 0x18, &vq->size, 2);
	memcpy(img + 0x1a, &vq->msix_vector, 2);
	memcpy(img + 0x1c, &(u16){ vq->enabled }, 2);
	memcpy(img + 0x1e, &(u16){ vq->index }, 2);	/* queue_notify_off */
	memcpy(img + 0x20, &vq->desc_gpa, 8);
	memcpy(img + 0x28, &vq->avail_gpa, 8);
	memcpy(img + 0x30, &vq->used_gpa, 8);
}

static bool touches(u32 off, int size, u32 field, u32 len)
{
	return off < field + len && field < off + size;
}

/*L:620 A write lands on an image of the structure; then each field it
 * touched takes effect.  So 8-, 16-, 32-bit and split 64-bit writes all
 * work the same way. */
static void common_write(struct vpci *p, u32 off, const u8 *data, int size)
{
	struct virtqueue *vq = selected(p);
	u8 img[COMMON_LEN];
	u16 v16;
	u32 v32;

	common_image(p, img);
	memcpy(img + off, data, size);

	if (touches(off, size, 0x00, 4))
		memcpy(&p->dfselect, img + 0x00, 4);
	if (touches(off, size, 0x08, 4))
		memcpy(&p->gfselect, img + 0x08, 4);
	if (touches(off, size, 0x0c, 4) && p->gfselect < 2 &&
	    !(p->dev->status & VIRTIO_S_FEATURES_OK)) {
		memcpy(&v32, img + 0x0c, 4);
		p->driver_features &= ~(0xffffffffULL << (32 * p->gfselect));
		p->driver_features |= (u64)v32 << (32 * p->gfselect);
	}
	if (touches(off, size, 0x10, 2)) {
		memcpy(&v16, img + 0x10, 2);
		p->msix_config = v16 < MSIX_VECTORS ? v16 : NO_VECTOR;
	}
	if (touches(off, size, 0x16, 2))
		memcpy(&p->queue_select, img + 0x16, 2);
	if (touches(off, size, 0x14, 1))
		set_status(p, img[0x14]);
	vq = selected(p);
	if (!vq || touches(off, size, 0x16, 2))
		return;
	if (vq->enabled && off >= 0x18 && off != 0x1a) {
		virtio_broken(p->dev, "queue %d changed while enabled",
			      vq->index);
		return;
	}
	if (touches(off, size, 0x18, 2))
		memcpy(&vq->size, img + 0x18, 2);
	if (touches(off, size, 0x1a, 2)) {
		memcpy(&v16, img + 0x1a, 2);
		vq->msix_vector = v16 < MSIX_VECTORS ? v16 : NO_VECTOR;
	}
	if (touches(off, size, 0x20, 8))
		memcpy(&vq->desc_gpa, img + 0x20, 8);
	if (touches(off, size, 0x28, 8))
		memcpy(&vq->avail_gpa, img + 0x28, 8);
	if (touches(off, size, 0x30, 8))
		memcpy(&vq->used_gpa, img + 0x30, 8);
	if (touches(off, size, 0x1c, 2) && img[0x1c] == 1)
		enable_queue(p, vq);
}

/* A doorbell that exited to us: an unbound queue, or an odd width. */
static void notify_write(struct vpci *p, u32 off)
{
	u32 q = off / NOTIFY_MULT;
	u64 one = 1;

	if (q >= (u32)p->dev->ops->num_queues || !p->dev->vq[q].enabled) {
		virtio_broken(p->dev, "notification for queue %u, which is "
			      "not enabled", q);
		return;
	}
	if (write(p->dev->vq[q].kick_fd, &one, sizeof(one)) < 0)
		warn("%s: kick", p->pci->name);
}

static void bar0_io(struct vpci *p, u32 off, u8 *data, int size, bool write)
{
	struct virtio_dev *d = p->dev;
	u8 img[COMMON_LEN];

	if (off < COMMON_OFF + COMMON_LEN && off + size <= COMMON_LEN) {
		if (write) {
			common_write(p, off, data, size);
			return;
		}
		common_image(p, img);
		memcpy(data, img + off, size);
		return;
	}
	if (off == ISR_OFF && !write) {
		/* Reading the ISR acknowledges it and drops the line. */
		pthread_mutex_lock(&d->lock);
		data[0] = d->isr;
		d->isr = 0;
		intx_update(p);
		pthread_mutex_unlock(&d->lock);
		memset(data + 1, 0, size - 1);
		return;
	}
	if (off >= DEVICE_OFF && off - DEVICE_OFF + size <= d->ops->config_size) {
		off -= DEVICE_OFF;
		if (!write) {
			memcpy(data, d->config + off, size);
			return;
		}
		/* Only fields the device declares writable may change. */
		if (d->ops->config_write) {
			memcpy(d->config + off, data, size);
			d->ops->config_write(d, off, size);
		}
		return;
	}
	if (off >= NOTIFY_OFF && write &&
	    off < NOTIFY_OFF + NOTIFY_MULT * VIRTIO_MAX_QUEUES) {
		notify_write(p, off - NOTIFY_OFF);
		return;
	}
	if (!write)
		memset(data, 0, size);
}

static void msix_update(struct vpci *p, int v)
{
	struct msix_entry *e = &p->msix[v];
	struct vm *vm = p->dev->vm;

	if (vm_msi_route(vm, p->gsi[v], (u64)e->addr_hi << 32 | e->addr_lo,
			 e->data) < 0)
		warn("%s: cannot route MSI-X vector %d", p->pci->name, v);
	if (!(e->ctrl & 1) && p->pending[v])
		msix_fire(p, v);
}

static void bar1_io(struct vpci *p, u32 off, u8 *data, int size, bool write)
{
	struct virtio_dev *d = p->dev;

	pthread_mutex_lock(&d->lock);
	if (off < MSIX_TABLE + sizeof(p->msix)) {
		u8 *e = (u8 *)p->msix + off;

		if (off + size > sizeof(p->msix))
			size = sizeof(p->msix) - off;
		if (write) {
			memcpy(e, data, size);
			msix_update(p, off / sizeof(struct msix_entry));
		} else {
			memcpy(data, e, size);
		}
	} else if (off >= MSIX_PBA && off < MSIX_PBA + 8 && !write) {
		u64 bits = 0;

		for (int v = 0; v < MSIX_VECTORS; v++)
			bits |= (u64)p->pending[v] << v;
		bits >>= 8 * (off - MSIX_PBA);
		memcpy(data, &bits, size);
	} else if (!write) {
		memset(data, 0, size);
	}
	pthread_mutex_unlock(&d->lock);
}

static void bar_io(struct pci_dev *pd, int bar, u64 off, u8 *data, int size,
		   bool write)
{
	if (bar == 0)
		bar0_io(pd->opaque, off, data, size, write);
	else
		bar1_io(pd->opaque, off, data, size, write);
}

/* VIRTIO_PCI_CAP_PCI_CFG: a window into the BARs through config space,
 * for drivers that cannot map them. */
static void cfg_window(struct vpci *p, bool write)
{
	struct pci_dev *pd = p->pci;
	u8 c = p->cfg_cap, bar = pd->cfg[c + 4];
	u32 off = pci_get32(pd, c + 8), len = pci_get32(pd, c + 12);

	if (bar > 1 || (len != 1 && len != 2 && len != 4) || off % len ||
	    off + len > pd->bar_size[bar])
		return;
	bar_io(pd, bar, off, &pd->cfg[c + 16], len, write);
}

static void cfg_write(struct pci_dev *pd, u32 off, int size)
{
	struct vpci *p = pd->opaque;

	if (off >= p->cfg_cap + 16u && off < p->cfg_cap + 20u)
		cfg_window(p, true);
	if (off <= p->msix_cap + 3u && off + size > p->msix_cap + 2u) {
		pthread_mutex_lock(&p->dev->lock);
		for (int v = 0; v < MSIX_VECTORS; v++)
			if (p->pending[v])
				msix_fire(p, v);
		intx_update(p);
		pthread_mutex_unlock(&p->dev->lock);
	}
	if (off <= PCI_COMMAND + 1u && off + size > PCI_COMMAND) {
		pthread_mutex_lock(&p->dev->lock);
		intx_update(p);
		pthread_mutex_unlock(&p->dev->lock);
	}
}

static void cfg_read(struct pci_dev *pd, u32 off, int size)
{
	struct vpci *p = pd->opaque;

	if (off >= p->cfg_cap + 16u && off < p->cfg_cap + 20u)
		cfg_window(p, false);
	/* The INTx status bit mirrors our line. */
	pd->cfg[PCI_STATUS] = (pd->cfg[PCI_STATUS] & ~PCI_STATUS_INTX) |
			      (p->intx ? PCI_STATUS_INTX : 0);
}

static const struct pci_ops virtio_pci_ops = {
	.bar_io = bar_io,
	.bar_moved = bar_moved,
	.cfg_write = cfg_write,
	.cfg_read = cfg_read,
};

static void vendor_cap(struct pci_dev *pd, u8 type, u8 len, u32 off, u32 size)
{
	u8 c = pci_add_cap(pd, CAP_VNDR, len);

	pd->cfg[c + 2] = len;
	pd->cfg[c + 3] = type;
	pd->cfg[c + 4] = 0;		/* BAR0 */
	pci_set32(pd, c + 8, off);
	pci_set32(pd, c + 12, size);
	if (type == CFG_NOTIFY)
		pci_set32(pd, c + 16, NOTIFY_MULT);
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	if (fd < 0)
		err(EXIT_ERROR, "eventfd");
	return fd;
}

struct virtio_dev *virtio_add(struct vm *vm, const struct virtio_ops *ops,
			      void *priv, void *config)
{
	struct virtio_dev *d = malloc_or_die(sizeof(*d));
	struct vpci *p = malloc_or_die(sizeof(*p));
	struct pci_dev *pd;
	u8 c;

	d->ops = ops;
	d->vm = vm;
	d->priv = priv;
	d->config = config;
	d->transport = p;
	pthread_mutex_init(&d->lock, NULL);
	p->dev = d;
	p->msix_config = NO_VECTOR;

	pd = pci_add(vm, 0x1af4, 0x1040 + ops->device_id,
		     ops->pci_class << 8 | 1, &virtio_pci_ops, p, ops->name);
	p->pci = pd;
	pci_set16(pd, PCI_SUBSYSTEM_VENDOR, 0x1af4);
	pci_set16(pd, PCI_SUBSYSTEM_ID, 0x0040);	/* virtio 1.0 */
	pci_add_bar(pd, 0, BAR0_SIZE);
	pci_add_bar(pd, 1, BAR1_SIZE);

	vendor_cap(pd, CFG_COMMON, 16, COMMON_OFF, COMMON_LEN);
	vendor_cap(pd, CFG_NOTIFY, 20, NOTIFY_OFF,
		   NOTIFY_MULT * ops->num_queues);
	vendor_cap(pd, CFG_ISR, 16, ISR_OFF, 1);
	if (ops->config_size)
		vendor_cap(pd, CFG_DEVICE, 16, DEVICE_OFF, ops->config_size);
	/* The window capability: bar, offset and length are the driver's. */
	vendor_cap(pd, CFG_PCI, 20, 0, 0);
	p->cfg_cap = c = pd->cap_link - 1;
	pd->wmask[c + 4] = 0xff;
	memset(&pd->wmask[c + 8], 0xff, 12);

	c = pci_add_cap(pd, CAP_MSIX, 12);
	p->msix_cap = c;
	pci_set16(pd, c + 2, MSIX_VECTORS - 1);
	pci_set32(pd, c + 4, MSIX_TABLE | 1);	/* BAR1 */
	pci_set32(pd, c + 8, MSIX_PBA | 1);
	pd->wmask[c + 3] = (MSIX_ENABLE | MSIX_MASKALL) >> 8;

	for (int v = 0; v < MSIX_VECTORS; v++) {
		p->msix[v].ctrl = 1;		/* masked at reset */
		p->gsi[v] = vm_gsi_alloc(vm);
		p->irq_fd[v] = new_eventfd();
		if (vm_irqfd(vm, p->irq_fd[v], p->gsi[v], true) < 0)
			verbose("%s: no irqfd for vector %d: %s", pd->name, v,
				strerror(errno));
	}
	for (int i = 0; i < ops->num_queues; i++) {
		struct virtqueue *vq = &d->vq[i];

		vq->dev = d;
		vq->index = i;
		vq->size = VQ_MAX_SIZE;
		vq->msix_vector = NO_VECTOR;
		vq->kick_fd = new_eventfd();
	}
	verbose("%s: BAR0 0x%llx", pd->name,
		(unsigned long long)pd->bar_addr[0]);
	return d;
}
