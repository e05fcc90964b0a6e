/*
 * virtio.h - the test guest's PCI bus walk and its polling virtio-PCI
 * drivers (virtio 1.x: 4.1 for the transport, 2.7 for split rings).
 *
 * Nothing here takes an interrupt: the guest runs with IF clear, so a
 * driver submits, notifies and spins on used->idx with a time limit.
 * Memory is identity mapped, so a pointer is its own bus address.
 */
#ifndef TESTGUEST_VIRTIO_H
#define TESTGUEST_VIRTIO_H

#include "guest.h"
#include "virtio/spec.h"

/* pci.c: configuration mechanism #1, bus 0 function 0 only */
#define PCI_MAX_FNS		32
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x02
#define PCI_COMMAND_MASTER	0x04
#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_BAR0		0x10
#define PCI_CAP_PTR		0x34
#define PCI_CAP_VENDOR		0x09
#define PCI_CAP_MSIX		0x11

struct pci_fn {
	u8 slot;
	u16 vendor, device;
	u32 class;			/* class, subclass, prog-if */
};

extern struct pci_fn pci_fns[PCI_MAX_FNS];
extern int pci_nfns;

void pci_scan(void);			/* once; prints one line per device */
u32 pci_read(u8 slot, u8 off, int size);
void pci_write(u8 slot, u8 off, int size, u32 v);
u8 pci_cap_next(u8 slot, u8 after, u8 id);	/* after 0: from the start */
u32 pci_bar(u8 slot, int bar);		/* memory address, flags masked */
u32 pci_bar_size(u8 slot, int bar);
void pci_bar_move(u8 slot, int bar, u32 addr);
u32 pci_bar_ensure(u8 slot, int bar);	/* assigns an unassigned BAR */
void pci_enable(u8 slot);		/* memory decoding, bus master */

/* time.c: the TSC, calibrated against the ACPI PM timer */
static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (u64)hi << 32;
}
u64 tsc_per_ms(void);
u64 deadline(u64 ms);			/* a TSC value ms from now */
static inline bool expired(u64 dl)
{
	return rdtsc() > dl;
}
void delay_ms(u64 ms);

/* virtio.c: the PCI transport */
#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE(id)	(0x1040 + (id))


#define BIT(n)			(1ULL << (n))

/* virtio_pci_common_cfg (4.1.4.3) */
#define VC_DFSELECT		0x00	/* u32 device_feature_select */
#define VC_DF			0x04	/* u32 device_feature */
#define VC_GFSELECT		0x08	/* u32 driver_feature_select */
#define VC_GF			0x0c	/* u32 driver_feature */
#define VC_MSIX			0x10	/* u16 msix_config */
#define VC_NUMQ			0x12	/* u16 num_queues */
#define VC_STATUS		0x14	/* u8 device_status */
#define VC_CFGGEN		0x15	/* u8 config_generation */
#define VC_Q_SELECT		0x16	/* u16 */
#define VC_Q_SIZE		0x18	/* u16 */
#define VC_Q_MSIX		0x1a	/* u16 */
#define VC_Q_ENABLE		0x1c	/* u16 */
#define VC_Q_NOFF		0x1e	/* u16 queue_notify_off */
#define VC_Q_DESC		0x20	/* u64 */
#define VC_Q_AVAIL		0x28	/* u64 queue_driver */
#define VC_Q_USED		0x30	/* u64 queue_device */

#define VQ_MAX			9	/* queues per device we drive */
#define VQ_SIZE_MAX		256	/* our ring arrays' size */
#define VQ_INDIRECT_MAX		8	/* entries in one indirect table */


struct vring_avail {
	u16 flags;
	u16 idx;
	u16 ring[];			/* then used_event */
};

struct vring_used_elem {
	u32 id;
	u32 len;
};

struct vring_used {
	u16 flags;
	u16 idx;
	struct vring_used_elem ring[];	/* then avail_event */
};

struct vdev;

struct vq {
	struct vdev *dev;
	u16 index;
	u16 size;
	u16 notify_off;
	bool event_idx, indirect;
	struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	struct vring_desc *itables;	/* VQ_INDIRECT_MAX per head */
	u16 free_head, num_free;
	u16 avail_idx;			/* our copy of avail->idx */
	u16 kicked_idx;			/* avail_idx at the last notify */
	u16 last_used;
	u16 chain[VQ_SIZE_MAX];		/* descriptors a head took */
	void *cookie[VQ_SIZE_MAX];
};

