/*
 * kvm.c - the KVM backend.
 *
 * /dev/lguest gave the Launcher one file descriptor that ran the guest
 * until it needed help.  /dev/kvm is the same idea in three layers:
 * a system fd, a VM fd, and a vCPU fd whose KVM_RUN returns whenever the
 * guest touches something we emulate.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <unistd.h>

#include "hv.h"
#include "kvm/cpuid.h"
#include "x86/irq.h"

#define MAX_ROUTES	256

/* The local APIC's LVT registers for LINT0 and LINT1. */
#define APIC_LVT_LINT(n)	(0x350 + 0x10 * (n))

struct kvm {
	int sys_fd, vm_fd;
	pthread_mutex_t route_lock;
	struct kvm_irq_routing *routes;
};

/* Each vCPU's own: its descriptor and the kvm_run page KVM shares. */
struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	size_t run_size;
};

/* Where KVM may put the real-mode TSS and identity map it needs on some
 * Intel hosts: three pages just below the BIOS, outside RAM. */
#define KVM_TSS_ADDR	0xfffbd000

static struct kvm *kvm_of(struct vm *vm)
{
	return vm->hv_priv;
}

/*L:150 Opening /dev/kvm is where most first runs fail, so the message says
 * what to do about it rather than just what went wrong. */
static int open_kvm(void)
{
	int fd = open_kept("kvm", "/dev/kvm", O_RDWR);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		errx(EXIT_ERROR, "/dev/kvm does not exist: enable virtualization "
		     "and load the kvm module (modprobe kvm_intel or kvm_amd)");
	if (errno == EPERM)
		errx(EXIT_ERROR, "/dev/kvm: operation not permitted: a device "
		     "policy forbids it (systemd's DevicePolicy=/DeviceAllow=, "
		     "or a container's device list)");
	if (errno == EACCES)
		errx(EXIT_ERROR, "/dev/kvm: permission denied: add this user to "
		     "the kvm group (adduser $USER kvm) or run as root");
	err(EXIT_ERROR, "cannot open /dev/kvm");
}

static void set_region(struct kvm *k, u32 slot, u64 gpa, u64 size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (unsigned long)hva,
	};

	if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		err(EXIT_ERROR, "KVM_SET_USER_MEMORY_REGION");
}

static void add_route(struct kvm *k, u32 gsi, u32 chip, u32 pin)
{
	struct kvm_irq_routing_entry *e = &k->routes->entries[k->routes->nr++];

	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

/*L:155 Interrupt routing, as x86/irq.h wires it.  The ISA IRQs reach
 * both the PICs and the IOAPIC, the other GSIs the IOAPIC only, each at
 * the input the MADT's interrupt source overrides tell the guest (the
 * timer's GSI 0 at pin 2).  MSI routes for virtio's MSI-X vectors are
 * added after these, from FIRST_MSI_GSI on. */
static void default_routes(struct kvm *k)
{
	k->routes = malloc_or_die(sizeof(*k->routes) +
				  MAX_ROUTES * sizeof(k->routes->entries[0]));
	for (u32 i = 0; i < ISA_IRQS; i++)
		if (i != PIC_CASCADE_IRQ)
			add_route(k, i, i < PIC_IRQS ? KVM_IRQCHIP_PIC_MASTER :
				  KVM_IRQCHIP_PIC_SLAVE, i % PIC_IRQS);
	for (u32 i = 0; i < IOAPIC_PINS; i++)
		add_route(k, i, KVM_IRQCHIP_IOAPIC, irq_ioapic_pin(i));
	if (ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, k->routes) < 0)
		err(EXIT_ERROR, "KVM_SET_GSI_ROUTING");
}

static int kvm_msi_route(struct vm *vm, int gsi, u64 addr, u32 data)
{
	struct kvm *k = kvm_of(vm);
	struct kvm_irq_routing_entry *e = NULL;
	int ret;

	pthread_mutex_lock(&k->route_lock);
	for (u32 i = 0; i < k->routes->nr; i++)
		if (k->routes->entries[i].gsi == (u32)gsi)
			e = &k->routes->entries[i];
	if (!e && k->routes->nr < MAX_ROUTES)
		e = &k->routes->entries[k->routes->nr++];
	if (!e) {
		pthread_mutex_unlock(&k->route_lock);
		errno = ENOSPC;
		return -1;
	}
	*e = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (u32)addr, .address_hi = addr >> 32,
			   .data = data },
	};
	ret = ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, k->routes);
	pthread_mutex_unlock(&k->route_lock);
	return ret;
}

