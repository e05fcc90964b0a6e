/*
 * hostile.c - a guest that breaks the rules, one way per run
 * (LGMODEL_CASE), then shows the Launcher is still there: another
 * device still answers and the guest powers off.  The Launcher may
 * refuse what it is given, break the device, say so once; it may not
 * die, hang, flood its log, or touch memory outside what the guest
 * gave it.  Memory it must leave alone is compared before and after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bootparam.h"
#include "bus.h"

static struct ldev devs[MAX_DEVS];
static int ndevs;
static struct vq vqs[MAX_DEVS][MAX_VQS];

/* A copy of memory that must not change, and where it was. */
struct guard {
	const u8 *at;
	unsigned long len;
	u8 *copy;
};

/* Copy @len bytes at @at, if they can be read: what lies past guest
 * memory may be a guard page, which a plain read would fault on. */
static bool peek(void *to, const void *at, unsigned long len)
{
	struct iovec local = { to, len }, remote = { (void *)at, len };

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
	       (ssize_t)len;
}

static void guard(struct guard *gd, const void *at, unsigned long len)
{
	gd->at = at;
	gd->len = len;
	gd->copy = malloc(len);
	if (gd->copy && !peek(gd->copy, at, len)) {
		free(gd->copy);
		gd->copy = NULL;
	}
}

static void unguard(struct guard *gd, const char *what)
{
	u8 *now = gd->copy ? malloc(gd->len) : NULL;
	unsigned long i = 0;

	if (now && peek(now, gd->at, gd->len)) {
		while (i < gd->len && now[i] == gd->copy[i])
			i++;
		check(i == gd->len, "hostile: the Launcher wrote to %s (at "
		      "byte %lu: %#x, was %#x)", what, i, now[i], gd->copy[i]);
	}
	free(now);
	free(gd->copy);
}

/* The page just past pfn_limit: the Launcher's, whatever it is. */
static const u8 *past_limit(struct guest *g)
{
	return g->mem + g->limit;
}

static struct ldev *dev_of(struct guest *g, u8 type, bool startit)
{
	struct ldev *dev = bus_find(devs, ndevs, type, 0);

	if (!dev) {
		fail("hostile: no %s device", dev_name(type));
		finish(g);
	}
	if (startit && !vqs[dev->index][0].g)
		ldev_start(dev, 0, vqs[dev->index]);
	return dev;
}

/* Put a raw chain of descriptors on @vq as they are, and kick. */
static void raw_chain(struct vq *vq, const struct vring_desc *d, int n)
{
	u16 head = vq->free_head;

	for (int i = 0; i < n; i++) {
		vq->desc[(head + i) % vq->num].addr = d[i].addr;
		vq->desc[(head + i) % vq->num].len = d[i].len;
		vq->desc[(head + i) % vq->num].flags = d[i].flags;
		vq->desc[(head + i) % vq->num].next = d[i].next;
	}
	vq->avail[2 + (vq->avail_idx & (vq->num - 1))] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->avail[1] = ++vq->avail_idx;
	notify(vq->g, vq->gpa);
}

/* Did the used ring move within @ms?  Whatever did is taken. */
static bool raw_wait(struct vq *vq, int ms)
{
	u64 end = now_ms() + ms;

	while (vq->used[1] == vq->last_used && now_ms() < end)
		wait_irq(vq->g, 1U << vq->irq, 20);
	if (vq->used[1] == vq->last_used)
		return false;
	vq->last_used = vq->used[1];
	return true;
}

/* Still alive: a device the case left alone (the entropy source, or
 * if it was the one abused, the console) takes a buffer. */
static void still_alive(struct guest *g, u8 abused)
{
	u8 type = abused == VIRTIO_ID_RNG ? VIRTIO_ID_CONSOLE : VIRTIO_ID_RNG;
	struct ldev *dev = bus_find(devs, ndevs, type, 0);
	static const char text[] = "lgmodel-console: still here\n";
	struct vbuf b = { galloc(g, 64, 16), 16, true };
	struct vq *vq;
	u32 len;

	if (!dev) {
		fail("hostile: no %s device to show the Launcher is alive",
		     dev_name(type));
		return;
	}
	if (!vqs[dev->index][0].g)
		ldev_start(dev, 0, vqs[dev->index]);
	vq = &vqs[dev->index][type == VIRTIO_ID_CONSOLE ? 1 : 0];
	if (type == VIRTIO_ID_CONSOLE) {
		b = (struct vbuf){ b.gpa, sizeof(text) - 1, false };
		memcpy(g->mem + b.gpa, text, b.len);
	}
	vq_add(vq, &b, 1);
	vq_kick(vq);
	if (vq_wait(vq, &len) >= 0)
		say("hostile: the %s still answers", dev_name(type));
}

/* A block request whose data buffer is @addr, @len; the ring is left
 * with it whatever the Launcher does. */
