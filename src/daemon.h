/*
 * daemon.h - running in the background: --daemon.
 */
#ifndef LGUEST_DAEMON_H
#define LGUEST_DAEMON_H

/* --daemon: fork.  The parent waits and exits with 0 once the child says
 * daemon_ready(), or with the child's own status if it dies first.  The
 * child leaves the session and lets go of stdin and stdout; its stderr is
 * still the parent's, so that whatever goes wrong while the guest is set
 * up reaches the user.  Call it before any thread or VM exists.  After a
 * reboot's exec() it knows it is a daemon already and only sends stderr
 * to syslog again.  @name (--name, or NULL) tags the log lines. */
void daemon_start(const char *name);

/* The guest runs: stderr goes to syslog from now on, the parent is told
 * and exits 0, and we leave the working directory.  Nothing when not a
 * daemon. */
void daemon_ready(void);

#endif
