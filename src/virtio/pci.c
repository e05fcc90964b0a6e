/*
 * pci.c - the virtio 1.0 "modern" PCI transport (virtio 1.x, 4.1).
 *
 * BAR0 holds the four structures the capabilities point at; BAR1 the
 * MSI-X table.  Doorbell writes never reach this file while the queue is
 * enabled: the backend turns them into eventfd signals for the queue's
 * thread.  What does reach us is configuration: features, status, queue
 * addresses, which go to the virtio core (virtio/core.c).  Only here do
 * virtio devices meet PCI: the class codes, capabilities and MSI-X.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pci.h"
#include "virtio/virtio.h"

/* BAR0 layout, 16 KiB: one page per structure. */
#define COMMON_OFF	0x0000
#define COMMON_LEN	sizeof(struct virtio_pci_common_cfg)
#define ISR_OFF		0x1000
#define DEVICE_OFF	0x2000
#define NOTIFY_OFF	0x3000
#define NOTIFY_MULT	4
#define BAR0_SIZE	0x4000

/* BAR1: the MSI-X table, then the pending-bit array. */
#define MSIX_TABLE	0x000
#define MSIX_PBA	0x800
#define BAR1_SIZE	0x1000
/* A vector per queue and one for configuration changes; never fewer
 * than five, which every device had before some had a queue per vCPU.
 * The PBA is one 64-bit word. */
#define MSIX_MIN	5
#define MSIX_MAX	(VIRTIO_MAX_QUEUES + 1)
#define NO_VECTOR	VIRTIO_MSI_NO_VECTOR

#define CAP_VNDR	0x09
#define CAP_MSIX	0x11
#define MSIX_ENABLE	0x8000
#define MSIX_MASKALL	0x4000

enum { CFG_COMMON = 1, CFG_NOTIFY, CFG_ISR, CFG_DEVICE, CFG_PCI };

struct msix_entry {
	u32 addr_lo, addr_hi, data, ctrl;
};

_Static_assert(MSIX_MAX <= 64, "the PBA is one 64-bit word");
_Static_assert(MSIX_MAX * 16 <= MSIX_PBA, "the MSI-X table overlaps the PBA");

struct vpci {
	struct virtio_dev *dev;
	struct pci_dev *pci;
	u32 dfselect, gfselect;
	u16 queue_select, msix_config;
	u8 msix_cap, cfg_cap;
	int nvec;			/* MSI-X vectors, up to MSIX_MAX */
	struct msix_entry msix[MSIX_MAX];
	bool pending[MSIX_MAX];
	bool routed[MSIX_MAX];		/* KVM has route_addr/data for it */
	u64 route_addr[MSIX_MAX];
	u32 route_data[MSIX_MAX];
	int gsi[MSIX_MAX];
	int irq_fd[MSIX_MAX];
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

	if (v >= p->nvec)
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

/* An interrupt: the MSI-X vector, or (MSI-X off) the ISR bit on INTx:
 * bit 0 for a queue, bit 1 for a configuration change. */
static void pci_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	struct vpci *p = d->transport;
	u16 vector = vq ? vq->vector : p->msix_config;

