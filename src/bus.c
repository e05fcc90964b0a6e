/*
 * bus.c - who answers a port or an MMIO address.
 *
 * A PC has few legacy chips, so a short table searched in order is all
 * the "bus" we need; the machine has one for ports and one for MMIO.
 * Virtqueue doorbells never come here: the kernel turns them into
 * eventfd signals (KVM_IOEVENTFD) without waking us.
 */
#include <string.h>

#include "lguest.h"

static void add(struct bus *b, u64 base, u64 len, void *fn, void *opaque)
{
	pthread_rwlock_wrlock(&b->lock);
	if (b->n == BUS_MAX_RANGES)
		errx(EXIT_ERROR, "too many %s ranges (at most %d)", b->name,
		     BUS_MAX_RANGES);
	b->range[b->n++] = (struct bus_range){ base, len, fn, opaque };
	pthread_rwlock_unlock(&b->lock);
}

void pio_register(struct vm *vm, u16 base, u16 count, pio_fn fn,
		  void *opaque)
{
	add(&vm->pio, base, count, (void *)fn, opaque);
}

void mmio_register(struct vm *vm, u64 base, u64 len, mmio_fn fn,
		   void *opaque)
{
	add(&vm->mmio, base, len, (void *)fn, opaque);
}

/* Who answers @addr on @b?  A copy, so the lock is not held meanwhile. */
static struct bus_range lookup(struct bus *b, u64 addr)
{
	struct bus_range r = { 0 };

	pthread_rwlock_rdlock(&b->lock);
	for (int i = 0; i < b->n; i++) {
		if (addr >= b->range[i].base &&
		    addr - b->range[i].base < b->range[i].len) {
			r = b->range[i];
			break;
		}
	}
	pthread_rwlock_unlock(&b->lock);
	return r;
}

/*L:030 Nobody home: reads float high, as on a real bus, and writes vanish.
 * A kernel probes many ports it does not need; that is not an error. */

/* Only the first few are logged: a guest that hammers an empty port
 * must not fill the log. */
#define UNHANDLED_LOGGED	32

static void nobody(struct vm *vm, const char *what, u64 addr, u8 *data,
		   int size, bool write)
{
	unsigned long n = __atomic_add_fetch(&vm->unhandled, 1,
					     __ATOMIC_RELAXED);

	if (!write)
		memset(data, 0xff, size);
	if (n <= UNHANDLED_LOGGED)
		verbose("unhandled %s %s 0x%llx size %d%s", what,
			write ? "write" : "read", (unsigned long long)addr,
			size, n == UNHANDLED_LOGGED ?
			" (more are counted, not logged)" : "");
}

unsigned long bus_unhandled(struct vm *vm)
{
	return __atomic_load_n(&vm->unhandled, __ATOMIC_RELAXED);
}

/*L:032 With several vCPUs, two may reach the same chip at once.  The
 * chips were written for one CPU and keep no locks: a guest's driver
 * serializes its own accesses, but a hostile or buggy one need not, so
 * every handler runs under the machine's I/O lock (struct vm).  Exits
 * to us are rare and short; the virtqueues' work, where the time goes,
 * never takes it. */
void pio_dispatch(struct vm *vm, u16 port, u8 *data, int size, bool write)
{
	struct bus_range r = lookup(&vm->pio, port);

	if (!r.fn) {
		nobody(vm, "port", port, data, size, write);
		return;
	}
	pthread_mutex_lock(&vm->io_lock);
	((pio_fn)r.fn)(r.opaque, port, data, size, write);
	pthread_mutex_unlock(&vm->io_lock);
}

void mmio_dispatch(struct vm *vm, u64 addr, u8 *data, int size, bool write)
{
	struct bus_range r = lookup(&vm->mmio, addr);

	if (!r.fn) {
		nobody(vm, "mmio", addr, data, size, write);
		return;
	}
	pthread_mutex_lock(&vm->io_lock);
	((mmio_fn)r.fn)(r.opaque, addr, data, size, write);
	pthread_mutex_unlock(&vm->io_lock);
}
