/*
 * hv.h - the hypervisor backend interface.
 *
 * The original Launcher talked to /dev/lguest; today's talks to /dev/kvm.
 * Everything above this line of code asks for the same few services:
 * map guest RAM, start the vCPU, raise an interrupt, bind an eventfd to
 * a doorbell (KVM_IOEVENTFD, once LHREQ_EVENTFD) and an eventfd to an
 * interrupt (KVM_IRQFD, once LHREQ_IRQ).
 */
#ifndef LGUEST_HV_H
#define LGUEST_HV_H

#include "lguest.h"
#include "x86/cpu.h"

struct hv_ops {
	const char *name;

	/* Open the device and create the machine around vm->ram. */
	void (*init)(struct vm *vm);

	/* Create a vCPU in the state vm->boot_cpu describes; its own
	 * state goes in vcpu->hv_priv. */
	void (*vcpu_init)(struct vcpu *vcpu);

	/* Run the vCPU until the guest stops; dispatches I/O meanwhile.
	 * Called on the vCPU's thread; returns after vm_stop(), or once
	 * vm->stopping is set and vcpu_kick() has been called. */
	void (*vcpu_run)(struct vcpu *vcpu);

	/* Make vcpu_run() look at vm->stopping soon: the caller then
	 * interrupts the vCPU's thread with SIGUSR1. */
	void (*vcpu_kick)(struct vcpu *vcpu);

	/* Drive an interrupt line (level 0 or 1). */
	void (*irq_line)(struct vm *vm, int irq, int level);

	/* Let a guest write of @len bytes to @addr (port I/O if @pio)
	 * signal @fd without an exit to us.  -1 if unsupported. */
	int (*ioeventfd)(struct vm *vm, int fd, u64 addr, int len, bool pio,
			 bool add);

	/* Route @gsi to an MSI message (address, data). */
	int (*msi_route)(struct vm *vm, int gsi, u64 addr, u32 data);

	/* Let a write to @fd raise interrupt @gsi in the guest. */
	int (*irqfd)(struct vm *vm, int fd, int gsi, bool add);
};

extern const struct hv_ops kvm_ops;
extern const struct hv_ops lguest_ops;

#endif
