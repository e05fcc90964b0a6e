/*
 * bus.c - the guest's driver for the lguest bus (drivers/lguest/
 * lguest_device.c in Linux) and for legacy vrings.
 *
 * Every status change is written to the descriptor's status byte and
 * told to the Launcher with LHCALL_NOTIFY of the descriptor's address;
 * a queue is kicked with LHCALL_NOTIFY of its ring's address.  The
 * Launcher's answers come in the used rings, and with interrupts.
 */
#include <string.h>

#include "bootparam.h"
#include "bus.h"

#define POLL_MS		20	/* a look at the used ring at least this often */

#define mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)

unsigned long vring_bytes(u16 num)
{
	unsigned long used = (16UL * num + 2 * (3 + num) + PAGE - 1) &
			     ~(PAGE - 1);

	return used + 6 + 8UL * num;
}

const char *dev_name(u8 type)
{
	switch (type) {
	case VIRTIO_ID_NET:
		return "net";
	case VIRTIO_ID_BLOCK:
		return "block";
	case VIRTIO_ID_CONSOLE:
		return "console";
	case VIRTIO_ID_RNG:
		return "rng";
	default:
		return "unknown";
	}
}

/* The descriptors in the device page, up to the first of type 0.  One
 * that does not fit in the page ends the walk, with a line. */
int bus_scan(struct guest *g, struct ldev *devs, int max)
{
	u8 *page = gp(g, g->ram, PAGE);
	unsigned long off = 0;
	int n = 0;

	if (!page) {
		fail("the device page at %#lx is beyond pfn_limit (%#lx bytes)",
		     g->ram, g->limit);
		return 0;
	}
	while (off + DESC_HEAD <= PAGE && page[off]) {
		struct ldev *dev = &devs[n];
		unsigned long size;

		if (n == max) {
			fail("more than %d devices", max);
			break;
		}
		memset(dev, 0, sizeof(*dev));
		dev->g = g;
		dev->gpa = g->ram + off;
		dev->d = page + off;
		dev->index = n;
		dev->type = page[off];
		dev->num_vq = page[off + 1];
		dev->feature_len = page[off + 2];
		dev->config_len = page[off + 3];
		size = DESC_HEAD + VQCONFIG_SIZE * dev->num_vq +
		       2 * dev->feature_len + dev->config_len;
		if (off + size > PAGE) {
			fail("device %d (%s) at offset %lu: %lu bytes go past "
			     "the device page", n, dev_name(dev->type), off,
			     size);
			break;
		}
		off += size;
		n++;
	}
	return n;
}

struct ldev *bus_find(struct ldev *devs, int n, u8 type, int nth)
{
	for (int i = 0; i < n; i++)
		if (devs[i].type == type && nth-- == 0)
			return &devs[i];
	return NULL;
}

bool ldev_offers(const struct ldev *dev, int bit)
{
	return bit / 8 < dev->feature_len &&
	       (ldev_features(dev)[bit / 8] & (1 << (bit % 8)));
}

void ldev_set_status(struct ldev *dev, u8 status)
{
	dev->d[4] = status;
	wmb();
	notify(dev->g, dev->gpa);
}

/* The second half of the feature bitmap: what the driver takes. */
void ldev_accept(struct ldev *dev, u64 bits)
{
	u8 *acc = ldev_accepted(dev);

	memset(acc, 0, dev->feature_len);
	for (int i = 0; i < 64 && i / 8 < dev->feature_len; i++)
		if ((bits >> i) & 1)
			acc[i / 8] |= 1 << (i % 8);
}

/* Queue @index of @dev, from its lguest_vqconfig: the ring must be a
 * power of two long, whole above the device page and below pfn_limit. */