static void blk_bad_data(struct guest *g, unsigned long addr, u32 len)
{
	struct vq *vq = &vqs[dev_of(g, VIRTIO_ID_BLOCK, true)->index][0];
	unsigned long hdr = galloc(g, 16, 16), st = galloc(g, 1, 1);
	struct vring_desc d[3] = {
		{ hdr, 16, VRING_DESC_F_NEXT, (vq->free_head + 1) % vq->num },
		{ addr, len, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		  (vq->free_head + 2) % vq->num },
		{ st, 1, VRING_DESC_F_WRITE, 0 },
	};

	g->mem[st] = 0xff;	/* a read (type 0) of sector 0 */
	raw_chain(vq, d, 3);
	if (raw_wait(vq, 500))
		check(g->mem[st] != BLK_S_OK, "hostile: a read into %#lx "
		      "(%u bytes) said OK", addr, len);
}

static u8 case_blk_outside(struct guest *g)
{
	struct guard dp, tail;

	/* Started first: the guard is for the Launcher's writes. */
	dev_of(g, VIRTIO_ID_BLOCK, true);
	/* Into the device page, past the descriptors. */
	guard(&dp, g->mem + g->ram, PAGE);
	blk_bad_data(g, g->ram + PAGE - 512, 512);
	unguard(&dp, "the device page");
	/* Past pfn_limit, straddling it, and at the top of the space. */
	guard(&tail, past_limit(g), PAGE);
	blk_bad_data(g, g->limit, 512);
	blk_bad_data(g, g->limit - 256, 512);
	blk_bad_data(g, ~0UL - 255, 512);
	unguard(&tail, "the page past pfn_limit");
	return VIRTIO_ID_BLOCK;
}

/* One buffer for the entropy source to fill; what became of it. */
static void rng_into(struct vq *vq, unsigned long addr, u32 len,
		     const char *what)
{
	struct vring_desc d = { addr, len, VRING_DESC_F_WRITE, 0 };

	raw_chain(vq, &d, 1);
	say("hostile: rng buffer %s: %s", what,
	    raw_wait(vq, 500) ? "used" : "not used");
}

/* The entropy source told to fill the device page, what lies past
 * pfn_limit, and 4 GiB - 1 from near the end of RAM. */
static u8 case_rng_outside(struct guest *g)
{
	struct vq *vq = &vqs[dev_of(g, VIRTIO_ID_RNG, true)->index][0];
	struct guard dp, tail, descs;

	guard(&dp, g->mem + g->ram, PAGE);
	guard(&tail, past_limit(g), PAGE);
	/* raw_chain() writes the first descriptor only. */
	guard(&descs, (const u8 *)vq->desc + 16, 16UL * (vq->num - 1));
	rng_into(vq, g->ram + PAGE - 64, 64, "in the device page");
	rng_into(vq, g->limit - 16, 64, "across pfn_limit");
	rng_into(vq, g->ram - 64, 0xffffffff, "of 4 GiB");
	unguard(&dp, "the device page");
	unguard(&tail, "the page past pfn_limit");
	unguard(&descs, "the rng's descriptor table");
	return VIRTIO_ID_RNG;
}

/* The console told to print from outside RAM. */
static u8 case_console_outside(struct guest *g)
{
	struct vq *vq = &vqs[dev_of(g, VIRTIO_ID_CONSOLE, true)->index][1];
	struct vring_desc d = { g->limit + PAGE, 64, 0, 0 };

	raw_chain(vq, &d, 1);
	d = (struct vring_desc){ g->limit - 8, 64, 0, 0 };
	raw_chain(vq, &d, 1);
	raw_wait(vq, 500);
	return VIRTIO_ID_CONSOLE;
}

/* A chain that loops. */
static u8 case_loop(struct guest *g)
{
	struct vq *vq = &vqs[dev_of(g, VIRTIO_ID_RNG, true)->index][0];
	struct vring_desc d = { galloc(g, 64, 16), 64,
				VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0 };

	raw_chain(vq, &d, 1);
	raw_wait(vq, 500);
	return VIRTIO_ID_RNG;
}

/* Indirect tables: outside RAM, empty, nested, a length not a whole
 * number of descriptors. */
static u8 case_indirect(struct guest *g)
{
	struct ldev *dev = dev_of(g, VIRTIO_ID_RNG, false);
	struct vq *vq = &vqs[dev->index][0];
	unsigned long t = galloc(g, 32, 16);
	struct vring_desc *td = gp(g, t, 32), d;

	ldev_start(dev, 1ULL << F_RING_INDIRECT_DESC, vqs[dev->index]);
	d = (struct vring_desc){ g->limit + PAGE, 32, VRING_DESC_F_INDIRECT, 0 };
	raw_chain(vq, &d, 1);
	d = (struct vring_desc){ t, 0, VRING_DESC_F_INDIRECT, 0 };
	raw_chain(vq, &d, 1);
	td[0] = (struct vring_desc){ t, 32, VRING_DESC_F_INDIRECT, 0 };
	d = (struct vring_desc){ t, 16, VRING_DESC_F_INDIRECT, 0 };
	raw_chain(vq, &d, 1);
	d = (struct vring_desc){ t, 17, VRING_DESC_F_INDIRECT, 0 };
	raw_chain(vq, &d, 1);
	raw_wait(vq, 500);
	return VIRTIO_ID_RNG;
}

