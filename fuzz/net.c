/*
 * net.c - fuzz virtio-net (src/virtio/net.c): receive buffers and the
 * header's num_buffers filled in for frames of any length, transmit
 * chains with their virtio-net header, both queues brought up and reset
 * as a driver would.  The tap is a socket pair (fuzz/support.c).
 *
 * Input: byte 0 picks the features the driver takes (bit 0 guest
 * checksum, bit 1 TSO4, bit 2 indirect descriptors, bit 3 event index),
 * byte 1 how many frames wait on the tap (0-3), then a 16-bit length for
 * each; then 8 bytes for each of the receive and transmit queues
 * (fuzz_queue()), and the rest is guest RAM from address 0.  The frames
 * are cut from the start of that RAM image.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "machine.h"

#define RAM		(64 * KiB)
#define MAX_FRAME	(9 * KiB)

static void one(void *arg)
{
	struct fuzz_in *in = arg;
	u8 take = fuzz_u8(in), frames = fuzz_u8(in) % 4;
	u16 len[3];
	struct vm *vm = fuzz_vm(RAM, RAM);
	struct virtio_dev *d;
	u64 want = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC;
	const u8 s = VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER;

	for (int i = 0; i < frames; i++)
		len[i] = fuzz_u16(in) % MAX_FRAME;
	pci_init(vm);
	net_device.add(vm, "10.0.0.1/24", 1);
	d = vm->devices;

	if (take & 1)
		want |= 1ULL << VIRTIO_NET_F_GUEST_CSUM;
	if (take & 2)
		want |= 1ULL << VIRTIO_NET_F_GUEST_TSO4;
	if (take & 4)
		want |= 1ULL << VIRTIO_F_INDIRECT_DESC;
	if (take & 8)
		want |= 1ULL << VIRTIO_F_EVENT_IDX;
	virtio_set_status(d, s);
	virtio_set_driver_features(d, 0, want);
	virtio_set_driver_features(d, 1, want >> 32);
	virtio_set_status(d, s | VIRTIO_S_FEATURES_OK);
	fuzz_queue(&d->vq[0], in);
	fuzz_queue(&d->vq[1], in);
	memcpy(vm->ram, in->p, in->left < RAM ? in->left : RAM);
	for (int i = 0; i < frames; i++)
		if (send(fuzz_tap_peer, vm->ram, len[i], 0) < 0)
			abort();
	virtio_queue_enable(d, &d->vq[0]);
	virtio_queue_enable(d, &d->vq[1]);
	virtio_set_status(d, s | VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
	virtio_set_status(d, 0);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };

	fuzz_run(one, &in);
	fuzz_reset();
	return 0;
}
