/*
 * util.c - guest memory access and the small helpers that die usefully.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>

#include "lguest.h"

bool verbose_flag;

/*L:015 guest_ptr() is the Launcher's check_pointer(): the only way from a
 * guest-physical address to a host one.  Guest RAM is two windows, below
 * the PCI hole and above 4 GiB; a range must lie wholly inside one.  The
 * comparisons are written so that no addition can wrap. */
void *guest_ptr(const struct vm *vm, u64 gpa, u64 len)
{
	u64 high = vm->ram_size - vm->low_end;

	if (gpa < vm->low_end) {
		if (len > vm->low_end - gpa)
			return NULL;
		return vm->ram + gpa;
	}
	if (gpa < HIGH_RAM_START || gpa - HIGH_RAM_START >= high)
		return NULL;
	if (len > high - (gpa - HIGH_RAM_START))
		return NULL;
	return vm->ram + vm->low_end + (gpa - HIGH_RAM_START);
}

void *guest_buf(const struct vm *vm, u64 gpa, u64 len)
{
	if (vm->buf_end && (gpa > vm->buf_end || len > vm->buf_end - gpa))
		return NULL;
	return guest_ptr(vm, gpa, len);
}

int open_or_die(const char *name, int flags)
{
	int fd = open(name, flags | O_CLOEXEC);

	if (fd < 0)
		err(EXIT_ERROR, "cannot open %s", name);
	return fd;
}

void *malloc_or_die(size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		err(EXIT_ERROR, "out of memory allocating %zu bytes", size);
	return p;
}

/* Microseconds and milliseconds on the monotonic clock (a vDSO call: no
 * system call, so any thread's seccomp filter lets it through). */
u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

u64 now_ms(void)
{
	return now_us() / 1000;
}
