/*
 * vconsole.c - the virtio-console (virtio 1.x, 5.3) and entropy device
 * (5.4) scenarios: vcons and rng.
 */
#include "virtio.h"

#define CONS_RX		0	/* receiveq, port 0 */
#define CONS_TX		1	/* transmitq, port 0 */
#define RX_BUFS		16
#define RX_LEN		64
#define RNG_BYTES	64

static void cons_write(struct vq *tx, const void *p, u32 len)
{
	static u8 *out;
	struct vbuf b;

	if (!out)
		out = alloc(4096, 4096);
	if (len > 4096)
		len = 4096;
	memcpy(out, p, len);
	b = (struct vbuf){ out, len, false };
	if (vq_add(tx, &b, 1, out) < 0)
		fail("vcons: transmitq full");
	vq_kick(tx);
	vq_wait(tx, NULL);
}

void test_vcons(void)
{
	static const char hello[] = "hvc0: hello from the test guest\r\n";
	struct vdev *d = vdev_find(VIRTIO_ID_CONSOLE, 0);
	struct vq *rx, *tx;
	u8 *bufs;
	bool quit = false;

	if (!d)
		fail("no virtio-console device");
	vdev_init(d, vdev_want());
	rx = vdev_queue(d, CONS_RX, 0, true);
	tx = vdev_queue(d, CONS_TX, 0, true);
	vdev_driver_ok(d);

	cons_write(tx, hello, sizeof(hello) - 1);
	bufs = alloc(RX_BUFS * RX_LEN, 64);
	for (int i = 0; i < RX_BUFS && i < rx->size; i++) {
		struct vbuf b = { bufs + i * RX_LEN, RX_LEN, true };

		vq_add(rx, &b, 1, b.addr);
	}
	vq_kick(rx);
	printf("vcons: ready\n");

	/* Echo until 'q'.  No time limit: the other side types. */
	while (!quit) {
		u32 len;
		u8 *p = vq_get(rx, &len);
		struct vbuf b;

		if (!p) {
			asm volatile("pause");
			continue;
		}
		if (len > RX_LEN)
			fail("vcons: %u bytes in a %u-byte buffer", len, RX_LEN);
		for (u32 i = 0; i < len; i++)
			if (p[i] == 'q') {
				len = i + 1;
				quit = true;
			}
		if (len)
			cons_write(tx, p, len);
		b = (struct vbuf){ p, RX_LEN, true };
		vq_add(rx, &b, 1, p);
		vq_kick(rx);
	}
	cons_write(tx, "\r\n", 2);	/* so what follows starts a line */
	printf("vcons: got q\n");
	done();
}

static void rng_read(struct vq *vq, u8 *buf, u32 want)
{
	u32 got = 0, len;

	while (got < want) {
		struct vbuf b = { buf + got, want - got, true };

		vq_add(vq, &b, 1, buf);
		vq_kick(vq);
		vq_wait(vq, &len);
		if (!len || len > want - got)
			fail("rng: device wrote %u bytes of %u", len, want - got);
		got += len;
	}
}

void test_rng(void)
{
	struct vdev *d = vdev_find(VIRTIO_ID_RNG, (int)arg_u64("dev", 0));
	struct vq *vq;
	u8 *buf;
	bool varied = false;

	if (!d)
		fail("no virtio-rng device");
	vdev_init(d, vdev_want());
	vq = vdev_queue(d, 0, 0, true);
	vdev_driver_ok(d);
	buf = alloc(2 * RNG_BYTES, 64);
	for (int k = 0; k < 2; k++) {
		u8 *p = buf + k * RNG_BYTES;

		rng_read(vq, p, RNG_BYTES);
		printf("rng: %d bytes ", RNG_BYTES);
		for (int i = 0; i < RNG_BYTES; i++)
			printf("%02x", p[i]);
		printf("\n");
	}
	for (int i = 1; i < 2 * RNG_BYTES; i++)
		if (buf[i] != buf[0])
			varied = true;
	if (!varied || !memcmp(buf, buf + RNG_BYTES, RNG_BYTES))
		fail("rng: the bytes do not look random");
	printf("rng: ok\n");
	done();
}
