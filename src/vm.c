/*
 * vm.c - the machine object, and the hypervisor as the rest of the
 * Launcher sees it.
 *
 * Chips, the PCI transport and the devices ask for interrupts, MSI
 * routes and doorbells here; only this file calls the backend's
 * operations (struct hv_ops), so a second backend changes nothing above.
 */
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
