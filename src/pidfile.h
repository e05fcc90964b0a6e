/*
 * pidfile.h - a pid in a locked file: --pidfile, the lock on a named
 * guest's run directory, and the lock of the terminal attached to its
 * console.
 */
#ifndef LGUEST_PIDFILE_H
#define LGUEST_PIDFILE_H

#include <sys/types.h>

/* Open @name in the directory @dir (a descriptor, or AT_FDCWD), creating
 * it with @mode and @flags added to open()'s, and lock it for as long as
 * the descriptor stays open.  Returns the descriptor.  Else -1 with errno
 * set, and *@holder -1 if the file could not even be opened; otherwise
 * it could not be locked, and *@holder is the pid written in it by the
 * process holding the lock (errno EWOULDBLOCK), or 0 if none is. */
int pidfile_lock(int dir, const char *name, int flags, mode_t mode,
		 int *holder);

/* Write our pid in the file locked on @fd: 0, or -1 with errno set. */
int pidfile_write(int fd);

/* The pid written in @name in @dir, or 0. */
int pidfile_pid(int dir, const char *name);

/* --pidfile=PATH: created, locked and filled with our pid; removed at
 * exit.  Another lguest holding it is fatal, with its pid.  A daemon
 * calls it in the child, after daemon_start().  After a reboot the pid
 * file is the one still open, and locked, from before. */
void pidfile_open(const char *path);

/* Remove the pid file now (also registered with atexit()). */
void pidfile_remove(void);

#endif
