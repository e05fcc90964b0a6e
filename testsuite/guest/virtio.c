/*
 * virtio.c - the virtio-PCI transport (virtio 1.x, 4.1) from the
 * driver's side: find the structures through the vendor capabilities,
 * negotiate as 3.1.1 says, set queues up, ring doorbells.
 *
 * Every access to a BAR is a trip to the Launcher, so the drivers touch
 * the common configuration only while setting up.
 */
#include "virtio.h"

/* virtio_pci_cap (4.1.4): cfg_type, bar, offset, length */
#define VCAP_TYPE	3
#define VCAP_BAR	4
#define VCAP_OFF	8
#define VCAP_LEN	12
#define VCAP_MULT	16	/* notify_off_multiplier, notify cap only */
#define CFG_COMMON	1
#define CFG_NOTIFY	2
#define CFG_ISR		3
#define CFG_DEVICE	4

#define RESET_POLLS	100000

extern char __image_end[];
static u64 heap, heap_end;

/* A bump allocator over the usable RAM after our image. */
void *alloc(u64 size, u64 align)
{
	u64 p;

	if (!heap) {
		heap = (uintptr_t)__image_end;
		heap_end = e820_usable_end(heap);
		if (!heap_end || heap_end > MAPPED_END)
			heap_end = MAPPED_END < PCI_HOLE_START ?
				   MAPPED_END : PCI_HOLE_START;
	}
	p = (heap + align - 1) & ~(align - 1);
	if (p + size > heap_end || p + size < p)
		fail("out of memory for %lu bytes", size);
	heap = p + size;
	memset((void *)(uintptr_t)p, 0, size);
	return (void *)(uintptr_t)p;
}

noreturn void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	pvpanic();
}

static const char *vname(u16 id)
{
	switch (id) {
	case VIRTIO_ID_NET: return "net";
	case VIRTIO_ID_BLOCK: return "blk";
	case VIRTIO_ID_CONSOLE: return "console";
	case VIRTIO_ID_RNG: return "rng";
	default: return "unknown";
	}
}

static struct vdev devs[PCI_MAX_FNS];
static int ndevs;

/* Read the vendor capabilities: the first of each type is the one to
 * use (4.1.4), and its BAR must be a memory BAR we can reach. */
static void find_caps(struct vdev *d)
{
	for (u8 c = pci_cap_next(d->slot, 0, PCI_CAP_VENDOR); c;
	     c = pci_cap_next(d->slot, c, PCI_CAP_VENDOR)) {
		u32 w0 = pci_read(d->slot, c, 4), w1 = pci_read(d->slot, c + 4, 4);
		u8 type = (u8)(w0 >> 24), bar = (u8)w1;
		struct vregion *r = NULL;

		switch (type) {
		case CFG_COMMON: r = &d->common_r; break;
		case CFG_NOTIFY: r = &d->notify_r; break;
		case CFG_ISR: r = &d->isr_r; break;
		case CFG_DEVICE: r = &d->device_r; break;
		}
		if (!r || r->len || bar > 5)
			continue;
		r->bar = bar;
		r->off = pci_read(d->slot, c + VCAP_OFF, 4);
		r->len = pci_read(d->slot, c + VCAP_LEN, 4);
		if (type == CFG_NOTIFY)
			d->notify_mult = pci_read(d->slot, c + VCAP_MULT, 4);
	}
	d->msix_cap = pci_cap_next(d->slot, 0, PCI_CAP_MSIX);
	if (!d->common_r.len || !d->notify_r.len || !d->isr_r.len)
		fail("00:%02x.0 %s: missing virtio capability (common %u "
		     "notify %u isr %u)", d->slot, d->name, d->common_r.len,
		     d->notify_r.len, d->isr_r.len);
}

static volatile u8 *region(struct vdev *d, struct vregion *r)
{
	u32 base;

	if (!r->len)
		return NULL;
	base = pci_bar_ensure(d->slot, r->bar);
	if (base < PCI_HOLE_START)
		fail("00:%02x.0 %s: BAR%u at 0x%08x, outside the PCI hole",
		     d->slot, d->name, r->bar, base);
	return (volatile u8 *)(uintptr_t)(base + r->off);
}

void vdev_map(struct vdev *d)
{
	d->common = region(d, &d->common_r);
	d->notify = region(d, &d->notify_r);
	d->isr = region(d, &d->isr_r);
	d->cfg = region(d, &d->device_r);
}

struct vdev *vdev_find(u16 id, int n)
{
	struct vdev *d;

	pci_scan();
	for (int i = 0; i < pci_nfns; i++) {
		struct pci_fn *f = &pci_fns[i];

		if (f->vendor != VIRTIO_VENDOR ||
		    f->device != VIRTIO_PCI_DEVICE(id) || n--)
			continue;
		for (int k = 0; k < ndevs; k++)
			if (devs[k].slot == f->slot)
				return &devs[k];
		d = &devs[ndevs++];
		d->slot = f->slot;
		d->id = id;
		d->name = vname(id);
		find_caps(d);
		vdev_map(d);
		pci_enable(d->slot);
		return d;
	}
	return NULL;
}

u8 vdev_status(struct vdev *d)
{
	return mr8(d->common, VC_STATUS);
}

void vdev_set_status(struct vdev *d, u8 s)
{
	mw8(d->common, VC_STATUS, s);
}

u8 vdev_isr(struct vdev *d)
{
	return mr8(d->isr, 0);
}

/* 4.1.4.3.2: writing 0 resets; the reset is done when 0 reads back. */
void vdev_reset(struct vdev *d)
{
	vdev_set_status(d, 0);
	for (int i = 0; vdev_status(d); i++)
		if (i == RESET_POLLS)
			fail("00:%02x.0 %s: reset did not complete", d->slot,
			     d->name);
}

