/*
 * initrd.c - check the initrd arrived intact: where it is, how big, and
 * its CRC-32 (the zlib/IEEE 802.3 one), which the testsuite computes on
 * the host side for comparison.
 */
#include "guest.h"

static u32 crc_table[256];

static void crc32_init(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* zlib's crc32(crc, p, len): pass 0 to start, the result to go on. */
u32 crc32_update(u32 crc, const void *p, u64 len)
{
	const u8 *b = p;
	u32 c = crc ^ 0xffffffff;

	if (!crc_table[1])
		crc32_init();
	while (len--)
		c = crc_table[(c ^ *b++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffff;
}

void test_initrd(void)
{
	u64 addr = boot.initrd_addr, size = boot.initrd_size;

	if (!size) {
		printf("initrd: none\n");
		done();
	}
	if (addr + size > MAPPED_END || addr + size < addr) {
		printf("initrd: addr 0x%016lx size %lu out of reach\n", addr,
		       size);
		pvpanic();
	}
	printf("initrd: addr 0x%016lx size %lu crc32 0x%08x\n", addr, size,
	       crc32_update(0, phys(addr), size));
	done();
}
