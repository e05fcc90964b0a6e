/*
 * attach.c - `lguest console NAME`, the other end of a guest's console.
 *
 *L:370 A guest started with --daemon --name=NAME keeps its console in
 * /run/lguest/NAME/ (rundir.c): a socket, or a link to a pty.  Attaching
 * makes this terminal raw and carries bytes both ways until the user
 * detaches, with Ctrl-] as telnet and virsh do or Ctrl-A d as screen
 * does; the guest runs on.  Every other key goes to the Launcher, whose
 * own escapes still work: Ctrl-A x stops the guest, Ctrl-A Ctrl-A sends
 * a Ctrl-A.
 *
 * One terminal at a time: attach.lock in the guest's directory is held
 * by whoever is attached, and a second attach names them and leaves.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "pidfile.h"
#include "rundir.h"
#include "term.h"

#define CTRL_A		0x01
#define CTRL_BRACKET	0x1d

/* How long to wait for a rebooting guest's console to come back. */
#define REBOOT_WAIT_MS	10000

enum end { END_DETACH, END_CLOSED, END_REFUSED };

static const char *name;
static char dir[PATH_MAX];

static void write_all(int fd, const void *buf, size_t len)
{
	const u8 *p = buf;
	ssize_t r;

	while (len) {
		r = write(fd, p, len);
		if (r > 0) {
			p += r;
			len -= r;
		} else if (r < 0 && errno != EINTR) {
			return;
		}
	}
}

/* The pid in the guest's lock: the Launcher running it, or 0. */
static int guest_pid(void)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/" RUNDIR_LOCK, dir);
	return pidfile_pid(AT_FDCWD, path);
}

/* The socket, or else the pty; -1 if neither is there to open. */
static int open_console(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX + 16];
	struct termios t;
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path),
			     "%s/" RUNDIR_SOCKET, dir) < sizeof(sa.sun_path)) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa,
				       sizeof(sa)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	snprintf(path, sizeof(path), "%s/" RUNDIR_PTY, dir);
	fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* The Launcher made it raw; make sure, so nothing echoes. */
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

/* The guest's console closed.  A reboot re-executes the Launcher, which
 * opens a new one under the same name: wait for it while the Launcher
 * lives.  When it is gone, its directory is gone with it. */
static int reopen(int pid)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int fd;

	for (int ms = 0; ms < REBOOT_WAIT_MS; ms += 100) {
		if (!pid || guest_pid() != pid ||
		    (kill(pid, 0) < 0 && errno == ESRCH))
			return -1;
		fd = open_console();
		if (fd >= 0)
			return fd;
		nanosleep(&ts, NULL);
	}
	return -1;
}

/*L:372 Only two things are ours: Ctrl-] and Ctrl-A d.  A Ctrl-A that
 * is followed by anything else goes on with it, so the Launcher sees its
 * own escapes whole.  A Ctrl-A at the end of one read waits for the
 * next.  Returns true to detach. */
static bool keys(int con, const u8 *buf, size_t len)
{
	static bool ctrl_a;
	u8 out[2 * 512];
	size_t n = 0;
	bool detach = false;

	for (size_t i = 0; i < len && !detach; i++) {
		u8 c = buf[i];

		if (ctrl_a) {
			ctrl_a = false;
			if (c == 'd' || c == 'D') {
				detach = true;
				continue;
			}
			out[n++] = CTRL_A;
			out[n++] = c;
		} else if (c == CTRL_BRACKET) {
			detach = true;
		} else if (c == CTRL_A) {
			ctrl_a = true;
		} else {
			out[n++] = c;
		}
	}
	write_all(con, out, n);
	return detach;
}

/* Carry bytes until a detach or the end of the console.  A console
 * whose whole output was the Launcher's "already attached" line turned
 * us away. */
static enum end relay(int con)
{
	struct pollfd p[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = con, .events = POLLIN },
	};
	char first[128];
	size_t got = 0;
	u8 buf[4096];
	ssize_t n;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return END_CLOSED;
		}
		if (p[1].revents) {
			n = read(con, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				first[got < sizeof(first) ? got : 0] = 0;
				if (got < sizeof(first) &&
				    strstr(first, "console is already attached"))
					return END_REFUSED;
				return END_CLOSED;
			}
			if (got + n < sizeof(first))
				memcpy(first + got, buf, n);
			got += n;
			write_all(STDOUT_FILENO, buf, n);
		}
		if (p[0].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf) / 2);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return END_DETACH;	/* our terminal went */
			if (keys(con, buf, n))
				return END_DETACH;
		}
	}
}

/* SIGTERM, SIGHUP and the like: the terminal goes back first. */
static void on_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* attach.lock: ours while we are attached, with our pid in it. */
static int take_lock(void)
{
	char path[PATH_MAX + 16];
	int fd, pid;

	snprintf(path, sizeof(path), "%s/" RUNDIR_ATTACH, dir);
	fd = pidfile_lock(AT_FDCWD, path, 0, 0600, &pid);
	if (fd < 0 && pid < 0) {
		warn("cannot open %s", path);
		return -1;
	}
	if (fd < 0) {
		if (pid)
			fprintf(stderr, "lguest: %s's console is already "
				"attached (by pid %d)\n", name, pid);
		else
			fprintf(stderr, "lguest: %s's console is already "
				"attached\n", name);
		return -1;
	}
	if (pidfile_write(fd) < 0)
		warn("cannot write %s", path);
	return fd;
}

int attach_main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
	enum end end;
	int con, lock, pid;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: lguest console NAME\n\n"
		       "Attach this terminal to the console of the guest "
		       "started with --name=NAME.\nCtrl-] or Ctrl-A d "
		       "detaches and leaves the guest running.\n");
		return 0;
	}
	if (argc != 2 || !rundir_name_ok(argv[1])) {
		fprintf(stderr, "lguest: usage: lguest console NAME\n");
		return EXIT_USAGE;
	}
	name = argv[1];
	snprintf(dir, sizeof(dir), "%s/%s", rundir_top(), name);
	if (access(dir, F_OK) < 0) {
		fprintf(stderr, "lguest: no guest named %s is running\n", name);
		return EXIT_ERROR;
	}
	lock = take_lock();
	if (lock < 0)
		return EXIT_ERROR;
	pid = guest_pid();
	con = open_console();
	if (con < 0) {
		fprintf(stderr, "lguest: %s's console cannot be attached to: "
			"it is on lguest's own terminal or in a file, or %s "
			"is not running\n", name, name);
		return EXIT_ERROR;
	}

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], on_signal);
	term_init();
	fprintf(stderr, "lguest: attached to %s; Ctrl-] or Ctrl-A d "
		"detaches\r\n", name);

	while ((end = relay(con)) == END_CLOSED) {
		close(con);
		con = reopen(pid);
		if (con < 0)
			break;
	}
	term_restore();
	switch (end) {
	case END_DETACH:
		fprintf(stderr, "\r\nlguest: detached from %s\r\n", name);
		return 0;
	case END_REFUSED:
		return EXIT_ERROR;	/* the Launcher said why */
	default:
		fprintf(stderr, "\r\nlguest: %s's console closed\r\n", name);
		return EXIT_ERROR;
	}
}
