/*
 * conhost.h - the host end of the guest's console: the terminal lguest
 * runs on, a pseudo-terminal, a Unix socket to attach to, or a file.
 */
#ifndef LGUEST_CONHOST_H
#define LGUEST_CONHOST_H

#include <poll.h>

#include "lguest.h"
#include "rundir.h"

/* --console=stdio (the default, also for a NULL @spec), pty, socket,
 * socket:PATH or file:PATH; --name=NAME (or NULL).  A name gets a
 * directory of its own (rundir.h), which holds the console's socket or a
 * link to its pty.  Call it while we may still create files there; a bad
 * spec is fatal.  After a reboot the console is the one handed over. */
void conhost_open(const char *spec, const char *name);

/* Guest output, from any thread. */
void conhost_write(const void *buf, size_t len);

/* What the main loop must poll for console input: fills at most @max
 * entries of @p, returns how many.  Ask again after every poll(). */
int conhost_pollfds(struct pollfd *p, int max);

/* Handle what poll() reported on the entries conhost_pollfds() gave:
 * keystrokes go to term_input(), socket clients come and go. */
void conhost_ready(const struct pollfd *p, int n);

/* Is the console our own terminal?  Then main() makes it raw. */
bool conhost_is_tty(void);

/* Remove the socket if we made one.  Registered with atexit() by
 * conhost_open(); safe to call again, and from the signal path. */
void conhost_cleanup(void);

#endif