u64 vdev_want(void)
{
	u64 want = 0;

	if (arg_u64("indirect", 1))
		want |= BIT(VIRTIO_F_INDIRECT_DESC);
	if (arg_u64("eventidx", 1))
		want |= BIT(VIRTIO_F_EVENT_IDX);
	return want;
}

/* 3.1.1, steps 1 to 6. */
void vdev_init(struct vdev *d, u64 want)
{
	u8 s;

	vdev_reset(d);
	vdev_set_status(d, VIRTIO_S_ACKNOWLEDGE);
	vdev_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);

	mw32(d->common, VC_DFSELECT, 0);
	d->offered = mr32(d->common, VC_DF);
	mw32(d->common, VC_DFSELECT, 1);
	d->offered |= (u64)mr32(d->common, VC_DF) << 32;
	if (!(d->offered & BIT(VIRTIO_F_VERSION_1)))
		fail("00:%02x.0 %s: no VERSION_1 in 0x%016lx", d->slot,
		     d->name, d->offered);
	d->features = (want | BIT(VIRTIO_F_VERSION_1)) & d->offered;
	mw32(d->common, VC_GFSELECT, 0);
	mw32(d->common, VC_GF, (u32)d->features);
	mw32(d->common, VC_GFSELECT, 1);
	mw32(d->common, VC_GF, (u32)(d->features >> 32));

	vdev_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
			   VIRTIO_S_FEATURES_OK);
	s = vdev_status(d);
	if (!(s & VIRTIO_S_FEATURES_OK))
		fail("00:%02x.0 %s: FEATURES_OK not kept (status 0x%02x)",
		     d->slot, d->name, s);
	printf("virtio: 00:%02x.0 %s offered 0x%016lx accepted 0x%016lx\n",
	       d->slot, d->name, d->offered, d->features);
}

struct vq *vdev_queue(struct vdev *d, int q, u16 size, bool enable)
{
	struct vq *vq = &d->vq[q];
	u16 max;
	u64 a;

	if (q >= VQ_MAX)
		fail("00:%02x.0 %s: queue %d: we drive at most %d", d->slot,
		     d->name, q, VQ_MAX);
	mw16(d->common, VC_Q_SELECT, (u16)q);
	max = mr16(d->common, VC_Q_SIZE);
	if (!max)
		fail("00:%02x.0 %s: queue %d does not exist", d->slot,
		     d->name, q);
	if (!size || size > max)
		size = max;
	if (size > VQ_SIZE_MAX)
		size = VQ_SIZE_MAX;
	while (size & (size - 1))	/* split rings: a power of two */
		size &= size - 1;

	memset(vq, 0, sizeof(*vq));
	vq->dev = d;
	vq->index = (u16)q;
	vq->size = size;
	vq->event_idx = d->features & BIT(VIRTIO_F_EVENT_IDX);
	vq->indirect = d->features & BIT(VIRTIO_F_INDIRECT_DESC);
	/* 2.7: 16-byte descriptors, 2-byte avail and 4-byte used alignment;
	 * a page each keeps them apart. */
	vq->desc = alloc(16 * size, 4096);
	vq->avail = alloc(6 + 2 * size, 4096);
	vq->used = alloc(6 + 8 * size, 4096);
	if (vq->indirect)
		vq->itables = alloc(16 * VQ_INDIRECT_MAX * size, 16);
	vq_init(vq);

	mw16(d->common, VC_Q_SIZE, size);
	a = (uintptr_t)vq->desc;
	mw32(d->common, VC_Q_DESC, (u32)a);
	mw32(d->common, VC_Q_DESC + 4, (u32)(a >> 32));
	a = (uintptr_t)vq->avail;
	mw32(d->common, VC_Q_AVAIL, (u32)a);
	mw32(d->common, VC_Q_AVAIL + 4, (u32)(a >> 32));
	a = (uintptr_t)vq->used;
	mw32(d->common, VC_Q_USED, (u32)a);
	mw32(d->common, VC_Q_USED + 4, (u32)(a >> 32));
	vq->notify_off = mr16(d->common, VC_Q_NOFF);
	if (enable)
		mw16(d->common, VC_Q_ENABLE, 1);
	return vq;
}

void vdev_driver_ok(struct vdev *d)
{
	vdev_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
			   VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
}

/* 4.1.4.4: the doorbell is at notify_off * multiplier; write the index. */
void vdev_notify(struct vdev *d, u16 q, u16 notify_off)
{
	mw16(d->notify, (u32)notify_off * d->notify_mult, q);
}

#define LAPIC		((volatile u8 *)(uintptr_t)0xfee00000)
#define LAPIC_SVR	0xf0
#define LAPIC_IRR	0x200

/* Software-enable the local APIC, vector 0xff for spurious ones. */
void lapic_enable(void)
{
	mw32(LAPIC, LAPIC_SVR, mr32(LAPIC, LAPIC_SVR) | 0x1ff);
}

bool lapic_irr(u8 vector)
{
	return mr32(LAPIC, LAPIC_IRR + 0x10 * (vector / 32)) &
	       (1u << (vector % 32));
}

bool lapic_irr_wait(u8 vector, u64 ms)
{
	u64 dl = deadline(ms);

	while (!lapic_irr(vector) && !expired(dl))
		asm volatile("pause");
	return lapic_irr(vector);
}

void msix_entry(volatile u8 *table, int v, u32 addr, u32 data, u32 ctrl)
{
	mw32(table, 16 * v, addr);
	mw32(table, 16 * v + 4, 0);
	mw32(table, 16 * v + 8, data);
	mw32(table, 16 * v + 12, ctrl);
}
