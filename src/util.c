/*
 * util.c - guest memory access and the small helpers that die usefully.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lguest.h"

bool verbose_flag;

/*L:015 guest_ptr() is the Launcher's check_pointer(): the only way from a
 * guest-physical address to a host one.  Guest RAM is two windows, below
 * the PCI hole and above 4 GiB; a range must lie wholly inside one.  The
 * comparisons are written so that no addition can wrap. */
void *guest_ptr(const struct vm *vm, u64 gpa, u64 len)
{
	u64 high = vm->ram_size - vm->low_end;

	if (gpa < vm->low_end) {
		if (len > vm->low_end - gpa)
			return NULL;
		return vm->ram + gpa;
	}
	if (gpa < HIGH_RAM_START || gpa - HIGH_RAM_START >= high)
		return NULL;
	if (len > high - (gpa - HIGH_RAM_START))
		return NULL;
	return vm->ram + vm->low_end + (gpa - HIGH_RAM_START);
}

int open_or_die(const char *name, int flags)
{
	int fd = open(name, flags | O_CLOEXEC);

	if (fd < 0)
		err(EXIT_ERROR, "cannot open %s", name);
	return fd;
}

void *malloc_or_die(size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		err(EXIT_ERROR, "out of memory allocating %zu bytes", size);
	return p;
}

/*L:020 Descriptors that outlive a reboot.  Reboot is exec() of ourselves,
 * and after the privileges are gone we could not open /dev/kvm, the taps,
 * the disks or even our own binary again.  So whatever was opened under a
 * key here is handed to the new image, listed in the environment variable
 * LGUEST_FDS as "key=fd" pairs separated by commas, and the new image
 * takes it instead of opening the path. */
#define MAX_KEPT 64

static struct kept {
	char key[24];
	int fd;
} kept[MAX_KEPT];
static int nkept;
static bool kept_parsed, rebooted;

static void parse_kept(void)
{
	const char *env = getenv("LGUEST_FDS");
	char key[24];
	int fd, n;

	kept_parsed = true;
	rebooted = env && *env;
	while (env && *env && nkept < MAX_KEPT) {
		if (sscanf(env, "%23[^=]=%d%n", key, &fd, &n) != 2)
			errx(EXIT_ERROR, "LGUEST_FDS: cannot parse '%s'", env);
		snprintf(kept[nkept].key, sizeof(kept[0].key), "%s", key);
		kept[nkept].fd = fd;
		/* Ours again, and closed on any exec but the next reboot. */
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		nkept++;
		env += n;
		if (*env == ',')
			env++;
	}
	unsetenv("LGUEST_FDS");
}

int fd_kept(const char *key)
{
	if (!kept_parsed)
		parse_kept();
	for (int i = 0; i < nkept; i++)
		if (!strcmp(kept[i].key, key))
			return kept[i].fd;
	return -1;
}

bool lguest_rebooted(void)
{
	if (!kept_parsed)
		parse_kept();
	return rebooted;
}

void fd_keep(const char *key, int fd)
{
	if (fd_kept(key) == fd)
		return;
	if (nkept == MAX_KEPT)
		errx(EXIT_ERROR, "too many descriptors to keep across reboot");
	snprintf(kept[nkept].key, sizeof(kept[0].key), "%s", key);
	kept[nkept++].fd = fd;
}

int open_kept(const char *key, const char *path, int flags)
{
	int fd = fd_kept(key);

	if (fd >= 0) {
		lseek(fd, 0, SEEK_SET);
		return fd;
	}
	fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0)
		fd_keep(key, fd);
	return fd;
}

/* Just before exec(): the kept descriptors stay open, and are listed. */
void fd_pass_on(void)
{
	char env[MAX_KEPT * 32] = "", *p = env;

	for (int i = 0; i < nkept; i++) {
		fcntl(kept[i].fd, F_SETFD, 0);
		p += snprintf(p, env + sizeof(env) - p, "%s%s=%d",
			      i ? "," : "", kept[i].key, kept[i].fd);
	}
	setenv("LGUEST_FDS", env, 1);
}
