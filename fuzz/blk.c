/*
 * blk.c - fuzz virtio-blk's requests (src/virtio/blk.c): the header,
 * reads and writes against the capacity, flush, GET_ID, and the
 * discard and write-zeroes segments, on a 64 KiB disk in a file that is
 * zeroed again for every input.
 *
 * Input: byte 0 picks the features the driver takes (bit 0 discard,
 * bit 1 write-zeroes, bit 2 indirect descriptors, bit 3 event index),
 * the next 8 bytes place the queue (fuzz_queue()), the rest is guest
 * RAM from address 0.  The device is brought up as a driver would, and
 * the queue served until the input has no request left.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "handover.h"
#include "machine.h"

#define RAM		(64 * KiB)
#define DISK		(64 * KiB)

static const char *disk;

static void one(void *arg)
{
	struct fuzz_in *in = arg;
	u8 take = fuzz_u8(in);
	struct vm *vm = fuzz_vm(RAM, RAM);
	struct virtio_dev *d;
	u64 want = 1ULL << VIRTIO_F_VERSION_1;
	int fd;

	/* Kept open from the first input on, as across a reboot: what
	 * the last input wrote goes. */
	fd = handover_fd("block1");
	if (fd >= 0 && (ftruncate(fd, 0) < 0 || ftruncate(fd, DISK) < 0))
		abort();
	pci_init(vm);
	blk_device.add(vm, disk, 1);
	d = vm->devices;

	if (take & 1)
		want |= 1ULL << VIRTIO_BLK_F_DISCARD;
	if (take & 2)
		want |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	if (take & 4)
		want |= 1ULL << VIRTIO_F_INDIRECT_DESC;
	if (take & 8)
		want |= 1ULL << VIRTIO_F_EVENT_IDX;
	virtio_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	virtio_set_driver_features(d, 0, want & virtio_offered(d));
	virtio_set_driver_features(d, 1, (want & virtio_offered(d)) >> 32);
	virtio_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
			  VIRTIO_S_FEATURES_OK);
	fuzz_queue(&d->vq[0], in);
	memcpy(vm->ram, in->p, in->left < RAM ? in->left : RAM);
	virtio_queue_enable(d, &d->vq[0]);
	virtio_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
			  VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
	virtio_set_status(d, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	disk = fuzz_tmpfile("disk");
	if (truncate(disk, DISK) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };

	fuzz_run(one, &in);
	fuzz_reset();
	return 0;
}
