/*
 * fault.c - scenarios for faults made on the host side while the guest
 * runs (lguest.fault) and for long runs (lguest.soak):
 *
 *   blkfill  writes the disk from sector 0 until a write fails (its image
 *            sits on a file system that fills up first)
 *   blkerr   checks the disk works, waits for a key while the host breaks
 *            the image's file system, then expects every request to fail
 *   netgone  sends datagrams to its peer for time= seconds while the host
 *            deletes the tap under it
 *   churn    block writes and reads with verification, and UDP to a peer,
 *            until time= seconds passed or the power button is pressed
 */
#include "virtio.h"

#define SECTOR		512
#define CHUNK		(64 * 1024)
#define CHUNK_SECTORS	(CHUNK / SECTOR)
#define PWRBTN_EN	(1 << 8)
#define ETH_P_IP	0x0800
#define ETH_HLEN	14
#define UDP_PORT	9		/* discard */
#define UDP_SIZE	256
#define UDP_BURST	8

/* Byte i of a chunk that starts at @sector, written in round @round:
 * every sector and every round different, so a stale or misplaced
 * sector shows. */
static void fill(u8 *p, u64 sector, u64 round)
{
	for (u32 i = 0; i < CHUNK; i++)
		p[i] = (u8)((sector + i / SECTOR) * 7 + round * 131 + i % 251);
}

static struct vdev *disk_open(const char *who, u64 *cap)
{
	struct vdev *d = blk_open((int)arg_u64("disk", 0), vdev_want());

	*cap = blk_capacity(d);
	if (*cap < CHUNK_SECTORS)
		fail("%s: capacity %lu sectors, too small", who, *cap);
	return d;
}

/* Read back the chunk at @sector and compare it with round @round's. */
static void verify(struct vdev *d, const char *who, u8 *buf, u8 *want,
		   u64 sector, u64 round)
{
	u8 st;

	memset(buf, 0, CHUNK);
	st = blk_rw(d, VIRTIO_BLK_T_IN, sector, buf, CHUNK);
	if (st != VIRTIO_BLK_S_OK)
		fail("%s: read of sector %lu: status %u", who, sector, st);
	fill(want, sector, round);
	if (memcmp(buf, want, CHUNK))
		fail("%s: sectors %lu-%lu read back differ", who, sector,
		     sector + CHUNK_SECTORS - 1);
}

void test_blkfill(void)
{
	u64 cap, s;
	struct vdev *d = disk_open("blkfill", &cap);
	u8 *buf = alloc(CHUNK, 4096), *want = alloc(CHUNK, 4096), st = 0;

	printf("blkfill: capacity %lu sectors\n", cap);
	for (s = 0; s + CHUNK_SECTORS <= cap; s += CHUNK_SECTORS) {
		fill(buf, s, 0);
		st = blk_rw(d, VIRTIO_BLK_T_OUT, s, buf, CHUNK);
		if (st != VIRTIO_BLK_S_OK)
			break;
	}
	if (st == VIRTIO_BLK_S_OK)
		fail("blkfill: %lu sectors written, no error", s);
	printf("blkfill: write of sector %lu: status %u after %lu sectors\n",
	       s, st, s);
	/* A full disk fails again, and quietly; what fitted is intact. */
	for (int i = 0; i < 16; i++) {
		st = blk_rw(d, VIRTIO_BLK_T_OUT, s, buf, CHUNK);
		if (st != VIRTIO_BLK_S_IOERR)
			fail("blkfill: write %d again: status %u", i, st);
	}
	printf("blkfill: 16 more writes ioerr\n");
	verify(d, "blkfill", buf, want, 0, 0);
	if (s > CHUNK_SECTORS)
		verify(d, "blkfill", buf, want, s - CHUNK_SECTORS, 0);
	printf("blkfill: readback ok\n");
	done();
}

void test_blkerr(void)
{
	u64 cap;
	struct vdev *d = disk_open("blkerr", &cap);
	u8 *buf = alloc(CHUNK, 4096), *want = alloc(CHUNK, 4096);
	u8 r, w, f;

	fill(buf, 0, 1);
	if (blk_rw(d, VIRTIO_BLK_T_OUT, 0, buf, CHUNK) != VIRTIO_BLK_S_OK)
		fail("blkerr: first write failed");
	verify(d, "blkerr", buf, want, 0, 1);
	printf("blkerr: ready\n");
	(void)serial_getc();

	/* The chunk just read may be in the host's page cache: an error
	 * must come all the same. */
	r = blk_rw(d, VIRTIO_BLK_T_IN, 0, buf, CHUNK);
	w = blk_rw(d, VIRTIO_BLK_T_OUT, CHUNK_SECTORS, want, CHUNK);
	f = d->features & BIT(VIRTIO_BLK_F_FLUSH) ?
		blk_rw(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0) : VIRTIO_BLK_S_IOERR;
	printf("blkerr: read status %u write status %u flush status %u\n",
	       r, w, f);
	for (int i = 0; i < 64; i++)
		if (blk_rw(d, i & 1 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			   (u64)i * CHUNK_SECTORS % cap, buf, SECTOR) !=
		    VIRTIO_BLK_S_IOERR)
			fail("blkerr: request %d after the fault succeeded", i);
	printf("blkerr: 64 more requests ioerr\n");
	done();
}