/* A buffer of a chain: device-readable, or writable when in. */
struct vbuf {
	void *addr;
	u32 len;
	bool in;
};

/* Where one virtio structure lives: which BAR, where in it. */
struct vregion {
	u8 bar;
	u32 off, len;
};

struct vdev {
	u8 slot;
	u16 id;
	const char *name;		/* "blk" */
	struct vregion common_r, notify_r, isr_r, device_r;
	u32 notify_mult;
	u8 msix_cap;
	volatile u8 *common, *notify, *isr, *cfg;	/* mapped now */
	u64 offered, features;
	struct vq vq[VQ_MAX];
};

void *alloc(u64 size, u64 align);	/* zeroed; never freed */

struct vdev *vdev_find(u16 id, int n);	/* the n-th such device, or NULL */
void vdev_map(struct vdev *d);		/* (re)read the BARs */
void vdev_reset(struct vdev *d);
/* Reset, acknowledge and negotiate: VERSION_1 plus what of @want the
 * device offers.  Stops the guest when the device will not have it. */
void vdev_init(struct vdev *d, u64 want);
/* Select queue @q, give it min(@size, its maximum) entries (@size 0:
 * the maximum) and, if @enable, enable it. */
struct vq *vdev_queue(struct vdev *d, int q, u16 size, bool enable);
void vdev_driver_ok(struct vdev *d);
u8 vdev_status(struct vdev *d);
void vdev_set_status(struct vdev *d, u8 s);
u8 vdev_isr(struct vdev *d);
void vdev_notify(struct vdev *d, u16 q, u16 notify_off);
u64 vdev_want(void);			/* INDIRECT/EVENT_IDX per arguments */

/* MMIO accessors for the common and device configuration. */
static inline u8 mr8(volatile u8 *b, u32 off)
{
	return *(volatile u8 *)(b + off);
}

static inline u16 mr16(volatile u8 *b, u32 off)
{
	return *(volatile u16 *)(b + off);
}

static inline u32 mr32(volatile u8 *b, u32 off)
{
	return *(volatile u32 *)(b + off);
}

static inline void mw8(volatile u8 *b, u32 off, u8 v)
{
	*(volatile u8 *)(b + off) = v;
}

static inline void mw16(volatile u8 *b, u32 off, u16 v)
{
	*(volatile u16 *)(b + off) = v;
}

static inline void mw32(volatile u8 *b, u32 off, u32 v)
{
	*(volatile u32 *)(b + off) = v;
}

/* vring.c: split virtqueues */
static inline void mb(void)
{
	asm volatile("mfence" : : : "memory");
}

static inline void barrier(void)
{
	asm volatile("" : : : "memory");
}

void vq_init(struct vq *vq);		/* after the rings are allocated */
/* Add a chain of @n buffers (readable ones first); -1 if no room. */
int vq_add(struct vq *vq, const struct vbuf *b, int n, void *cookie);
void vq_kick(struct vq *vq);		/* notify, unless told not to */
void *vq_get(struct vq *vq, u32 *len);	/* a completed cookie, or NULL */
void *vq_wait(struct vq *vq, u32 *len);	/* the same, or timeout: fails */
/* Put @head in the avail ring as is, with no checks (hostile). */
void vq_publish(struct vq *vq, u16 head);

/* virtio.c: MSI-X and the local APIC.  With IF clear a delivered
 * vector stays pending in the APIC's IRR, which is how we see it. */
#define MSI_ADDR(apic)	(0xfee00000u | (u32)(apic) << 12)
void lapic_enable(void);
bool lapic_irr(u8 vector);
bool lapic_irr_wait(u8 vector, u64 ms);	/* pending within @ms? */
void msix_entry(volatile u8 *table, int v, u32 addr, u32 data, u32 ctrl);

/* virtio.c */
noreturn void fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* vblk.c, for the multi and hostile scenarios */

struct blk_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

struct vdev *blk_open(int n, u64 want);	/* found, initialised, DRIVER_OK */
u64 blk_capacity(struct vdev *d);
u8 blk_rw(struct vdev *d, u32 type, u64 sector, void *buf, u32 len);

/* vnet.c, for the multi scenario */
void net_mac(struct vdev *d, u8 mac[6]);

#endif
