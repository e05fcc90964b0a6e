/*
 * handover.c - from one image of the Launcher to the next.
 *
 *L:020 Reboot is exec() of ourselves, and after the privileges are gone
 * the new image could not open /dev/kvm, the taps, the disks or even our
 * own binary again, nor make the console's socket where the first image
 * did.  So each part hands over what it will need: descriptors, left
 * open across the exec(), and a few short values (that we are a daemon,
 * that the seccomp filter is ours, what the console is).  All of it goes
 * in one environment variable,
 *
 *	LGUEST_HANDOVER=exe:3,kvm:4,block1:5,conhost=socket,conhost.ino=77
 *
 * a descriptor as "key:N", a value as "key=VALUE" with every byte but
 * letters, digits and "._/-" written as %XX.  The new image reads it
 * before anyone asks (seccomp.c asks first, from a constructor), takes
 * it out of the environment, and believes nothing it cannot check: a
 * descriptor must be open, and anything malformed is fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handover.h"
#include "lguest.h"

#define MAX_ITEMS	256	/* a multiqueue tap keeps a descriptor per queue */
#define KEY_MAX		32
#define VALUE_MAX	256
#define MAX_HOOKS	8

static struct item {
	char key[KEY_MAX];
	int fd;			/* a descriptor, or -1 */
	char *value;		/* or a value (never both) */
} items[MAX_ITEMS];
static int nitems;

static void (*hooks[MAX_HOOKS])(void);
static int nhooks;

static bool loaded, rebooted;

static const char key_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";
static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-";
static const char hex[] = "0123456789ABCDEF";

static void *must(void *p)
{
	if (!p)
		errx(EXIT_ERROR, "out of memory");
	return p;
}

static struct item *find(const char *key)
{
	for (int i = 0; i < nitems; i++)
		if (!strcmp(items[i].key, key))
			return &items[i];
	return NULL;
}

/* One line, whatever the variable holds: the entry, up to its end, a
 * control character or 60 bytes. */
static void __attribute__((noreturn)) bad(const char *at, const char *why)
{
	int len = 0;

	while (at[len] && at[len] != ',' && (unsigned char)at[len] >= ' ' &&
	       len < 60)
		len++;
	errx(EXIT_ERROR, "%s: cannot parse '%.*s': %s", HANDOVER_ENV, len, at,
	     why);
}

static const char *parse_fd(const char *at, const char *p, int *fd)
{
	long long n = 0;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		bad(at, "not a descriptor");
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > INT_MAX)
			bad(at, "not a descriptor");
	}
	if (*p && *p != ',')
		bad(at, "not a descriptor");
	if (fcntl(n, F_GETFD) < 0)
		bad(at, "that descriptor is not open");
	/* Ours again, and closed on any exec() but the next reboot's. */
	if (n > STDERR_FILENO)
		fcntl(n, F_SETFD, FD_CLOEXEC);
	*fd = n;
	return p;
}

static int unhex(char c)
{
	const char *h = c ? strchr(hex, c) : NULL;

	return h ? h - hex : -1;
}

static const char *parse_value(const char *at, const char *p, char **value)
{
	char buf[VALUE_MAX];
	size_t len = 0;
	int hi, lo;

	for (; *p && *p != ','; p++) {
		if (len == sizeof(buf) - 1)
			bad(at, "the value is too long");
		if (strchr(plain, *p)) {
			buf[len++] = *p;
			continue;
		}
		hi = *p == '%' ? unhex(p[1]) : -1;
		lo = hi >= 0 ? unhex(p[2]) : -1;
		if (lo < 0 || (hi | lo) == 0)
			bad(at, "not a value");
		buf[len++] = hi << 4 | lo;
		p += 2;
	}
	buf[len] = 0;
	*value = must(strdup(buf));
	return p;
}

/* "key:N" or "key=VALUE", at @at; returns where it ends. */
static const char *parse_item(const char *at)
{
	size_t klen = strspn(at, key_chars);
	struct item it = { .fd = -1 };
	const char *p = at + klen;

	if (!klen || klen >= KEY_MAX)
		bad(at, "not a key");
	memcpy(it.key, at, klen);
	if (*p == ':')
		p = parse_fd(at, p + 1, &it.fd);
	else if (*p == '=')
		p = parse_value(at, p + 1, &it.value);
	else
		bad(at, "neither key:descriptor nor key=value");
	if (find(it.key))
		bad(at, "the key is given twice");
	if (nitems == MAX_ITEMS)
		bad(at, "too many entries");
	items[nitems++] = it;
	return p;
}