/* avail->idx far ahead of what was put there. */
static u8 case_avail_jump(struct guest *g)
{
	struct vq *vq = &vqs[dev_of(g, VIRTIO_ID_RNG, true)->index][0];

	vq->avail[1] += 20000;
	notify(g, vq->gpa);
	raw_wait(vq, 500);
	return VIRTIO_ID_RNG;
}

/* Notifications that are nobody's: in the device page but not a
 * descriptor, past pfn_limit, at the top of the address space; then
 * one of them, again and again: a line each would be a flood. */
static u8 case_notify(struct guest *g)
{
	unsigned long at[] = { g->ram + 3, g->ram + PAGE - 1, g->limit,
			       g->limit + 64 * PAGE, ~0UL, ~0UL & ~(PAGE - 1) };
	int flood = env_num("LGMODEL_FLOOD", 2000);

	for (size_t i = 0; i < ARRAY_SIZE(at); i++)
		notify(g, at[i]);
	for (int i = 0; i < flood; i++)
		notify(g, g->ram + 5);
	say("hostile: %zu odd addresses and %d repeats notified",
	    ARRAY_SIZE(at), flood);
	return 0;
}

/* The early console given a string with no end before RAM's. */
static u8 case_early_unterminated(struct guest *g)
{
	memset(g->mem + g->ram - 64, 'U', 64);
	notify(g, g->ram - 64);
	return 0;
}

/* The device page rewritten behind the Launcher's back: a running
 * queue's size and ring, then lengths that reach far past the page,
 * with status changes for it to read them by. */
static u8 case_page_rewrite(struct guest *g)
{
	struct ldev *dev = dev_of(g, VIRTIO_ID_RNG, true);
	u8 *c = ldev_vqconfig(dev, 0);
	u8 lens[3] = { dev->d[1], dev->d[2], dev->d[3] };
	u16 num;

	memcpy(&num, c, 2);
	c[0] = (u8)(num * 2);
	c[1] = (u8)((num * 2) >> 8);
	c[4] ^= 0x10;
	dev->d[1] = 255;
	dev->d[2] = 255;
	dev->d[3] = 255;
	ldev_set_status(dev, STATUS_ACKNOWLEDGE | STATUS_DRIVER |
			STATUS_DRIVER_OK | STATUS_FAILED);
	ldev_set_status(dev, STATUS_ACKNOWLEDGE);
	memcpy(dev->d + 1, lens, 3);
	c[0] = (u8)num;
	c[1] = (u8)(num >> 8);
	c[4] ^= 0x10;
	return VIRTIO_ID_RNG;
}

/* A running queue's size and ring changed in the device page: the
 * Launcher goes on with what it read at DRIVER_OK, so a request made
 * the old way is served. */
static u8 case_num_change(struct guest *g)
{
	struct ldev *dev = dev_of(g, VIRTIO_ID_RNG, true);
	struct vq *vq = &vqs[dev->index][0];
	u8 *c = ldev_vqconfig(dev, 0), saved[8];
	struct vbuf b = { galloc(g, 16, 16), 16, true };
	u16 half = vq->num / 2;
	u32 pfn = vq->pfn + 1, len;

	memcpy(saved, c, 8);
	memcpy(c, &half, 2);
	memcpy(c + 4, &pfn, 4);
	vq_add(vq, &b, 1);
	vq_kick(vq);
	if (vq_wait(vq, &len) >= 0)
		say("hostile: the queue kept its first size and ring");
	memcpy(c, saved, 8);
	return VIRTIO_ID_RNG;
}

/* A kick before any status, DRIVER_OK alone, features after it. */
static u8 case_status_order(struct guest *g)
{
	struct ldev *dev = dev_of(g, VIRTIO_ID_RNG, false);
	struct vq vq;

	if (vq_init(dev, 0, &vq) == 0)
		notify(g, vq.gpa);
	ldev_set_status(dev, STATUS_DRIVER_OK);
	ldev_accept(dev, ~0ULL);
	ldev_set_status(dev, STATUS_DRIVER_OK | STATUS_DRIVER);
	return VIRTIO_ID_RNG;
}

static const struct {
	const char *name;
	u8 (*run)(struct guest *g);	/* the type of the device abused */
} cases[] = {
	{ "blk-outside", case_blk_outside },
	{ "rng-outside", case_rng_outside },
	{ "console-outside", case_console_outside },
	{ "loop", case_loop },
	{ "indirect", case_indirect },
	{ "avail-jump", case_avail_jump },
	{ "notify", case_notify },
	{ "early-unterminated", case_early_unterminated },
	{ "page-rewrite", case_page_rewrite },
	{ "status-order", case_status_order },
	{ "num-change", case_num_change },
};

void scen_hostile(struct guest *g)
{
	const char *name = env_str("LGMODEL_CASE", "");

	ndevs = bus_scan(g, devs, MAX_DEVS);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (strcmp(cases[i].name, name))
			continue;
		say("hostile: %s", name);
		still_alive(g, cases[i].run(g));
		return;
	}
	fail("hostile: no such case '%s'", name);
}
