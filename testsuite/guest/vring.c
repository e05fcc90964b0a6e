/*
 * vring.c - split virtqueues (virtio 1.x, 2.7) from the driver's side,
 * polled: add chains, publish them, ring the doorbell only when the
 * device wants it (each ring is an exit), spin on used->idx.
 */
#include "virtio.h"

#define WAIT_MS		5000	/* how long a request may take */

static volatile u16 *used_event(struct vq *vq)
{
	return &vq->avail->ring[vq->size];
}

static volatile u16 *avail_event(struct vq *vq)
{
	return (volatile u16 *)&vq->used->ring[vq->size];
}

void vq_init(struct vq *vq)
{
	for (u16 i = 0; i + 1 < vq->size; i++)
		vq->desc[i].next = i + 1;
	vq->free_head = 0;
	vq->num_free = vq->size;
}

/* The entries a head takes go back on the free list. */
static void free_chain(struct vq *vq, u16 head)
{
	u16 i = head, n = vq->chain[head];

	while (--n)
		i = vq->desc[i].next;
	vq->desc[i].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += vq->chain[head];
}

static void fill(struct vring_desc *d, const struct vbuf *b, u16 flags)
{
	d->addr = (uintptr_t)b->addr;
	d->len = b->len;
	d->flags = flags | (b->in ? VRING_DESC_F_WRITE : 0);
}

void vq_publish(struct vq *vq, u16 head)
{
	vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
	barrier();		/* x86 keeps stores in order; gcc must too */
	vq->avail->idx = ++vq->avail_idx;
}

int vq_add(struct vq *vq, const struct vbuf *b, int n, void *cookie)
{
	u16 head = vq->free_head, i = head;

	/* Several buffers in one descriptor, when the device takes that. */
	if (vq->indirect && n > 1 && n <= VQ_INDIRECT_MAX && vq->num_free) {
		struct vring_desc *t = &vq->itables[head * VQ_INDIRECT_MAX];

		for (int k = 0; k < n; k++) {
			fill(&t[k], &b[k], k + 1 < n ? VRING_DESC_F_NEXT : 0);
			t[k].next = (u16)(k + 1);
		}
		vq->desc[head].addr = (uintptr_t)t;
		vq->desc[head].len = 16 * n;
		vq->desc[head].flags = VRING_DESC_F_INDIRECT;
		vq->free_head = vq->desc[head].next;
		vq->num_free--;
		vq->chain[head] = 1;
		goto publish;
	}
	if (n < 1 || vq->num_free < n)
		return -1;
	for (int k = 0; k < n; k++) {
		fill(&vq->desc[i], &b[k], k + 1 < n ? VRING_DESC_F_NEXT : 0);
		if (k + 1 < n)
			i = vq->desc[i].next;
	}
	vq->free_head = vq->desc[i].next;
	vq->num_free -= n;
	vq->chain[head] = (u16)n;
publish:
	vq->cookie[head] = cookie;
	vq_publish(vq, head);
	return head;
}

/* 2.7.10 and 2.7.7.2: with EVENT_IDX, ring only if the device's
 * avail_event lies in what we added since the last ring. */
void vq_kick(struct vq *vq)
{
	u16 old = vq->kicked_idx, new = vq->avail_idx;
	bool ring;

	if (new == old)		/* nothing new: a doorbell would be wasted */
		return;
	if (vq->event_idx)	/* interrupt (were we to take them) at the end */
		*used_event(vq) = (u16)(new - 1);
	mb();			/* idx out before we look at the device's flags */
	if (vq->event_idx) {
		u16 ev = *avail_event(vq);

		ring = (u16)(new - ev - 1) < (u16)(new - old);
	} else {
		ring = !(vq->used->flags & VRING_USED_F_NO_NOTIFY);
	}
	vq->kicked_idx = new;
	if (ring)
		vdev_notify(vq->dev, vq->index, vq->notify_off);
}

void *vq_get(struct vq *vq, u32 *len)
{
	volatile struct vring_used_elem *e;
	u16 id;
	void *c;

	if (vq->used->idx == vq->last_used)
		return NULL;
	barrier();		/* the element after the index */
	e = &vq->used->ring[vq->last_used & (vq->size - 1)];
	id = (u16)e->id;
	if (len)
		*len = e->len;
	if (id >= vq->size || !vq->chain[id])
		fail("virtio: 00:%02x.0 queue %u: bad used id %u",
		     vq->dev->slot, vq->index, id);
	vq->last_used++;
	c = vq->cookie[id];
	free_chain(vq, id);
	vq->chain[id] = 0;
	return c;
}

void *vq_wait(struct vq *vq, u32 *len)
{
	u64 dl = deadline(WAIT_MS);
	void *c;

	while (!(c = vq_get(vq, len))) {
		if (expired(dl)) {
			printf("virtio: timeout\n");
			fail("00:%02x.0 %s queue %u: no answer in %u ms",
			     vq->dev->slot, vq->dev->name, vq->index, WAIT_MS);
		}
		asm volatile("pause");
	}
	return c;
}
