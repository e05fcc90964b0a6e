/*
 * rundir.c - a named guest's directory.
 *
 *L:351 A guest started with --name=NAME gets a directory, /run/lguest/
 * NAME/, where its console can be found: "console.sock" is the socket,
 * "console" a link to the pty.  The lock file there says the name is
 * taken, and by whom; `lguest console NAME` adds attach.lock while it
 * is attached.  All of it goes when the Launcher does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handover.h"
#include "lguest.h"
#include "pidfile.h"
#include "rundir.h"

/* The run directory and ours inside it, as descriptors: removal at exit
 * must work after a chroot, or a daemon's chdir("/"). */
static struct {
	const char *name;
	char path[PATH_MAX];
	int top_fd, dir_fd, lock_fd;
	pid_t owner;		/* the process that removes them */
} rd = { .top_fd = -1, .dir_fd = -1, .lock_fd = -1 };

const char *rundir_top(void)
{
	const char *d = getenv("LGUEST_RUNDIR");

	return d && *d ? d : "/run/lguest";
}

bool rundir_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > 64 || name[0] == '.' || name[0] == '-')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

static void make(const char *run, const char *name)
{
	int pid;

	if (mkdir(run, 0755) < 0 && errno != EEXIST)
		err(EXIT_ERROR, "cannot create %s", run);
	rd.top_fd = open(run, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rd.top_fd < 0)
		err(EXIT_ERROR, "cannot open %s", run);
	if (mkdirat(rd.top_fd, name, 0750) < 0 && errno != EEXIST)
		err(EXIT_ERROR, "cannot create %s/%s", run, name);
	rd.dir_fd = openat(rd.top_fd, name,
			   O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rd.dir_fd < 0)
		err(EXIT_ERROR, "cannot open %s/%s", run, name);
	rd.lock_fd = pidfile_lock(rd.dir_fd, RUNDIR_LOCK, O_NOFOLLOW, 0644,
				  &pid);
	if (rd.lock_fd < 0 && pid < 0)
		err(EXIT_ERROR, "cannot open %s/%s/lock", run, name);
	if (rd.lock_fd < 0 && errno != EWOULDBLOCK)
		err(EXIT_ERROR, "cannot lock %s/%s/lock", run, name);
	if (rd.lock_fd < 0)
		errx(EXIT_ERROR, "a guest named %s is already running (pid %d)",
		     name, pid);
	if (pidfile_write(rd.lock_fd) < 0)
		warn("cannot write our pid to a lock file");
}

/* The lock is held for as long as we run, reboots included: its
 * descriptor, and the directories', are handed to the new image. */
void rundir_open(const char *name)
{
	const char *run = rundir_top();

	if (!rundir_name_ok(name))
		errx(EXIT_USAGE, "--name=%s: a name is up to 64 letters, "
		     "digits, '.', '_' and '-', and starts with neither '.' "
		     "nor '-'", name);
	rd.top_fd = handover_fd("rundir.top");
	rd.dir_fd = handover_fd("rundir.dir");
	rd.lock_fd = handover_fd("rundir.lock");
	if (rd.dir_fd < 0)
		make(run, name);
	handover_set_fd("rundir.top", rd.top_fd);
	handover_set_fd("rundir.dir", rd.dir_fd);
	handover_set_fd("rundir.lock", rd.lock_fd);
	snprintf(rd.path, sizeof(rd.path), "%s/%s", run, name);
	rd.name = name;
	rd.owner = getpid();
	atexit(rundir_cleanup);
}

int rundir_fd(void)
{
	return rd.dir_fd;
}

const char *rundir_path(void)
{
	return rd.path;
}

void rundir_link(const char *target, const char *link)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), ".%s.%d", link, (int)getpid());
	unlinkat(rd.dir_fd, tmp, 0);
	if (symlinkat(target, rd.dir_fd, tmp) < 0 ||
	    renameat(rd.dir_fd, tmp, rd.dir_fd, link) < 0)
		err(EXIT_ERROR, "cannot link %s/%s to %s", rd.path, link,
		    target);
}

void rundir_cleanup(void)
{
	if (rd.owner != getpid())
		return;
	rd.owner = 0;
	unlinkat(rd.dir_fd, RUNDIR_PTY, 0);
	unlinkat(rd.dir_fd, RUNDIR_SOCKET, 0);
	unlinkat(rd.dir_fd, RUNDIR_ATTACH, 0);
	unlinkat(rd.dir_fd, RUNDIR_LOCK, 0);
	unlinkat(rd.top_fd, rd.name, AT_REMOVEDIR);
}
