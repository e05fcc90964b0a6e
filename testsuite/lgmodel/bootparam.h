/*
 * bootparam.h - the offsets in struct boot_params (the x86 "zero page",
 * Documentation/x86/boot.txt and zero-page.txt) that a paravirtualised
 * 32-bit guest and the lguest Launcher care about, and the lguest bus's
 * and legacy virtio's numbers.
 */
#ifndef LGMODEL_BOOTPARAM_H
#define LGMODEL_BOOTPARAM_H

#define BP_E820_ENTRIES		0x1e8	/* u8 */
#define BP_SETUP_SECTS		0x1f1	/* u8, in the setup header */
#define BP_BOOT_FLAG		0x1fe	/* u16, 0xaa55 */
#define BP_HEADER		0x202	/* u32, "HdrS" */
#define BP_VERSION		0x206	/* u16 */
#define BP_TYPE_OF_LOADER	0x210	/* u8 */
#define BP_LOADFLAGS		0x211	/* u8 */
#define BP_CODE32_START		0x214	/* u32 */
#define BP_RAMDISK_IMAGE	0x218	/* u32 */
#define BP_RAMDISK_SIZE		0x21c	/* u32 */
#define BP_CMD_LINE_PTR		0x228	/* u32 */
#define BP_HARDWARE_SUBARCH	0x23c	/* u32 */
#define BP_E820_MAP		0x2d0	/* {u64 addr, u64 size, u32 type} */

#define LOADFLAG_KEEP_SEGMENTS	0x40
#define SUBARCH_LGUEST		1
#define E820_RAM		1

/* Device types (virtio IDs) on the lguest bus. */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4

/* The status byte, legacy virtio. */
#define STATUS_ACKNOWLEDGE	1
#define STATUS_DRIVER		2
#define STATUS_DRIVER_OK	4
#define STATUS_FAILED		0x80

/* Feature bits. */
#define F_NET_MAC		5
#define F_NET_MRG_RXBUF		15
#define F_RING_INDIRECT_DESC	28
#define F_RING_EVENT_IDX	29
#define F_VERSION_1		32

/* Block requests. */
#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_T_GET_ID		8
#define BLK_S_OK		0
#define BLK_S_IOERR		1
#define BLK_S_UNSUPP		2

#endif