/* KVM says how many vCPUs a machine may have (KVM_CAP_MAX_VCPUS; older
 * kernels only KVM_CAP_NR_VCPUS, and before that the documented 4). */
static void check_vcpus(struct kvm *k, int n)
{
	int max = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	if (max <= 0)
		max = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4;
	if (n > max)
		errx(EXIT_ERROR, "--cpus=%d: KVM here runs at most %d vCPUs "
		     "in a machine; give --cpus=%d or fewer", n, max, max);
	if (n > 1 && ioctl(k->sys_fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_IMMEDIATE_EXIT) <= 0)
		errx(EXIT_ERROR, "--cpus=%d: this KVM cannot stop a vCPU "
		     "safely (no KVM_CAP_IMMEDIATE_EXIT, Linux 4.11); give "
		     "--cpus=1", n);
}

static void kvm_init(struct vm *vm)
{
	struct kvm *k = malloc_or_die(sizeof(*k));
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ver;

	vm->hv_priv = k;
	k->sys_fd = open_kvm();

	ver = ioctl(k->sys_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION)
		errx(EXIT_ERROR, "/dev/kvm speaks API version %d, lguest needs %d",
		     ver, KVM_API_VERSION);

	check_vcpus(k, vm->nr_vcpus);

	k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0)
		err(EXIT_ERROR, "KVM_CREATE_VM");

	/* Only Intel needs it, and failing is harmless elsewhere. */
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		verbose("KVM_SET_TSS_ADDR: %s", strerror(errno));

	/* The in-kernel PIC, IOAPIC and local APIC: interrupts raised by
	 * our threads reach the guest without passing through the vCPU
	 * thread.  The irqchip must exist before the PIT. */
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		err(EXIT_ERROR, "KVM_CREATE_IRQCHIP");
	if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		err(EXIT_ERROR, "KVM_CREATE_PIT2");
	pthread_mutex_init(&k->route_lock, NULL);
	default_routes(k);

	set_region(k, 0, 0, vm->low_end, vm->ram);
	if (vm->ram_size > vm->low_end)
		set_region(k, 1, HIGH_RAM_START, vm->ram_size - vm->low_end,
			   vm->ram + vm->low_end);
}

/* The guest sees the host's CPU, less what KVM cannot virtualize. */
static void setup_cpuid(struct vcpu *v, struct kvm_vcpu *kv)
{
	struct kvm *k = kvm_of(v->vm);
	int n = 128, khz;
	struct kvm_cpuid2 *c;

	for (;;) {
		c = malloc_or_die(sizeof(*c) +
				  (n + CPUID_EXTRA_ENTRIES) * sizeof(c->entries[0]));
		c->nent = n;
		if (ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG)
			err(EXIT_ERROR, "KVM_GET_SUPPORTED_CPUID");
		free(c);
		n *= 2;
	}
	/* A 32-bit Launcher may run where /dev/lguest did: on a 32-bit
	 * kernel, whose KVM has no 64-bit guests (--hypervisor=lguest
	 * runs that kernel's own kind). */
	if (!cpuid_long_mode(c))
		errx(EXIT_ERROR, "KVM here cannot run 64-bit guests (a 32-bit "
		     "host kernel?): on KVM lguest boots x86-64 kernels only");
	khz = ioctl(kv->fd, KVM_GET_TSC_KHZ, 0);
	cpuid_present(c, v->id, v->vm->nr_vcpus, khz > 0 ? khz : 0);
	if (ioctl(kv->fd, KVM_SET_CPUID2, c) < 0)
		err(EXIT_ERROR, "KVM_SET_CPUID2");
	free(c);
}

/* The local APIC's LINT inputs deliver the PIC's interrupts and NMIs, as
 * x86/irq.h wires them and the MADT says.  The PIC is wired to the boot
 * CPU only, as on a PC: an application processor's LINT0 stays masked. */
static void setup_lapic(struct kvm_vcpu *kv, bool bsp)
{
	struct kvm_lapic_state s;
	u32 *extint = (u32 *)&s.regs[APIC_LVT_LINT(LAPIC_LINT_EXTINT)];
	u32 *nmi = (u32 *)&s.regs[APIC_LVT_LINT(LAPIC_LINT_NMI)];

	if (ioctl(kv->fd, KVM_GET_LAPIC, &s) < 0)
		err(EXIT_ERROR, "KVM_GET_LAPIC");
	if (bsp)
		*extint = (*extint & ~0x1ffffu) | (7 << 8);	/* ExtINT */
	*nmi = (*nmi & ~0x1ffffu) | (4 << 8);		/* NMI */
	if (ioctl(kv->fd, KVM_SET_LAPIC, &s) < 0)
		err(EXIT_ERROR, "KVM_SET_LAPIC");
}

