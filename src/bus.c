/*
 * bus.c - who answers a port or an MMIO address.
 *
 * A PC has few legacy chips, so a short table searched in order is all
 * the "bus" we need.  Virtqueue doorbells never come here: the kernel
 * turns them into eventfd signals (KVM_IOEVENTFD) without waking us.
 */
#include <pthread.h>
#include <string.h>

#include "lguest.h"

#define MAX_RANGES 64

struct range {
	u64 base, len;
	void *fn;
	void *opaque;
};

static struct range pio[MAX_RANGES], mmio[MAX_RANGES];
static int npio, nmmio;
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

static void add(struct range *t, int *n, u64 base, u64 len, void *fn,
		void *opaque)
{
	pthread_rwlock_wrlock(&lock);
	if (*n == MAX_RANGES)
		errx(EXIT_ERROR, "too many I/O ranges (at most %d)", MAX_RANGES);
	t[(*n)++] = (struct range){ base, len, fn, opaque };
	pthread_rwlock_unlock(&lock);
}

static struct range *find(struct range *t, int n, u64 addr)
{
	for (int i = 0; i < n; i++)
		if (addr >= t[i].base && addr - t[i].base < t[i].len)
			return &t[i];
	return NULL;
}

void pio_register(u16 base, u16 count, pio_fn fn, void *opaque)
{
	add(pio, &npio, base, count, (void *)fn, opaque);
}

void mmio_register(u64 base, u64 len, mmio_fn fn, void *opaque)
{
	add(mmio, &nmmio, base, len, (void *)fn, opaque);
}

/* Who answers @addr in @t?  A copy, so the lock is not held meanwhile. */
static struct range lookup(struct range *t, int n, u64 addr)
{
	struct range r = { 0 }, *p;

	pthread_rwlock_rdlock(&lock);
	p = find(t, n, addr);
	if (p)
		r = *p;
	pthread_rwlock_unlock(&lock);
	return r;
}

/*L:030 Nobody home: reads float high, as on a real bus, and writes vanish.
 * A kernel probes many ports it does not need; that is not an error. */
static unsigned long unhandled;

/* Only the first few are logged: a guest that hammers an empty port
 * must not fill the log. */
#define UNHANDLED_LOGGED	32

static void nobody(const char *what, u64 addr, u8 *data, int size, bool write)
{
	unsigned long n = __atomic_add_fetch(&unhandled, 1, __ATOMIC_RELAXED);

	if (!write)
		memset(data, 0xff, size);
	if (n <= UNHANDLED_LOGGED)
		verbose("unhandled %s %s 0x%llx size %d%s", what,
			write ? "write" : "read", (unsigned long long)addr,
			size, n == UNHANDLED_LOGGED ?
			" (more are counted, not logged)" : "");
}

unsigned long bus_unhandled(void)
{
	return __atomic_load_n(&unhandled, __ATOMIC_RELAXED);
}

void pio_dispatch(u16 port, u8 *data, int size, bool write)
{
	struct range r = lookup(pio, npio, port);

	if (r.fn)
		((pio_fn)r.fn)(r.opaque, port, data, size, write);
	else
		nobody("port", port, data, size, write);
}

void mmio_dispatch(u64 addr, u8 *data, int size, bool write)
{
	struct range r = lookup(mmio, nmmio, addr);

	if (r.fn)
		((mmio_fn)r.fn)(r.opaque, addr, data, size, write);
	else
		nobody("mmio", addr, data, size, write);
}
