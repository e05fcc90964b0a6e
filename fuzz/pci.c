/*
 * pci.c - fuzz the PCI bus and the virtio-pci registers (src/pci.c,
 * src/virtio/pci.c): configuration mechanism #1, the BARs the guest may
 * move, the common configuration, ISR, device config and doorbells in
 * BAR0, the MSI-X table and PBA in BAR1, and the config-space window
 * (VIRTIO_PCI_CAP_PCI_CFG).
 *
 * Input: a sequence of accesses, 14 bytes each: kind (port or MMIO, read
 * or write), size, a 32-bit offset and 8 bytes of data.  Ports are
 * 0xcf8..0xcff with sizes 1, 2 and 4, as KVM hands them over; MMIO is
 * anywhere in the first MiB of the PCI hole, where the BARs start, with
 * sizes 1 to 8.  The device behind it has two queues, served as the
 * rings in (zeroed) guest RAM say, and a writable config.
 */
#include <string.h>

#include "fuzz.h"
#include "machine.h"
#include "x86/layout.h"

#define RAM	(64 * KiB)

static u8 config[24];

static void config_write(struct virtio_dev *d, u32 off, int size)
{
	/* What a device would do: look at what was written. */
	volatile u8 sink = d->config[off] ^ d->config[off + size - 1];

	(void)sink;
}

static const struct virtio_ops ops = {
	.name = "fuzz-pci",
	.device_id = 4,			/* an entropy source */
	.features = 1ULL << 5,
	.num_queues = 2,
	.service = { fuzz_drain, fuzz_drain },
	.config_size = sizeof(config),
	.config_write = config_write,
};

static void one(void *arg)
{
	struct fuzz_in *in = arg;
	struct vm *vm = fuzz_vm(RAM, RAM);

	memset(config, 0, sizeof(config));
	pci_init(vm);
	virtio_add(vm, &ops, NULL, config);

	while (in->left) {
		u8 kind = fuzz_u8(in), size = fuzz_u8(in);
		u32 off = fuzz_u32(in);
		u8 data[8];
		bool write = kind & 1;

		for (int i = 0; i < 8; i++)
			data[i] = fuzz_u8(in);
		if (kind & 2) {
			static const int sizes[] = { 1, 2, 4 };

			pio_dispatch(vm, 0xcf8 + off % 8, data, sizes[size % 3],
				     write);
		} else {
			mmio_dispatch(vm, PCI_MMIO_START + off % MiB, data,
				      1 + size % 8, write);
		}
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };

	fuzz_run(one, &in);
	fuzz_reset();
	return 0;
}
