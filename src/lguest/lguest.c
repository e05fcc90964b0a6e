/*
 * lguest.c - the /dev/lguest backend: the hypervisor lguest was written
 * for, in Linux from 2.6.23 to 4.0, on 32-bit x86 hosts.
 *
 *L:180 /dev/lguest is a character device the Launcher writes requests to
 * and reads from, every request an array of unsigned longs whose first
 * word says what it is:
 *
 *   LHREQ_INITIALIZE  where guest memory starts in our address space, how
 *                     many pages of it the guest may touch, and the entry
 *                     point.  The thread that writes it becomes the vCPU.
 *   LHREQ_IRQ         raise one of the guest's 32 interrupts.
 *   LHREQ_EVENTFD     when the guest does LHCALL_NOTIFY with this address,
 *                     signal this eventfd instead of coming back to us.
 *
 * The guest runs inside pread() on the vCPU's thread.  It returns with an
 * address the guest notified that no eventfd is bound to (the lguest bus
 * handles those: virtio/lgbus.c), or fails: ENOENT when the guest died
 * (the next read says why), ERESTART when it asked to be rebooted, EINTR
 * when a signal came.  There is no port I/O, no MMIO and no MSI: the
 * guest is paravirtual, and says everything with hypercalls.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "hv.h"
#include "handover.h"
#include "lguest.h"
#include "seccomp-filter.h"

#define LHREQ_INITIALIZE	0
#define LHREQ_IRQ		2
#define LHREQ_EVENTFD		4
#define LGUEST_IRQS		32
#define LG_PAGE			4096

/* Not in every C library's errno.h: Linux's value on x86. */
#ifndef ERESTART
#define ERESTART		85
#endif

/* What the guest says when it powers itself off (LHCALL_SHUTDOWN). */
#define POWER_DOWN		"CRASH: Power down"

/* Eventfds the kernel knows of: the ABI has no way to take one back. */
#define MAX_BOUND		256

struct lg {
	int fd;
	unsigned long pfn_limit;
	pthread_mutex_t lock;		/* bound[] */
	struct { u64 addr; int fd; } bound[MAX_BOUND];
	int nbound;
	bool irq_warned;
};

static struct lg *lg_of(const struct vm *vm)
{
	return vm->hv_priv;
}

/*L:182 /dev/lguest is opened anew for every boot: a guest, once dead or
 * rebooted, cannot be initialized again on the same open file.  So a
 * reboot opens it again, after privileges were dropped: through a
 * descriptor of /dev kept across exec() (the path may be gone from view
 * after --chroot), which works as long as the user we run as may open
 * it -- root, by default, owns it.  The main thread's system call filter
 * allows that one read-write open, relative to that descriptor only. */
