/*
 * queue.c - split virtqueues (virtio 1.x, 2.7), served one thread each.
 *
 * The rings live in guest memory, which the guest may scribble on while
 * we read them.  So every index is read once, every descriptor is copied
 * before it is checked, and every buffer goes through guest_ptr(): a
 * hostile driver can break its own device, never the Launcher.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "seccomp-filter.h"
#include "virtio/virtio.h"


/* avail: flags, idx, ring[size], used_event.  used: flags, idx, then
 * (id, len) pairs, then avail_event.  Indices below are in u16 units. */
#define AVAIL_IDX	1
#define AVAIL_RING	2
#define USED_IDX	1

static inline void mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline u16 read16(volatile u16 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void write16(volatile u16 *p, u16 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* The three parts of the ring must lie in guest RAM, naturally aligned
 * (2.7: 16, 2 and 4 bytes). */
static bool map_rings(struct virtqueue *vq)
{
	struct vm *vm = vq->dev->vm;
	u64 n = vq->size;

	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
		virtio_broken(vq->dev, "queue %d: misaligned ring", vq->index);
		return false;
	}
	vq->desc = guest_ptr(vm, vq->desc_gpa, 16 * n);
	vq->avail = guest_ptr(vm, vq->avail_gpa, 6 + 2 * n);
	vq->used = guest_ptr(vm, vq->used_gpa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used) {
		virtio_broken(vq->dev, "queue %d: ring outside guest memory",
			      vq->index);
		return false;
	}
	return true;
}

static void notify_enable(struct virtqueue *vq, bool on)
{
	if (virtio_has(vq->dev, VIRTIO_F_EVENT_IDX)) {
		/* avail_event: kick us when you publish entry last_avail. */
		if (on)
			write16(&vq->used[2 + 4 * vq->size], vq->last_avail);
		return;
	}
	write16(&vq->used[0], on ? 0 : VRING_USED_F_NO_NOTIFY);
}

/*L:500 Does the driver want an interrupt for what we pushed?  With
 * EVENT_IDX it names the used index it wants to hear about (used_event);
 * we interrupt if we crossed it since the last interrupt. */
void vq_interrupt(struct virtqueue *vq)
{
	u16 old, new, event;
	bool want;

	if (!vq->need_irq)
		return;
	vq->need_irq = false;
	mb();
	if (virtio_has(vq->dev, VIRTIO_F_EVENT_IDX)) {
		old = vq->signalled_used;
		new = vq->used_idx;
		event = read16(&vq->avail[AVAIL_RING + vq->size]);
		vq->signalled_used = new;
		want = (u16)(new - event - 1) < (u16)(new - old);
	} else {
		want = !(read16(&vq->avail[0]) & VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (want)
		vq_notify(vq);
}

void vq_push(struct virtqueue *vq, int head, u32 len)
{
	volatile u32 *elem = (volatile u32 *)&vq->used[2] +
			     2 * (vq->used_idx % vq->size);

	elem[0] = head;
	elem[1] = len;
	/* The element must be visible before the index that publishes it. */
	vq->used_idx++;
	write16(&vq->used[USED_IDX], vq->used_idx);
	vq->need_irq = true;
}

/* Follow one chain.  Readable buffers first, then writable ones; at most
 * one level of indirection; never more links than the table has. */
static int walk(struct virtqueue *vq, u16 head, struct iovec *iov,
		unsigned *out, unsigned *in)
{
	struct virtio_dev *d = vq->dev;
	volatile struct vring_desc *table = vq->desc;
	unsigned max = vq->size, count = 0, i = head;
	bool indirect = false;
	struct vring_desc desc;

	*out = *in = 0;
	for (;;) {
		desc = table[i];	/* one copy: the guest may change it */

		if (desc.flags & VRING_DESC_F_INDIRECT) {
			if (!virtio_has(d, VIRTIO_F_INDIRECT_DESC))
				goto bad_indirect;
			if (indirect) {
				virtio_broken(d, "queue %d: nested indirect "
					      "descriptor table", vq->index);
				return -1;
			}
			if ((desc.flags & VRING_DESC_F_NEXT) || !desc.len ||
			    desc.len % 16 || desc.len / 16 > VQ_MAX_IOV)
				goto bad_indirect;
			table = guest_buf(d->vm, desc.addr, desc.len);
			if (!table || (desc.addr & 15))
				goto bad_indirect;
			indirect = true;
			max = desc.len / 16;
			count = 0;
			i = 0;
			continue;
		}
		if (++count > max || *out + *in >= VQ_MAX_IOV) {
			virtio_broken(d, "queue %d: descriptor loop at head %u",
				      vq->index, head);
			return -1;
		}
		iov->iov_base = guest_buf(d->vm, desc.addr, desc.len);
		iov->iov_len = desc.len;
		if (!iov->iov_base) {
			virtio_broken(d, "queue %d: buffer 0x%llx+%u outside "
				      "guest memory", vq->index,
				      (unsigned long long)desc.addr, desc.len);
			return -1;
		}
		iov++;
		if (desc.flags & VRING_DESC_F_WRITE) {
			(*in)++;
		} else if (*in) {
			virtio_broken(d, "queue %d: readable buffer after a "
				      "writable one", vq->index);
			return -1;
		} else {
			(*out)++;
		}
		if (!(desc.flags & VRING_DESC_F_NEXT))
			return head;
		i = desc.next;
		if (i >= max) {
			virtio_broken(d, "queue %d: next descriptor %u out of "
				      "range", vq->index, i);
			return -1;
		}
	}

bad_indirect:
	virtio_broken(d, "queue %d: bad indirect descriptor", vq->index);
	return -1;
}

/* 0: nothing waiting; 1: something; -1: the driver broke the ring. */
static int pending(struct virtqueue *vq)
{
	u16 idx = read16(&vq->avail[AVAIL_IDX]);
	u16 n = idx - vq->last_avail;

	if (n > vq->size) {
		virtio_broken(vq->dev, "queue %d: avail index jumped from %u "
			      "to %u", vq->index, vq->last_avail, idx);
		return -1;
	}
	return n != 0;
}

int vq_try_get(struct virtqueue *vq, struct iovec *iov, unsigned *out,
	       unsigned *in)
{
	u16 head;

	if (vq->stopping || pending(vq) <= 0)
		return -1;
	head = read16(&vq->avail[AVAIL_RING + vq->last_avail % vq->size]);
	vq->last_avail++;
	if (head >= vq->size) {
		virtio_broken(vq->dev, "queue %d: head %u out of range",
			      vq->index, head);
		return -1;
	}
	return walk(vq, head, iov, out, in);
}

void vq_wait_kick(struct virtqueue *vq)
{
	u64 n;

	while (read(vq->kick_fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
}

bool vq_may_sleep(struct virtqueue *vq)
{
	vq_interrupt(vq);
	notify_enable(vq, true);
	mb();
	if (vq->stopping || pending(vq)) {
		notify_enable(vq, false);
		return false;
	}
	return true;
}

void vq_woken(struct virtqueue *vq)
{
	notify_enable(vq, false);
}

/*L:510 lguest's wait_for_vq_desc(): take the next chain, or, if there is
 * none, interrupt the guest for what we did, ask for a kick, look once
 * more (the driver may have added one as we asked), and sleep. */
int vq_get(struct virtqueue *vq, struct iovec *iov, unsigned *out,
	   unsigned *in)
{
	int p;

	for (;;) {
		if (vq->stopping)
			return -1;
		p = pending(vq);
		if (p < 0)
			return -1;
		if (p)
			return vq_try_get(vq, iov, out, in);
		if (vq_may_sleep(vq)) {
			vq_wait_kick(vq);
			vq_woken(vq);
		}
	}
}

static void *vq_thread(void *arg)
{
	struct virtqueue *vq = arg;
	const char *dev = vq->dev->ops->name;
	char name[16];

	/* "blk-q1" in top -H, not the name of the vCPU that started it. */
	if (!strncmp(dev, "virtio-", 7))
		dev += 7;
	snprintf(name, sizeof(name), "%.8s-q%d", dev, vq->index);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	seccomp_install(THREAD_DEVICE);
	vq->dev->ops->service[vq->index](vq);
	vq_interrupt(vq);
	return NULL;
}

void vq_start(struct virtqueue *vq)
{
	if (vq->running || !vq->enabled)
		return;
	vq->stopping = false;
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	vq->need_irq = false;
	if (!map_rings(vq))
		return;
	notify_enable(vq, false);
	if (pthread_create(&vq->thread, NULL, vq_thread, vq))
		errx(EXIT_ERROR, "%s: cannot start a queue thread",
		     vq->dev->ops->name);
	vq->running = true;
}

void vq_stop(struct virtqueue *vq)
{
	u64 one = 1;

	if (!vq->running)
		return;
	vq->stopping = true;
	if (write(vq->kick_fd, &one, sizeof(one)) < 0)
		warn("%s: cannot wake a queue thread", vq->dev->ops->name);
	pthread_join(vq->thread, NULL);
	vq->running = false;
}
