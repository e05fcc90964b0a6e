/*
 * cpuid.h - the CPUID a vCPU shows its kernel.
 */
#ifndef LGUEST_KVM_CPUID_H
#define LGUEST_KVM_CPUID_H

#include <linux/kvm.h>

#include "lguest.h"

/* Room cpuid_present() may need beyond what KVM returned. */
#define CPUID_EXTRA_ENTRIES	2

void cpuid_present(struct kvm_cpuid2 *c, u32 apic_id, u32 ncpus,
		   u32 tsc_khz);

/* Can KVM's vCPUs run in long mode, as an x86-64 kernel must? */
bool cpuid_long_mode(struct kvm_cpuid2 *c);

#endif
