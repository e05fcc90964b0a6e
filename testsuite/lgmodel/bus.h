/*
 * bus.h - the lguest bus from the guest's side: the device page the
 * Launcher puts just above RAM, and legacy vrings (LGUEST_VRING_ALIGN
 * is a page) driven the way Linux's virtio_ring does.
 */
#ifndef LGMODEL_BUS_H
#define LGMODEL_BUS_H

#include "lgmodel.h"

#define MAX_DEVS	32
#define MAX_VQS		4
#define DESC_HEAD	5	/* type, num_vq, feature_len, config_len, status */
#define VQCONFIG_SIZE	8	/* u16 num, u16 irq, u32 pfn */

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4
#define VRING_USED_F_NO_NOTIFY	1

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct vring_used_elem {
	u32 id;
	u32 len;
};

/* One device descriptor in the device page. */
struct ldev {
	struct guest *g;
	unsigned long gpa;	/* of the descriptor */
	u8 *d;			/* the same, in our address space */
	int index;		/* its place in the page */
	u8 type, num_vq, feature_len, config_len;
};

struct vbuf {
	unsigned long gpa;
	u32 len;
	bool write;		/* the device writes it */
};

struct vq {
	struct guest *g;
	struct ldev *dev;
	int index;
	u16 num, irq;
	u32 pfn;
	unsigned long gpa, size;	/* the ring */
	volatile struct vring_desc *desc;
	volatile u16 *avail;		/* flags, idx, ring[num], used_event */
	volatile u16 *used;		/* flags, idx, then the elements */
	u16 free_head, num_free, avail_idx, last_used;
	u16 kicked_idx;			/* avail_idx at the last kick */
	bool event_idx, indirect;
	u16 chain[32768];		/* chains with the device, by head */
};

static inline u8 *ldev_vqconfig(const struct ldev *dev, int i)
{
	return dev->d + DESC_HEAD + VQCONFIG_SIZE * i;
}

static inline u8 *ldev_features(const struct ldev *dev)
{
	return ldev_vqconfig(dev, dev->num_vq);
}

static inline u8 *ldev_accepted(const struct ldev *dev)
{
	return ldev_features(dev) + dev->feature_len;
}

static inline u8 *ldev_config(const struct ldev *dev)
{
	return ldev_accepted(dev) + dev->feature_len;
}

static inline volatile struct vring_used_elem *vq_used_elem(struct vq *vq,
							    u16 i)
{
	return (volatile struct vring_used_elem *)(vq->used + 2) + i;
}

unsigned long vring_bytes(u16 num);
int bus_scan(struct guest *g, struct ldev *devs, int max);
struct ldev *bus_find(struct ldev *devs, int n, u8 type, int nth);
const char *dev_name(u8 type);
bool ldev_offers(const struct ldev *dev, int bit);
void ldev_set_status(struct ldev *dev, u8 status);
void ldev_accept(struct ldev *dev, u64 bits);
int vq_init(struct ldev *dev, int index, struct vq *vq);
u64 ldev_start(struct ldev *dev, u64 want, struct vq *vqs);
void ldev_reset(struct ldev *dev);
int vq_add(struct vq *vq, const struct vbuf *b, int n);
void vq_kick(struct vq *vq);
int vq_get(struct vq *vq, u32 *len);
int vq_wait(struct vq *vq, u32 *len);
bool vq_bound(struct vq *vq);

#endif