	pthread_mutex_lock(&d->lock);
	if (msix_on(p)) {
		if (vector != NO_VECTOR)
			msix_fire(p, vector);
	} else {
		d->isr |= vq ? 1 : 2;
		intx_update(p);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Doorbells: bound to the queue's eventfd while the queue is enabled and
 * BAR0 decodes.  Called on enable, on reset and when the BAR moves. */
static void bind_doorbell(struct virtio_dev *d, struct virtqueue *vq, bool on)
{
	struct vpci *p = d->transport;
	struct vm *vm = d->vm;
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
		bind_doorbell(p->dev, &p->dev->vq[i], true);
}

/* The core reset the device: MSI-X and INTx state are ours to forget. */
static void pci_reset(struct virtio_dev *d)
{
	struct vpci *p = d->transport;

	pthread_mutex_lock(&d->lock);
	intx_update(p);
	pthread_mutex_unlock(&d->lock);
	p->msix_config = NO_VECTOR;
}

/* The common configuration structure, as the driver would read it now. */
static void common_image(struct vpci *p, struct virtio_pci_common_cfg *c)
{
	struct virtio_dev *d = p->dev;
	struct virtqueue *vq = selected(p);
	u64 f = virtio_offered(d), g = d->driver_features;

	memset(c, 0, sizeof(*c));
	c->device_feature_select = p->dfselect;
	c->device_feature = p->dfselect < 2 ? f >> (32 * p->dfselect) : 0;
	c->driver_feature_select = p->gfselect;
	c->driver_feature = p->gfselect < 2 ? g >> (32 * p->gfselect) : 0;
	c->msix_config = p->msix_config;
	c->num_queues = d->ops->num_queues;
	c->device_status = d->status;
	c->config_generation = d->config_gen;
	c->queue_select = p->queue_select;
	if (!vq)
		return;
	c->queue_size = vq->size;
	c->queue_msix_vector = vq->vector;
	c->queue_enable = vq->enabled;
	c->queue_notify_off = vq->index;
	c->queue_desc = vq->desc_gpa;
	c->queue_driver = vq->avail_gpa;
	c->queue_device = vq->used_gpa;
}

/* Did a write of @size bytes at @off touch @field of the structure? */
#define COMMON(field)	offsetof(struct virtio_pci_common_cfg, field)
#define TOUCHED(field)							\
	(off < COMMON(field) + sizeof(((struct virtio_pci_common_cfg *)0)->field) && \
	 COMMON(field) < off + size)

static u16 vector_or_none(const struct vpci *p, u16 v)
{
	return v < p->nvec ? v : NO_VECTOR;
}

/* The queue fields of a write, for the selected queue @vq. */
static void queue_write(struct vpci *p, struct virtqueue *vq,
			const struct virtio_pci_common_cfg *c, u32 off,
			int size)
{
	if (vq->enabled && off >= COMMON(queue_size) &&
	    off != COMMON(queue_msix_vector)) {
		virtio_broken(p->dev, "queue %d changed while enabled",
			      vq->index);
		return;
	}
	if (TOUCHED(queue_size))
		vq->size = c->queue_size;
	if (TOUCHED(queue_msix_vector))
		vq->vector = vector_or_none(p, c->queue_msix_vector);
	if (TOUCHED(queue_desc))
		vq->desc_gpa = c->queue_desc;
	if (TOUCHED(queue_driver))
		vq->avail_gpa = c->queue_driver;
	if (TOUCHED(queue_device))
		vq->used_gpa = c->queue_device;
	if (TOUCHED(queue_enable) && (c->queue_enable & 0xff) == 1)
		virtio_queue_enable(p->dev, vq);
}

/*L:620 A write lands on an image of the structure; then each field it
 * touched takes effect.  So 8-, 16-, 32-bit and split 64-bit writes all
 * work the same way. */
static void common_write(struct vpci *p, u32 off, const u8 *data, int size)
{
	struct virtio_pci_common_cfg c;
	struct virtqueue *vq;

	common_image(p, &c);
	memcpy((u8 *)&c + off, data, size);

	if (TOUCHED(device_feature_select))
		p->dfselect = c.device_feature_select;
	if (TOUCHED(driver_feature_select))
		p->gfselect = c.driver_feature_select;
	if (TOUCHED(driver_feature))
		virtio_set_driver_features(p->dev, p->gfselect,
					   c.driver_feature);
	if (TOUCHED(msix_config))
		p->msix_config = vector_or_none(p, c.msix_config);
	if (TOUCHED(queue_select))
		p->queue_select = c.queue_select;
	if (TOUCHED(device_status))
		virtio_set_status(p->dev, c.device_status);
	vq = selected(p);
	if (vq && !TOUCHED(queue_select))
		queue_write(p, vq, &c, off, size);
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
	struct virtio_pci_common_cfg c;

	if (off < COMMON_OFF + COMMON_LEN && off + size <= COMMON_LEN) {
		if (write) {
			common_write(p, off, data, size);
			return;
		}
		common_image(p, &c);
		memcpy(data, (u8 *)&c + off, size);
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

/* An entry was written.  Its route is only needed while it is unmasked,
 * and only changes when its message does: a guest that rewrites the
 * table does not make us rebuild KVM's routing table every time. */
static void msix_update(struct vpci *p, int v)
{
	struct msix_entry *e = &p->msix[v];
	u64 addr = (u64)e->addr_hi << 32 | e->addr_lo;

	if (e->ctrl & 1)
		return;
	if (!p->routed[v] || p->route_addr[v] != addr ||
	    p->route_data[v] != e->data) {
		if (vm_msi_route(p->dev->vm, p->gsi[v], addr, e->data) < 0) {
			warn("%s: cannot route MSI-X vector %d", p->pci->name,
			     v);
			return;
		}
		p->routed[v] = true;
		p->route_addr[v] = addr;
		p->route_data[v] = e->data;
	}
	if (p->pending[v])
		msix_fire(p, v);
}

static void bar1_io(struct vpci *p, u32 off, u8 *data, int size, bool write)
{
	struct virtio_dev *d = p->dev;
	u32 table = p->nvec * sizeof(struct msix_entry);

	pthread_mutex_lock(&d->lock);
	if (off < MSIX_TABLE + table) {
		u8 *e = (u8 *)p->msix + off;

		if (off + size > table)
			size = table - off;
		if (write) {
			/* A write may straddle two entries: both changed. */
			memcpy(e, data, size);
			for (u32 v = off / sizeof(struct msix_entry);
			     v <= (off + size - 1) / sizeof(struct msix_entry); v++)
				msix_update(p, v);
		} else {
			memcpy(data, e, size);
		}
	} else if (off >= MSIX_PBA && off < MSIX_PBA + 8 && !write) {
		u64 bits = 0;

		for (int v = 0; v < p->nvec; v++)
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
	    off > pd->bar_size[bar] - len)
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
		for (int v = 0; v < p->nvec; v++)
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

static const struct virtio_transport_ops pci_transport = {
	.notify = pci_notify,
	.bind_doorbell = bind_doorbell,
	.reset = pci_reset,
};

/* Class codes (class << 8 | programming interface) a driver may look at;
 * anything else is an "other" device. */
static u32 pci_class(u16 device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000;	/* Ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x018000;	/* "other" mass storage */
	case VIRTIO_ID_CONSOLE:
		return 0x078000;	/* "other" communication device */
	default:
		return 0xff0000;
	}
}

/* The vendor-specific capabilities that point the driver at BAR0's
 * structures, and the configuration-space window. */
static void virtio_caps(struct vpci *p, const struct virtio_ops *ops)
{
	struct pci_dev *pd = p->pci;
	u8 c;

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
}

/* MSI-X: the capability, and per vector a GSI whose irqfd sends it. */
static void msix_init(struct vpci *p)
{
	struct pci_dev *pd = p->pci;
	struct vm *vm = p->dev->vm;
	u8 c = pci_add_cap(pd, CAP_MSIX, 12);

	p->msix_cap = c;
	p->nvec = p->dev->ops->num_queues + 1;
	if (p->nvec < MSIX_MIN)
		p->nvec = MSIX_MIN;
	pci_set16(pd, c + 2, p->nvec - 1);
	pci_set32(pd, c + 4, MSIX_TABLE | 1);	/* BAR1 */
	pci_set32(pd, c + 8, MSIX_PBA | 1);
	pd->wmask[c + 3] = (MSIX_ENABLE | MSIX_MASKALL) >> 8;

	for (int v = 0; v < p->nvec; v++) {
		p->msix[v].ctrl = 1;		/* masked at reset */
		p->gsi[v] = vm_gsi_alloc(vm);
		p->irq_fd[v] = virtio_eventfd();
		if (vm_irqfd(vm, p->irq_fd[v], p->gsi[v], true) < 0)
			verbose("%s: no irqfd for vector %d: %s", pd->name, v,
				strerror(errno));
	}
}

void virtio_pci_plug(struct virtio_dev *d)
{
	const struct virtio_ops *ops = d->ops;
	struct vpci *p = malloc_or_die(sizeof(*p));
	struct pci_dev *pd;

	d->tops = &pci_transport;
	d->transport = p;
	p->dev = d;
	p->msix_config = NO_VECTOR;

	pd = pci_add(d->vm, 0x1af4, 0x1040 + ops->device_id,
		     pci_class(ops->device_id) << 8 | 1, &virtio_pci_ops, p,
		     ops->name);
	p->pci = pd;
	pci_set16(pd, PCI_SUBSYSTEM_VENDOR, 0x1af4);
	pci_set16(pd, PCI_SUBSYSTEM_ID, 0x0040);	/* virtio 1.0 */
	pci_add_bar(pd, 0, BAR0_SIZE);
	pci_add_bar(pd, 1, BAR1_SIZE);
	virtio_caps(p, ops);
	msix_init(p);
	verbose("%s: BAR0 0x%llx", pd->name,
		(unsigned long long)pd->bar_addr[0]);
}