static int open_lguest(void)
{
	int dir = open_kept("lguest-dev", "/dev", O_PATH | O_DIRECTORY);
	int fd;

	if (dir < 0)
		err(EXIT_ERROR, "cannot open /dev");
	seccomp_reopen_dir = dir;
	fd = openat(dir, "lguest", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		errx(EXIT_ERROR, "/dev/lguest does not exist: it needs a "
		     "32-bit x86 host running Linux 2.6.23 to 4.0 built with "
		     "CONFIG_LGUEST (modprobe lg); or use --hypervisor=kvm");
	if (errno == EACCES && handover_rebooted())
		errx(EXIT_ERROR, "cannot open /dev/lguest again to reboot "
		     "the guest: permission denied; let the --user open it "
		     "(its group, mode 0660) or run as root");
	err(EXIT_ERROR, "cannot open /dev/lguest");
}

static void lg_init(struct vm *vm)
{
	struct lg *lg = malloc_or_die(sizeof(*lg));

	memset(lg, 0, sizeof(*lg));
	pthread_mutex_init(&lg->lock, NULL);
	if (vm->nr_vcpus > 1)
		errx(EXIT_ERROR, "--cpus=%d: guests on /dev/lguest have one "
		     "vCPU; leave out --cpus, or use --hypervisor=kvm",
		     vm->nr_vcpus);
	lg->fd = open_lguest();
	lg->pfn_limit = vm->ram_size / LG_PAGE;
	vm->hv_priv = lg;
	verbose("hypervisor: /dev/lguest, %lu pages", lg->pfn_limit);
}

/* The vCPU is created by LHREQ_INITIALIZE, on its own thread. */
static void lg_vcpu_init(struct vcpu *vcpu)
{
	(void)vcpu;
}

static bool lg_write(struct lg *lg, const unsigned long *req, size_t words)
{
	ssize_t n;

	do
		n = write(lg->fd, req, words * sizeof(*req));
	while (n < 0 && errno == EINTR);
	return n >= 0;
}

/*L:184 The guest died.  Why is one more read away: "CRASH: Power down"
 * is a guest that powered itself off; anything else is a crash (a panic
 * passes its message) or the host killing a misbehaving guest.  The
 * reason is the guest's text: only printable bytes reach our log. */
static void guest_died(struct lg *lg)
{
	char why[256];
	ssize_t n = pread(lg->fd, why, sizeof(why) - 1, 0);

	if (n < 0)
		n = 0;
	why[n] = '\0';
	if (!strcmp(why, POWER_DOWN)) {
		vm_stop(STOP_POWEROFF);
		return;
	}
	for (char *p = why; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	warnx("the guest died: %s", why[0] ? why : "no reason given");
	vm_stop(STOP_CRASH);
}

/* A notification nothing was bound to goes where an MMIO write would:
 * the lguest bus registered the addresses it answers. */
static void notified(struct vm *vm, unsigned long addr)
{
	u8 none[4] = { 0 };

	mmio_dispatch(vm, addr, none, sizeof(none), true);
}

static void lg_vcpu_run(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct lg *lg = lg_of(vm);
	unsigned long init[] = {
		LHREQ_INITIALIZE, (unsigned long)vm->ram, lg->pfn_limit,
		(unsigned long)vm->entry,
	};
	unsigned long addr;
	ssize_t n;

	if (!lg_write(lg, init, ARRAY_SIZE(init))) {
		warn("/dev/lguest: cannot initialize the guest");
		vm_stop(STOP_FATAL);
		return;
	}
	for (;;) {
		if (__atomic_load_n(&vm->stopping, __ATOMIC_SEQ_CST))
			return;
		n = pread(lg->fd, &addr, sizeof(addr), vcpu->id);
		if (n == sizeof(addr)) {
			notified(vm, addr);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOENT) {
			guest_died(lg);
			return;
		}
		if (n < 0 && errno == ERESTART) {
			vm_stop(STOP_REBOOT);
			return;
		}
		if (n >= 0)
			warnx("/dev/lguest: read returned %zd bytes", n);
		else
			warn("/dev/lguest: read");
		vm_stop(STOP_FATAL);
		return;
	}
}

/* The SIGUSR1 that follows takes the thread out of pread(). */
static void lg_vcpu_kick(struct vcpu *vcpu)
{
	(void)vcpu;
}

/*L:186 Interrupts are edges: a write of LHREQ_IRQ marks one pending, and
 * the guest takes it when it next runs.  Any thread may write one; the
 * queue threads do, as the original Launcher's did. */
static void lg_irq_line(struct vm *vm, int irq, int level)
{
	struct lg *lg = lg_of(vm);
	unsigned long req[] = { LHREQ_IRQ, irq };

	if (!level)
		return;
	/* ENOENT: the guest is dead, and we are about to hear why. */
	if (!lg_write(lg, req, ARRAY_SIZE(req)) && errno != ENOENT &&
	    !__atomic_exchange_n(&lg->irq_warned, true, __ATOMIC_RELAXED))
		warn("/dev/lguest: cannot raise interrupt %d", irq);
}

/* LHREQ_EVENTFD.  Bindings cannot be taken back, so one that exists is
 * kept: the lguest bus binds each queue to the same eventfd whenever its
 * driver starts it again. */
static int lg_ioeventfd(struct vm *vm, int fd, u64 addr, int len, bool pio,
			bool add)
{
	struct lg *lg = lg_of(vm);
	unsigned long req[] = { LHREQ_EVENTFD, (unsigned long)addr, fd };
	int ret = 0;

	(void)len;
	if (pio) {
		errno = ENOSYS;
		return -1;
	}
	if (!add)
		return 0;
	pthread_mutex_lock(&lg->lock);
	for (int i = 0; i < lg->nbound; i++) {
		if (lg->bound[i].addr != addr)
			continue;
		if (lg->bound[i].fd != fd) {
			errno = EEXIST;
			ret = -1;
		}
		goto out;
	}
	if (lg->nbound == MAX_BOUND) {
		errno = ENOSPC;
		ret = -1;
	} else if (!lg_write(lg, req, ARRAY_SIZE(req))) {
		ret = -1;
	} else {
		lg->bound[lg->nbound].addr = addr;
		lg->bound[lg->nbound].fd = fd;
		lg->nbound++;
	}
out:
	pthread_mutex_unlock(&lg->lock);
	return ret;
}

/* No MSI, and no irqfd: the queue threads write LHREQ_IRQ themselves. */
static int lg_msi_route(struct vm *vm, int gsi, u64 addr, u32 data)
{
	(void)vm, (void)gsi, (void)addr, (void)data;
	errno = ENOSYS;
	return -1;
}

static int lg_irqfd(struct vm *vm, int fd, int gsi, bool add)
{
	(void)vm, (void)fd, (void)gsi, (void)add;
	errno = ENOSYS;
	return -1;
}

const struct hv_ops lguest_ops = {
	.name = "lguest",
	.init = lg_init,
	.vcpu_init = lg_vcpu_init,
	.vcpu_run = lg_vcpu_run,
	.vcpu_kick = lg_vcpu_kick,
	.irq_line = lg_irq_line,
	.ioeventfd = lg_ioeventfd,
	.msi_route = lg_msi_route,
	.irqfd = lg_irqfd,
};
