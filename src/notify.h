/*
 * notify.h - telling the service manager how the guest is doing.
 * Without libsystemd, or outside a Type=notify service, these do nothing.
 */
#ifndef LGUEST_NOTIFY_H
#define LGUEST_NOTIFY_H

/* Before privileges and the root change: loads libsystemd if needed. */
void notify_init(void);
void notify_ready(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