int vq_init(struct ldev *dev, int index, struct vq *vq)
{
	struct guest *g = dev->g;
	const u8 *c = ldev_vqconfig(dev, index);
	u8 *ring;

	memset(vq, 0, offsetof(struct vq, chain));
	vq->g = g;
	vq->dev = dev;
	vq->index = index;
	memcpy(&vq->num, c, 2);
	memcpy(&vq->irq, c + 2, 2);
	memcpy(&vq->pfn, c + 4, 4);
	vq->gpa = (unsigned long)vq->pfn * PAGE;
	vq->size = vring_bytes(vq->num);
	if (!vq->num || (vq->num & (vq->num - 1)) || vq->num > 32768) {
		fail("%s queue %d: size %u is not a power of two up to 32768",
		     dev_name(dev->type), index, vq->num);
		return -1;
	}
	if (!vq->irq || vq->irq >= LGUEST_IRQS) {
		fail("%s queue %d: interrupt %u is not one of 1 to 31",
		     dev_name(dev->type), index, vq->irq);
		return -1;
	}
	ring = gp(g, vq->gpa, vq->size);
	if (!ring || vq->gpa < g->ram + PAGE || vq->gpa / PAGE != vq->pfn) {
		fail("%s queue %d: ring at pfn %#x (%lu bytes) is not between "
		     "the device page and pfn_limit %#lx", dev_name(dev->type),
		     index, vq->pfn, vq->size, g->limit / PAGE);
		return -1;
	}
	vq->desc = (volatile struct vring_desc *)ring;
	vq->avail = (volatile u16 *)(ring + 16UL * vq->num);
	vq->used = (volatile u16 *)(ring + ((16UL * vq->num +
					      2 * (3 + vq->num) + PAGE - 1) &
					     ~(PAGE - 1)));
	for (u16 i = 0; i + 1 < vq->num; i++)
		vq->desc[i].next = i + 1;
	vq->num_free = vq->num;
	/* Linux starts both indices at 0 without looking: the Launcher
	 * hands over clean rings, and cleans them again on a reset. */
	if (vq->avail[1] || vq->used[1])
		fail("%s queue %d: the ring is not clean (avail idx %u, "
		     "used idx %u)", dev_name(dev->type), index, vq->avail[1],
		     vq->used[1]);
	vq->avail[0] = 0;
	vq->avail[1] = 0;
	return 0;
}

/* ACKNOWLEDGE, DRIVER, the features, DRIVER_OK: each step told to the
 * Launcher.  The features taken are @want's that are offered. */
