/*
 * hostile.h - what the hostile-*.c scenarios share.
 */
#ifndef TESTGUEST_HOSTILE_H
#define TESTGUEST_HOSTILE_H

#include "virtio.h"

/* Does @s start with @p? */
static inline bool h_prefix(const char *s, const char *p)
{
	while (*p)
		if (*s++ != *p++)
			return false;
	return true;
}

/* hostile-pci.c: a read of sector 0 on @vq; its status, 0xee if none. */
u8 h_read0(struct vdev *d, struct vq *vq, u64 ms);
/* hostile-msix.c: true if @kind is an MSI-X kind (and it was run). */
bool h_msix(struct vdev *d, const char *kind);

#endif
