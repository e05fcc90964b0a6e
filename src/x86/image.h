/*
 * image.h - reading kernel and initrd files for the loaders (boot.c for
 * KVM's 64-bit entry, boot32.c for /dev/lguest's paravirt one).
 */
#ifndef LGUEST_X86_IMAGE_H
#define LGUEST_X86_IMAGE_H

#include "lguest.h"

/*
 * A kernel image is read from a file, or from memory when it was gzipped.
 * Every read goes through img_read(), which refuses to go past the end, so
 * the header values of a hostile file cannot make us read garbage.
 */
struct image {
	const char *name;
	int fd;			/* read from here, unless... */
	const u8 *buf;		/* ...the image is already in memory */
	u64 size;
};

#define SETUP_HDR	0x1f1		/* setup header's offset in the file */
#define SETUP_HDR_MAX	(0x290 - SETUP_HDR)	/* room for it in boot_params */

/* What the loader learns about the kernel, for boot_setup() or
 * boot32_setup() later. */
struct boot_kernel {
	bool bzimage;
	u8 hdr[SETUP_HDR_MAX];	/* the bzImage's setup header, raw */
	size_t hdr_len;
	u32 cmdline_max;	/* longest command line, without the NUL */
	u64 initrd_max;		/* the initrd must end at or below this */
	u64 initrd_addr, initrd_size;
};

static inline u64 min64(u64 a, u64 b) { return a < b ? a : b; }
static inline u64 max64(u64 a, u64 b) { return a > b ? a : b; }
static inline u64 mib_up(u64 n) { return n / MiB + (n % MiB != 0); }

/* Exactly @len bytes at @off, or errx() naming the file. */
void img_read(const struct image *img, void *dst, u64 off, u64 len);

/* Open a file we are about to load, kept across reboots under @key,
 * refusing what cannot be loaded (@what says what it should be). */
int open_image(const char *key, const char *file, const char *what,
	       u64 *size);

#endif