u64 ldev_start(struct ldev *dev, u64 want, struct vq *vqs)
{
	u64 take = 0;

	ldev_set_status(dev, STATUS_ACKNOWLEDGE);
	ldev_set_status(dev, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	for (int i = 0; i < 64; i++)
		if (((want >> i) & 1) && ldev_offers(dev, i))
			take |= 1ULL << i;
	ldev_accept(dev, take);
	for (int i = 0; vqs && i < dev->num_vq && i < MAX_VQS; i++) {
		if (vq_init(dev, i, &vqs[i]) < 0)
			continue;
		vqs[i].event_idx = (take >> F_RING_EVENT_IDX) & 1;
		vqs[i].indirect = (take >> F_RING_INDIRECT_DESC) & 1;
	}
	ldev_set_status(dev, STATUS_ACKNOWLEDGE | STATUS_DRIVER |
			STATUS_DRIVER_OK);
	return take;
}

void ldev_reset(struct ldev *dev)
{
	ldev_set_status(dev, 0);
}

static void fill(volatile struct vring_desc *d, const struct vbuf *b,
		 bool more, u16 next)
{
	d->addr = b->gpa;
	d->len = b->len;
	d->flags = (b->write ? VRING_DESC_F_WRITE : 0) |
		   (more ? VRING_DESC_F_NEXT : 0);
	d->next = next;
}

/* A chain of @n buffers, through an indirect table when that was
 * negotiated and there is more than one; the head, or -1. */
int vq_add(struct vq *vq, const struct vbuf *b, int n)
{
	u16 head = vq->free_head, i = head;

	if (n < 1 || !vq->num_free || (!vq->indirect && vq->num_free < n))
		return -1;
	if (vq->indirect && n > 1) {
		unsigned long t = galloc(vq->g, 16UL * n, 16);
		volatile struct vring_desc *td = gp(vq->g, t, 16UL * n);

		for (int k = 0; k < n; k++)
			fill(&td[k], &b[k], k + 1 < n, k + 1);
		vq->desc[head].addr = t;
		vq->desc[head].len = 16 * n;
		vq->desc[head].flags = VRING_DESC_F_INDIRECT;
		vq->free_head = vq->desc[head].next;
		vq->num_free--;
		vq->chain[head] = 1;
	} else {
		for (int k = 0; k < n; k++) {
			u16 next = vq->desc[i].next;

			fill(&vq->desc[i], &b[k], k + 1 < n, next);
			if (k + 1 < n)
				i = next;
		}
		vq->free_head = vq->desc[i].next;
		vq->num_free -= n;
		vq->chain[head] = n;
	}
	vq->avail[2 + (vq->avail_idx & (vq->num - 1))] = head;
	wmb();
	vq->avail[1] = ++vq->avail_idx;
	return head;
}

/* Kick unless the device said it needs none. */
void vq_kick(struct vq *vq)
{
	bool kick;

	mb();
	if (vq->event_idx) {
		u16 ev = *(volatile u16 *)vq_used_elem(vq, vq->num);
		u16 new = vq->avail_idx, old = vq->kicked_idx;

		/* Kick if the device's avail_event is among the entries
		 * added since the last kick. */
		kick = (u16)(new - ev - 1) < (u16)(new - old);
	} else {
		kick = !(vq->used[0] & VRING_USED_F_NO_NOTIFY);
	}
	vq->kicked_idx = vq->avail_idx;
	if (kick)
		notify(vq->g, vq->gpa);
}

/* A used chain's descriptors go back on the free list, found by their
 * NEXT flags, as Linux's detach_buf() finds them. */
static void free_chain(struct vq *vq, u16 head)
{
	u16 last = head;

	vq->num_free++;
	while (vq->desc[last].flags & VRING_DESC_F_NEXT) {
		last = vq->desc[last].next;
		vq->num_free++;
	}
	vq->desc[last].next = vq->free_head;
	vq->free_head = head;
	vq->chain[head] = 0;
}

/* The next used element: its head (its length in @len), or -1. */
int vq_get(struct vq *vq, u32 *len)
{
	volatile struct vring_used_elem *e;
	u32 id;

	if (vq->used[1] == vq->last_used)
		return -1;
	rmb();
	e = vq_used_elem(vq, vq->last_used & (vq->num - 1));
	id = e->id;
	*len = e->len;
	vq->last_used++;
	/* Interrupt us for the next one. */
	vq->avail[2 + vq->num] = vq->last_used;
	if (id >= vq->num || !vq->chain[id]) {
		fail("%s queue %d: used element %u is not a head we gave",
		     dev_name(vq->dev->type), vq->index, id);
		return -1;
	}
	free_chain(vq, id);
	return id;
}

/* Wait for the next used element, looking at the ring whenever the
 * queue's interrupt comes and at least every POLL_MS. */
int vq_wait(struct vq *vq, u32 *len)
{
	u64 end = now_ms() + vq->g->timeout_ms;
	int id;

	for (;;) {
		id = vq_get(vq, len);
		if (id >= 0)
			return id;
		if (now_ms() > end)
			break;
		wait_irq(vq->g, 1U << vq->irq, POLL_MS);
	}
	fail("%s queue %d: nothing used within %d ms",
	     dev_name(vq->dev->type), vq->index, vq->g->timeout_ms);
	return -1;
}

/* Did the Launcher bind the queue's address to an eventfd? */
bool vq_bound(struct vq *vq)
{
	struct lgm *m = vq->g->m;
	int n = __atomic_load_n(&m->nev, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++)
		if (__atomic_load_n(&m->ev[i].addr, __ATOMIC_RELAXED) == vq->gpa)
			return true;
	return false;
}