static void load(void)
{
	const char *env, *p;

	if (loaded)
		return;
	loaded = true;
	env = getenv(HANDOVER_ENV);
	if (!env)
		return;
	for (p = parse_item(env); *p; p = parse_item(p + 1))
		;
	rebooted = true;
	unsetenv(HANDOVER_ENV);
}

/* Set @key to a descriptor or a value; neither takes it back. */
static void put(const char *key, int fd, const char *value)
{
	size_t klen = strspn(key, key_chars);
	struct item *it;
	char *copy;

	load();
	if (!klen || klen >= KEY_MAX || key[klen])
		errx(EXIT_ERROR, "cannot hand '%s' over on reboot: not a key",
		     key);
	if (value && strlen(value) >= VALUE_MAX)
		errx(EXIT_ERROR, "cannot hand %s over on reboot: too long",
		     key);
	/* Copied first: @value may be the very string it replaces. */
	copy = value ? must(strdup(value)) : NULL;
	it = find(key);
	if (it) {
		free(it->value);
	} else if (fd < 0 && !copy) {
		return;
	} else {
		if (nitems == MAX_ITEMS)
			errx(EXIT_ERROR, "too much to hand over on reboot");
		it = &items[nitems++];
		snprintf(it->key, sizeof(it->key), "%s", key);
	}
	if (fd < 0 && !copy) {
		memmove(it, it + 1, (char *)&items[--nitems] - (char *)it);
		return;
	}
	it->fd = fd;
	it->value = copy;
}

int handover_fd(const char *key)
{
	struct item *it;

	load();
	it = find(key);
	return it && !it->value ? it->fd : -1;
}

void handover_set_fd(const char *key, int fd)
{
	put(key, fd, NULL);
}

const char *handover_value(const char *key)
{
	struct item *it;

	load();
	it = find(key);
	return it ? it->value : NULL;
}

void handover_set_value(const char *key, const char *value)
{
	put(key, -1, value);
}

bool handover_number(const char *key, unsigned long long *n)
{
	const char *v = handover_value(key);
	char *end;

	if (!v)
		return false;
	errno = 0;
	*n = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno)
		handover_invalid(key);
	return true;
}

void handover_set_number(const char *key, unsigned long long n)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", n);
	put(key, -1, buf);
}

bool handover_rebooted(void)
{
	load();
	return rebooted;
}

void handover_invalid(const char *key)
{
	errx(EXIT_ERROR, "%s: cannot parse the value of %s", HANDOVER_ENV,
	     key);
}

void handover_on_exec(void (*fn)(void))
{
	for (int i = 0; i < nhooks; i++)
		if (hooks[i] == fn)
			return;
	if (nhooks == MAX_HOOKS)
		errx(EXIT_ERROR, "too many things to do on reboot");
	hooks[nhooks++] = fn;
}

static char *encode(void)
{
	size_t size = 1;
	char *env, *p;

	for (int i = 0; i < nitems; i++)
		size += strlen(items[i].key) + 2 +
			(items[i].value ? 3 * strlen(items[i].value) : 11);
	env = p = must(malloc(size));
	for (int i = 0; i < nitems; i++) {
		const struct item *it = &items[i];

		p += sprintf(p, "%s%s", i ? "," : "", it->key);
		if (!it->value) {
			p += sprintf(p, ":%d", it->fd);
			continue;
		}
		*p++ = '=';
		for (const u8 *s = (const u8 *)it->value; *s; s++) {
			if (strchr(plain, *s)) {
				*p++ = *s;
				continue;
			}
			*p++ = '%';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 15];
		}
	}
	*p = 0;
	return env;
}

void handover_exec(char *const argv[])
{
	char *env;
	int e;

	load();
	for (int i = 0; i < nhooks; i++)
		hooks[i]();
	for (int i = 0; i < nitems; i++)
		if (!items[i].value && items[i].fd > STDERR_FILENO)
			fcntl(items[i].fd, F_SETFD, 0);
	env = encode();
	if (setenv(HANDOVER_ENV, env, 1) == 0)
		fexecve(handover_fd("exe"), argv, environ);
	e = errno;
	free(env);
	errno = e;
}

int open_kept(const char *key, const char *path, int flags)
{
	int fd = handover_fd(key);

	if (fd >= 0) {
		lseek(fd, 0, SEEK_SET);
		return fd;
	}
	fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0)
		handover_set_fd(key, fd);
	return fd;
}
