/*
 * rundir.h - a named guest's directory, /run/lguest/NAME/: where its
 * console is found, with a lock that says the name is taken, and by whom.
 */
#ifndef LGUEST_RUNDIR_H
#define LGUEST_RUNDIR_H

#include <stdbool.h>

/* What a guest's directory holds. */
#define RUNDIR_LOCK	"lock"		/* the Launcher's pid, locked */
#define RUNDIR_SOCKET	"console.sock"	/* the console's socket, or a link */
#define RUNDIR_PTY	"console"	/* a link to the console's pty */
#define RUNDIR_ATTACH	"attach.lock"	/* the attached terminal's pid */

/* Where the guests' directories are: $LGUEST_RUNDIR, or /run/lguest. */
const char *rundir_top(void);

/* Names are one path component of letters, digits, '.', '_' and '-'. */
bool rundir_name_ok(const char *name);

/* --name=NAME: create NAME's directory and take its lock, for as long as
 * we run; a name another lguest holds is fatal, with its pid.  Call it
 * while we may still create files there.  After a reboot the directory
 * and the lock are the ones handed over.  Removed at exit. */
void rundir_open(const char *name);

/* The guest's directory: a descriptor (O_PATH), or -1 if there is none;
 * and its path, for messages. */
int rundir_fd(void);
const char *rundir_path(void);

/* Point @link in the guest's directory at @target, replacing what was
 * there; fatal if it cannot. */
void rundir_link(const char *target, const char *link);

/* Empty the guest's directory and remove it.  Registered with atexit()
 * by rundir_open(); safe to call again, and from the signal path. */
void rundir_cleanup(void);

#endif
