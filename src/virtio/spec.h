/*
 * spec.h - numbers and layouts from the virtio 1.x specification, shared
 * by the Launcher's devices and the test guest's drivers: both sides of
 * the ring must agree, so they say it once.  Needs u16/u32/u64.
 */
#ifndef LGUEST_VIRTIO_SPEC_H
#define LGUEST_VIRTIO_SPEC_H

/* Device IDs (5). */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4

/* Device status (2.1). */
#define VIRTIO_S_ACKNOWLEDGE	1
#define VIRTIO_S_DRIVER		2
#define VIRTIO_S_DRIVER_OK	4
#define VIRTIO_S_FEATURES_OK	8
#define VIRTIO_S_NEEDS_RESET	64
#define VIRTIO_S_FAILED		128

/* Reserved feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32

/* No MSI-X vector (4.1.5.1.2). */
#define VIRTIO_MSI_NO_VECTOR	0xffff

/* The PCI transport's common configuration structure (4.1.4.3). */
struct virtio_pci_common_cfg {
	u32 device_feature_select;
	u32 device_feature;
	u32 driver_feature_select;
	u32 driver_feature;
	u16 msix_config;
	u16 num_queues;
	u8 device_status;
	u8 config_generation;
	u16 queue_select;
	u16 queue_size;
	u16 queue_msix_vector;
	u16 queue_enable;
	u16 queue_notify_off;
	u64 queue_desc;
	u64 queue_driver;
	u64 queue_device;
} __attribute__((packed));

/* Split virtqueues (2.7). */
struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

#define VRING_DESC_F_NEXT		1
#define VRING_DESC_F_WRITE		2
#define VRING_DESC_F_INDIRECT		4
#define VRING_USED_F_NO_NOTIFY		1
#define VRING_AVAIL_F_NO_INTERRUPT	1

/* Block device (5.2). */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13

#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

/* Network device (5.1). */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_S_LINK_UP		1

/* The control queue (5.1.6.5): a class, a command, its data, and an
 * ack byte for the device to write. */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET	0

#endif
