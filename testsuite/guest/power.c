/*
 * power.c - the scenarios for stopping a guest from the host side: the
 * ACPI power button that SIGTERM presses (powerbutton, and a guest that
 * ignores it), a reboot on request (for counting what a reboot keeps),
 * and a disk whose flushed writes must survive the Launcher being killed.
 */
#include "virtio.h"

#define PWRBTN_EN	(1 << 8)	/* PM1 enable: same bit as the status */
#define POLL_MS		10
#define FLUSH_SECTORS	16
#define SECTOR		512

/* PM1 status is write-1-to-clear; reading it is an exit, so not too often. */
static u16 pm1_status(void)
{
	return inw(PORT_PM1A_EVT);
}

static void wait_for_button(void)
{
	while (!(pm1_status() & ACPI_PWRBTN_STS))
		delay_ms(POLL_MS);
}

/*
 * Enable the power button event, as an OS's ACPI driver does, then wait
 * for the Launcher to press the button.  Interrupts stay off: the SCI it
 * raises goes nowhere, the status bit is what we watch.
 */
void test_powerbutton(void)
{
	outw(PORT_PM1A_EVT + 2, PWRBTN_EN);
	if (pm1_status() & ACPI_PWRBTN_STS)
		fail("powerbutton: PWRBTN_STS set before any press");
	printf("powerbutton: waiting\n");
	wait_for_button();
	outw(PORT_PM1A_EVT, ACPI_PWRBTN_STS);
	if (pm1_status() & ACPI_PWRBTN_STS)
		fail("powerbutton: PWRBTN_STS still set after writing 1 to it");
	printf("powerbutton: pressed\n");
	done();
}

/* A guest that has the button enabled but never looks at it. */
void test_ignorebutton(void)
{
	outw(PORT_PM1A_EVT + 2, PWRBTN_EN);
	printf("ignorebutton: waiting\n");
	for (;;)
		delay_ms(1000);
}

/* A boot that waits to be told to reboot: between boots the Launcher is
 * quiet and can be looked at from outside. */
void test_rebootkey(void)
{
	printf("rebootkey: ready\n");
	(void)serial_getc();
	printf("reboot: via i8042\n");
	outb(PORT_I8042_CMD, 0xfe);
	linger();
	printf("lguest-testguest: still running after i8042 reset\n");
	pvpanic();
}

/* Byte i of sector s, for seed=N: unlike the blk scenario's pattern, and
 * different in each half of a sector. */
static u8 flush_byte(u64 seed, u64 s, u32 i)
{
	return (u8)((seed * 101 + s * 29 + i * 3 + (i >> 8)) ^ 0x5a);
}

/*
 * Write FLUSH_SECTORS sectors from sector 0, flush, say so, and then
 * neither power off nor touch the disk again: the testsuite kills the
 * Launcher with SIGKILL and reads the image, which must already hold
 * every byte.
 */
void test_blkflush(void)
{
	struct vdev *d = blk_open((int)arg_u64("disk", 0), vdev_want());
	u64 seed = arg_u64("seed", 0), cap = blk_capacity(d);
	u32 len = FLUSH_SECTORS * SECTOR;
	u8 *buf = alloc(len, 4096), st;

	if (cap < FLUSH_SECTORS)
		fail("blkflush: capacity %lu sectors, need %d", cap,
		     FLUSH_SECTORS);
	if (!(d->features & BIT(VIRTIO_BLK_F_FLUSH)))
		fail("blkflush: the device does not offer FLUSH");
	for (u32 i = 0; i < len; i++)
		buf[i] = flush_byte(seed, i / SECTOR, i % SECTOR);
	st = blk_rw(d, VIRTIO_BLK_T_OUT, 0, buf, len);
	if (st != VIRTIO_BLK_S_OK)
		fail("blkflush: write status %u", st);
	st = blk_rw(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
	if (st != VIRTIO_BLK_S_OK)
		fail("blkflush: flush status %u", st);
	printf("blkflush: flushed %d sectors crc32 0x%08x\n", FLUSH_SECTORS,
	       crc32_update(0, buf, len));
	for (;;)
		delay_ms(1000);
}
