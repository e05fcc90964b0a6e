/*
 * vm.c - the machine object, and the hypervisor as the rest of the
 * Launcher sees it.
 *
 * Chips, the PCI transport and the devices ask for interrupts, MSI
 * routes and doorbells here; only this file calls the backend's
 * operations (struct hv_ops), so a second backend changes nothing above.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "hv.h"
#include "lguest.h"
#include "x86/irq.h"

void vm_init(struct vm *vm, const struct hv_ops *hv)
{
	vm->hv = hv;
	vm->pio.name = "port";
	vm->mmio.name = "MMIO";
	pthread_rwlock_init(&vm->pio.lock, NULL);
	pthread_rwlock_init(&vm->mmio.lock, NULL);
	/* Below FIRST_MSI_GSI are the interrupt controllers' pins. */
	vm->next_gsi = FIRST_MSI_GSI;
	pthread_mutex_init(&vm->io_lock, NULL);
	vm->nr_vcpus = 1;
	for (int i = 0; i < VM_MAX_VCPUS; i++) {
		vm->vcpu[i].vm = vm;
		vm->vcpu[i].id = i;
	}
}

void vm_irq_line(struct vm *vm, int irq, int level)
{
	vm->hv->irq_line(vm, irq, level);
}

int vm_gsi_alloc(struct vm *vm)
{
	return __atomic_fetch_add(&vm->next_gsi, 1, __ATOMIC_RELAXED);
}

int vm_msi_route(struct vm *vm, int gsi, u64 addr, u32 data)
{
	return vm->hv->msi_route(vm, gsi, addr, data);
}

int vm_irqfd(struct vm *vm, int fd, int gsi, bool add)
{
	return vm->hv->irqfd(vm, fd, gsi, add);
}

int vm_ioeventfd(struct vm *vm, int fd, u64 addr, int len, bool pio,
		 bool add)
{
	return vm->hv->ioeventfd(vm, fd, addr, len, pio, add);
}

/*L:175 Every vCPU has a thread.  To stop them, the main thread sets
 * vm->stopping, has the backend make the next entry into the guest
 * return at once, and interrupts each thread with SIGUSR1 in case it is
 * in the guest now: the handler does nothing, but the system call that
 * runs the guest returns, and the thread sees it must stop.  Then it is
 * waited for: no vCPU is left in the guest when we exit or exec(). */
static void kicked(int sig)
{
	(void)sig;
}

void vm_start_vcpus(struct vm *vm, void *(*fn)(void *))
{
	struct sigaction sa = { .sa_handler = kicked };

	/* No SA_RESTART: the interrupted call must return EINTR. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		err(EXIT_ERROR, "sigaction");
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		int e = pthread_create(&v->thread, NULL, fn, v);

		if (e)
			errx(EXIT_ERROR, "cannot start the thread of vCPU %d: %s",
			     i, strerror(e));
		v->running = true;
	}
}

#define VCPU_STOP_SECONDS	5
#define VCPU_RESEND_MS		50

/* Wait for @v's thread until @deadline.  The signal is sent again now
 * and then: one that lands after the thread looked at vm->stopping but
 * before it entered the guest is lost (a KVM vCPU then returns at once
 * anyway, through immediate_exit; a /dev/lguest one would wait in
 * pread() for the guest's next notification). */
static int join_vcpu(struct vcpu *v, const struct timespec *deadline)
{
	struct timespec now, t;
	int e;

	for (;;) {
		clock_gettime(CLOCK_REALTIME, &now);
		t = now;
		t.tv_nsec += VCPU_RESEND_MS * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		if (t.tv_sec > deadline->tv_sec ||
		    (t.tv_sec == deadline->tv_sec &&
		     t.tv_nsec > deadline->tv_nsec))
			t = *deadline;
		e = pthread_timedjoin_np(v->thread, NULL, &t);
		if (e != ETIMEDOUT || (t.tv_sec == deadline->tv_sec &&
				       t.tv_nsec == deadline->tv_nsec))
			return e;
		pthread_kill(v->thread, SIGUSR1);
	}
}

void vm_stop_vcpus(struct vm *vm)
{
	struct timespec deadline;

	__atomic_store_n(&vm->stopping, true, __ATOMIC_SEQ_CST);
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];

		if (!v->running)
			continue;
		vm->hv->vcpu_kick(v);
		pthread_kill(v->thread, SIGUSR1);
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += VCPU_STOP_SECONDS;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		int e;

		if (!v->running)
			continue;
		e = join_vcpu(v, &deadline);
		if (e == 0)
			v->running = false;
		else
			warnx("vCPU %d did not stop: %s", i,
			      e == ETIMEDOUT ? "still busy after 5 s" :
			      strerror(e));
	}
	verbose("all vCPUs stopped");
}