/* Queue @n datagrams to the peer's discard port, one doorbell. */
static void udp_burst(const u8 *dmac, const u8 *tmpl, int n)
{
	u32 len = 20 + 8 + UDP_SIZE;

	for (int i = 0; i < n; i++) {
		u8 *f = net_frame(dmac, ETH_P_IP);

		memcpy(f + ETH_HLEN, tmpl, len);
		net_frame_send(f, ETH_HLEN + len);
	}
	net_kick();
}

static const u8 *udp_setup(const char *who, u8 **tmpl)
{
	const u8 *dmac;

	net_quiet = true;
	net_start(who, arg("ip"), arg("peer"));
	if (!arg("peer"))
		fail("%s: no peer=", who);
	dmac = net_resolve(who);
	*tmpl = alloc(20 + 8 + UDP_SIZE, 64);
	udp_build(*tmpl, net_peer_ip(), UDP_PORT, UDP_SIZE);
	return dmac;
}

void test_netgone(void)
{
	u8 *tmpl;
	const u8 *dmac = udp_setup("netgone", &tmpl);
	u64 dl = deadline(arg_u64("time", 10) * 1000), bursts = 0;

	printf("netgone: ready\n");
	while (!expired(dl)) {
		udp_burst(dmac, tmpl, UDP_BURST);
		bursts++;
		for (u64 pause = deadline(10); !expired(pause);)
			net_poll();
	}
	net_tx_drain();
	printf("netgone: %lu datagrams sent, %u echo requests answered\n",
	       bursts * UDP_BURST, net_answered());
	done();
}

static bool button_pressed(void)
{
	if (!(inw(PORT_PM1A_EVT) & ACPI_PWRBTN_STS))
		return false;
	outw(PORT_PM1A_EVT, ACPI_PWRBTN_STS);
	return true;
}

/*
 * churn [time=S] [late=MS] [ip= peer=]: round after round, write a chunk
 * at the next place on the disk, read it and the one before back and
 * compare; with a NIC, send a burst of datagrams to the peer and answer
 * pings.  Stops after S seconds (0: only on the power button) and says
 * how much it did; late=MS goes on for MS after the button, as an OS
 * taking its time to shut down would.
 */
void test_churn(void)
{
	u64 cap, secs = arg_u64("time", 0), late = arg_u64("late", 0),
	    rounds = 0, udp = 0, at = 0, chunks, dl = 0, last = 0;
	bool pressed = false;
	struct vdev *d = disk_open("churn", &cap);
	u8 *buf = alloc(CHUNK, 4096), *want = alloc(CHUNK, 4096), *tmpl = NULL;
	const u8 *dmac = NULL;

	outw(PORT_PM1A_EVT + 2, PWRBTN_EN);
	chunks = cap / CHUNK_SECTORS;
	if (vdev_find(VIRTIO_ID_NET, 0))
		dmac = udp_setup("churn", &tmpl);
	if (secs)
		dl = deadline(secs * 1000);
	printf("churn: ready, %lu chunks%s\n", chunks, dmac ? ", net" : "");

	for (;;) {
		u64 s = at * CHUNK_SECTORS, round = rounds / chunks;
		u8 st;

		if (secs && expired(dl))
			break;
		if (!pressed && button_pressed()) {
			printf("churn: power button, %lu ms more\n", late);
			pressed = true;
			if (!late)
				break;
			dl = deadline(late);
			secs = 1;
		}

		fill(buf, s, round);
		st = blk_rw(d, VIRTIO_BLK_T_OUT, s, buf, CHUNK);
		if (st != VIRTIO_BLK_S_OK)
			fail("churn: write of sector %lu: status %u", s, st);
		verify(d, "churn", buf, want, s, round);
		if (at)
			verify(d, "churn", buf, want, s - CHUNK_SECTORS, round);
		at = (at + 1) % chunks;
		rounds++;
		if (dmac) {
			udp_burst(dmac, tmpl, UDP_BURST);
			udp += UDP_BURST;
			while (net_poll())
				;
		}
		/* A line now and then, so that a stuck guest shows. */
		if (rounds - last >= 2000) {
			printf("churn: %lu rounds\n", rounds);
			last = rounds;
		}
	}
	if (dmac)
		net_tx_drain();
	printf("churn: %lu rounds verified, %lu datagrams sent, "
	       "%u echo requests answered\n", rounds, udp,
	       dmac ? net_answered() : 0);
	done();
}
