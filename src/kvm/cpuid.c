/*
 * cpuid.c - CPUID as a virtual machine monitor presents it.
 *
 * KVM_GET_SUPPORTED_CPUID says what the vCPU can do, not what a guest
 * should be told: it has no hypervisor bit, so a kernel takes itself for
 * bare metal and never looks at the KVM leaves (no kvm-clock, no PV EOI,
 * no steal time), and it knows nothing of which vCPU is asking.  Each leaf
 * we change is changed here, and says why.
 */
#include <string.h>

#include "kvm/cpuid.h"

#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_1_EDX_HTT		(1u << 28)
#define CPUID_1_ECX_VMX		(1u << 5)
#define CPUID_80000001_ECX_SVM	(1u << 2)
#define CPUID_80000001_EDX_LM	(1u << 29)
#define KVM_CPUID_SIGNATURE	0x40000000
#define CPUID_TSC_LEAF		0x40000010	/* TSC and bus kHz */

/* KVM's local APIC timer counts at 1 GHz, whatever the host's bus. */
#define KVM_APIC_BUS_KHZ	1000000

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, u32 fn, u32 idx)
{
	for (u32 i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == fn &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == idx))
			return e;
	}
	return NULL;
}

/* Long mode (leaf 0x80000001, EDX bit 29): KVM offers it only under a
 * 64-bit host kernel, whatever the Launcher's own width. */
bool cpuid_long_mode(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e = find(c, 0x80000001, 0);

	return e && (e->edx & CPUID_80000001_EDX_LM);
}

/* How many bits an ID needs to tell @n things apart. */
static u32 bits_for(u32 n)
{
	u32 b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_present(struct kvm_cpuid2 *c, u32 apic_id, u32 ncpus,
		   u32 tsc_khz)
{
	struct kvm_cpuid_entry2 *e;

	/* Leaf 1: "running under a hypervisor" (ECX bit 31), which is what
	 * makes Linux read 0x40000000; EBX[31:24] is this vCPU's initial
	 * APIC ID and EBX[23:16] how many logical CPUs share the package,
	 * with HTT saying that count means something. */
	e = find(c, 1, 0);
	if (e) {
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		e->ebx = (e->ebx & 0xffff) | apic_id << 24 |
			 (ncpus > 1 ? ncpus : 1) << 16;
		if (ncpus > 1)
			e->edx |= CPUID_1_EDX_HTT;
		else
			e->edx &= ~CPUID_1_EDX_HTT;
	}

	/* No nested virtualization: KVM offers VMX or SVM when its own
	 * "nested" parameter is on, but a guest kernel that sees them also
	 * uses them, even only to switch them off on its way down after a
	 * panic (a path that can bring down an emulated host with it), and
	 * nothing here saves or restores nested state. */
	e = find(c, 1, 0);
	if (e)
		e->ecx &= ~CPUID_1_ECX_VMX;
	e = find(c, 0x80000001, 0);
	if (e)
		e->ecx &= ~CPUID_80000001_ECX_SVM;

	/* Leaf 0xB (x2APIC topology): every vCPU a core of its own, one
	 * package.  Level 0 is SMT (one thread), level 1 the cores; EDX is
	 * the x2APIC ID at every level. */
	for (u32 level = 0; level < 2; level++) {
		e = find(c, 0xb, level);
		if (!e)
			break;
		e->eax = level ? bits_for(ncpus) : 0;
		e->ebx = level ? ncpus : 1;
		e->ecx = (level ? 2 : 1) << 8 | level;
		e->edx = apic_id;
	}

	/* Leaf 4 (Intel's caches): EAX[31:26] is how many cores share the
	 * package, less one, at every cache level. */
	for (u32 i = 0; (e = find(c, 4, i)) && (e->eax & 0x1f); i++)
		e->eax = (e->eax & 0x03ffffff) | (ncpus - 1) << 26;

	/* Leaf 0x80000008 (AMD): ECX[7:0] is the cores in the package less
	 * one, ECX[15:12] the APIC ID bits that number them. */
	e = find(c, 0x80000008, 0);
	if (e)
		e->ecx = (e->ecx & ~0xf0ffu) | bits_for(ncpus) << 12 |
			 (ncpus - 1);

	/* Leaf 0x8000001E (AMD): the extended APIC ID, and one thread per
	 * core. */
	e = find(c, 0x8000001e, 0);
	if (e) {
		e->eax = apic_id;
		e->ebx = apic_id & 0xff;
	}

	/* Leaf 0xA (architectural performance monitoring): KVM reports it
	 * as zero when it does not virtualize the counters, and then so do
	 * we; when it does, its version and counters are the vCPU's. */

	/* 0x40000000: KVM's signature and how far the hypervisor leaves go;
	 * 0x40000001, KVM's paravirtual features, are passed as KVM offers
	 * them.  Add the de facto TSC frequency leaf that QEMU and VMware
	 * give, when we know the frequency. */
	e = find(c, KVM_CPUID_SIGNATURE, 0);
	if (e && tsc_khz && !find(c, CPUID_TSC_LEAF, 0)) {
		struct kvm_cpuid_entry2 *t = &c->entries[c->nent++];

		memset(t, 0, sizeof(*t));
		t->function = CPUID_TSC_LEAF;
		t->eax = tsc_khz;
		t->ebx = KVM_APIC_BUS_KHZ;
		if (e->eax < CPUID_TSC_LEAF)
			e->eax = CPUID_TSC_LEAF;
	}
}