static struct kvm_segment kvm_segment(const struct cpu_seg *s)
{
	return (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->type, .present = s->present, .dpl = s->dpl,
		.db = s->db, .s = s->s, .l = s->l, .g = s->g, .avl = s->avl,
		.unusable = s->unusable,
	};
}

/* The state the loader left in vm->boot_cpu, in KVM's words.  What it
 * does not say (CR2, CR8, the APIC base) stays as KVM made it. */
static void setup_regs(struct vm *vm, struct kvm_vcpu *kv)
{
	const struct boot_cpu *c = vm->boot_cpu;
	struct kvm_sregs sr;
	struct kvm_regs r = {
		.rax = c->rax, .rbx = c->rbx, .rcx = c->rcx, .rdx = c->rdx,
		.rsi = c->rsi, .rdi = c->rdi, .rsp = c->rsp, .rbp = c->rbp,
		.r8 = c->r8, .r9 = c->r9, .r10 = c->r10, .r11 = c->r11,
		.r12 = c->r12, .r13 = c->r13, .r14 = c->r14, .r15 = c->r15,
		.rip = c->rip, .rflags = c->rflags,
	};
	struct kvm_fpu fpu = { .fcw = c->fcw, .mxcsr = c->mxcsr };

	if (ioctl(kv->fd, KVM_GET_SREGS, &sr) < 0)
		err(EXIT_ERROR, "KVM_GET_SREGS");
	sr.cs = kvm_segment(&c->cs);
	sr.ds = kvm_segment(&c->ds);
	sr.es = kvm_segment(&c->es);
	sr.fs = kvm_segment(&c->fs);
	sr.gs = kvm_segment(&c->gs);
	sr.ss = kvm_segment(&c->ss);
	sr.tr = kvm_segment(&c->tr);
	sr.ldt = kvm_segment(&c->ldt);
	sr.gdt.base = c->gdt.base;
	sr.gdt.limit = c->gdt.limit;
	sr.idt.base = c->idt.base;
	sr.idt.limit = c->idt.limit;
	sr.cr0 = c->cr0;
	sr.cr3 = c->cr3;
	sr.cr4 = c->cr4;
	sr.efer = c->efer;
	if (ioctl(kv->fd, KVM_SET_SREGS, &sr) < 0)
		err(EXIT_ERROR, "KVM_SET_SREGS");
	if (ioctl(kv->fd, KVM_SET_REGS, &r) < 0)
		err(EXIT_ERROR, "KVM_SET_REGS");
	if (ioctl(kv->fd, KVM_SET_FPU, &fpu) < 0)
		err(EXIT_ERROR, "KVM_SET_FPU");
}

static void kvm_vcpu_init(struct vcpu *v)
{
	struct kvm *k = kvm_of(v->vm);
	struct kvm_vcpu *kv = malloc_or_die(sizeof(*kv));
	int sz;

	v->hv_priv = kv;
	kv->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, v->id);
	if (kv->fd < 0)
		err(EXIT_ERROR, "KVM_CREATE_VCPU");
	sz = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(*kv->run))
		err(EXIT_ERROR, "KVM_GET_VCPU_MMAP_SIZE");
	kv->run_size = sz;
	kv->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED,
		       kv->fd, 0);
	if (kv->run == MAP_FAILED)
		err(EXIT_ERROR, "mmap of the vCPU");

	setup_cpuid(v, kv);
	setup_lapic(kv, v->id == 0);
	if (v->id == 0) {
		setup_regs(v->vm, kv);
		return;
	}

	/*L:165 The others are application processors: KVM keeps them out of
	 * the guest until the kernel's INIT and Start-up IPIs arrive through
	 * the in-kernel local APIC, and then starts them in real mode at the
	 * page the Start-up IPI names, as a PC does.  KVM does this for any
	 * vCPU but the first by itself; saying so makes it our decision. */
	{
		struct kvm_mp_state mp = { KVM_MP_STATE_UNINITIALIZED };

		if (ioctl(kv->fd, KVM_SET_MP_STATE, &mp) < 0)
			err(EXIT_ERROR, "KVM_SET_MP_STATE");
	}
}

