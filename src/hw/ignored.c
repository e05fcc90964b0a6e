/*
 * ignored.c - ports a PC kernel touches that have nothing behind them.
 *
 * A kernel probes for chips it may find on a PC; on this machine they are
 * absent, and the answer of an empty bus (reads of all ones, writes that
 * vanish) is what tells it so.  Each range here is one such probe, known
 * and answered on purpose, so that what bus.c reports as unhandled is
 * only ever a surprise.
 */
#include <string.h>

#include "hw/hw.h"

static const struct {
	u16 base, len;
	const char *why;
} ranges[] = {
	/* Writes to 0x80 are the kernel's I/O delay; the rest are DMA page
	 * registers, read by code that saves them.  There is no ISA DMA. */
	{ 0x80, 0x10, "POST port and DMA page registers" },
	/* Fintek and other Super I/O chips are looked for by the 8250
	 * driver at their configuration ports: there is none. */
	{ 0x2e, 2, "Super I/O configuration, first address" },
	{ 0x4e, 2, "Super I/O configuration, second address" },
	/* The 8250 driver looks for COM2-COM4 where a PC has them; only
	 * COM1 is here, and an empty bus tells it so. */
	{ 0x2f8, 8, "COM2" },
	{ 0x3e8, 8, "COM3" },
	{ 0x2e8, 8, "COM4" },
	/* Linux's test for PCI configuration mechanism 1 writes a byte to
	 * 0xcfb, which a PCI host bridge ignores. */
	{ 0xcfb, 1, "PCI configuration mechanism 1 test byte" },
};

static void ignored_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	if (!write)
		memset(data, 0xff, size);
}

void ignored_init(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		pio_register(vm, ranges[i].base, ranges[i].len, ignored_io,
			     (void *)ranges[i].why);
}
