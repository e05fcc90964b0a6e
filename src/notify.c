/*
 * notify.c - sd_notify(3): READY=1 once the guest runs, STATUS= lines as
 * it lives, STOPPING=1 when it is on its way out.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

static void tell(const char *msg)
{
	sd_notify(0, msg);
}
#else
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
