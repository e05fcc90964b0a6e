/*
 * notify.c - sd_notify(3): READY=1 once the guest runs, STATUS= lines as
 * it lives, STOPPING=1 when it is on its way out.
 *
 * libsystemd is loaded only when a service manager is listening
 * (NOTIFY_SOCKET is set): it and the libraries it pulls in are a
 * megabyte of memory that a Launcher run by hand has no use for.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <dlfcn.h>

static int (*sd_notify_fn)(int unset_environment, const char *state);

void notify_init(void)
{
	void *lib;

	if (!getenv("NOTIFY_SOCKET"))
		return;
	lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (lib)
		sd_notify_fn = (int (*)(int, const char *))dlsym(lib, "sd_notify");
}

static void tell(const char *msg)
{
	if (sd_notify_fn)
		sd_notify_fn(0, msg);
}
#else
void notify_init(void)
{
}

static void tell(const char *msg)
{
	(void)msg;
}
#endif

void notify_ready(void)
{
	tell("READY=1\nSTATUS=guest running");
}

void notify_stopping(void)
{
	tell("STOPPING=1");
}

void notify_status(const char *fmt, ...)
{
	char msg[256] = "STATUS=";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
	va_end(ap);
	tell(msg);
}