/* Port I/O: "rep outsb" arrives as one exit with count > 1. */
static void handle_io(struct vm *vm, struct kvm_run *run)
{
	u8 *p = (u8 *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;

	for (u32 i = 0; i < run->io.count; i++, p += run->io.size)
		pio_dispatch(vm, run->io.port, p, run->io.size, write);
}

static void crashed(struct kvm_vcpu *kv, const char *what)
{
	struct kvm_regs r;

	if (ioctl(kv->fd, KVM_GET_REGS, &r) == 0)
		warnx("guest crashed: %s at rip 0x%llx", what, r.rip);
	else
		warnx("guest crashed: %s", what);
	vm_stop(STOP_CRASH);
}

/* KVM_RUN's EAGAIN is a moment's trouble, worth another try -- unless
 * it lasts.  A kernel that starts a thread of its own for the VM on the
 * first KVM_RUN (and counts it against our RLIMIT_NPROC) says EAGAIN for
 * ever when it cannot: stop after a second of nothing else. */
static bool eagain_lasts(u64 *since)
{
	u64 now = now_ms();

	if (!*since)
		*since = now;
	return now - *since > 1000;
}

/*L:170 The run loop.  Most exits are port or MMIO accesses to chips we
 * emulate; the rest end this guest's life one way or another. */
static void kvm_vcpu_run(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct kvm_vcpu *kv = v->hv_priv;
	struct kvm_run *run = kv->run;
	char what[96];
	u64 eagain = 0;

	for (;;) {
		if (__atomic_load_n(&vm->stopping, __ATOMIC_SEQ_CST))
			return;
		if (ioctl(kv->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !eagain_lasts(&eagain))
				continue;
			if (errno == EAGAIN)
				errx(EXIT_ERROR, "KVM_RUN: resource temporarily "
				     "unavailable for over a second: the kernel "
				     "cannot start its thread for the VM "
				     "(is the process limit, RLIMIT_NPROC, too low?)");
			err(EXIT_ERROR, "KVM_RUN");
		}
		eagain = 0;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(vm, run);
			break;
		case KVM_EXIT_MMIO:
			mmio_dispatch(vm, run->mmio.phys_addr, run->mmio.data,
				      run->mmio.len, run->mmio.is_write);
			break;
		case KVM_EXIT_SHUTDOWN:
			/* A triple fault: a PC resets.  (Where it happened
			 * is lost: on AMD, KVM resets the vCPU first.) */
			verbose("vCPU %d: triple fault", v->id);
			vm_stop(STOP_REBOOT);
			return;
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
				vm_stop(STOP_POWEROFF);
				return;
			}
			if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
				vm_stop(STOP_REBOOT);
				return;
			}
			snprintf(what, sizeof(what), "system event %u",
				 run->system_event.type);
			crashed(kv, what);
			return;
		case KVM_EXIT_HLT:
			crashed(kv, "halted with interrupts off");
			return;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(what, sizeof(what), "KVM internal error %u%s",
				 run->internal.suberror,
				 run->internal.suberror ==
				 KVM_INTERNAL_ERROR_EMULATION ?
				 " (instruction emulation failed)" : "");
			crashed(kv, what);
			return;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(what, sizeof(what),
				 "entry failed, hardware reason 0x%llx",
				 (unsigned long long)
				 run->fail_entry.hardware_entry_failure_reason);
			crashed(kv, what);
			return;
		default:
			snprintf(what, sizeof(what), "unexpected KVM exit %u",
				 run->exit_reason);
			crashed(kv, what);
			return;
		}
	}
}

/* The next KVM_RUN returns at once, EINTR: the run loop then sees
 * vm->stopping.  Set before the signal, it closes the window between the
 * loop's look at the flag and its entry into the guest. */
static void kvm_vcpu_kick(struct vcpu *v)
{
	struct kvm_vcpu *kv = v->hv_priv;

	__atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

static void kvm_irq_line(struct vm *vm, int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(kvm_of(vm)->vm_fd, KVM_IRQ_LINE, &l) < 0)
		err(EXIT_ERROR, "KVM_IRQ_LINE %d", irq);
}

static int kvm_ioeventfd(struct vm *vm, int fd, u64 addr, int len, bool pio,
			 bool add)
{
	struct kvm_ioeventfd e = {
		.addr = addr, .len = len, .fd = fd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (add ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(kvm_of(vm)->vm_fd, KVM_IOEVENTFD, &e);
}

static int kvm_irqfd(struct vm *vm, int fd, int gsi, bool add)
{
	struct kvm_irqfd f = {
		.fd = fd, .gsi = gsi,
		.flags = add ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(kvm_of(vm)->vm_fd, KVM_IRQFD, &f);
}

const struct hv_ops kvm_ops = {
	.name = "kvm",
	.init = kvm_init,
	.vcpu_init = kvm_vcpu_init,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.irq_line = kvm_irq_line,
	.ioeventfd = kvm_ioeventfd,
	.msi_route = kvm_msi_route,
	.irqfd = kvm_irqfd,
};
