/*
 * conhost.c - the host end of the guest's console.
 *
 *L:350 Both of the guest's consoles, the 8250 and hvc0, write here, and
 * keystrokes come from here.  The host end is the terminal lguest runs
 * on, as it always was; or, for a guest that runs in the background, a
 * pseudo-terminal any terminal program can open, a Unix socket that
 * `lguest console NAME` attaches to, or a file that only collects what
 * the guest says.  A named guest's console is found in its directory
 * (rundir.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "conhost.h"
#include "handover.h"
#include "rundir.h"
#include "term.h"

enum kind { CON_STDIO, CON_PTY, CON_SOCKET, CON_FILE };

/* What a client that attaches is shown first: the screen it missed. */
#define REPLAY_SIZE	(16 * KiB)

/* How long guest output waits for a slow reader before it is dropped. */
#define OUT_WAIT_MS	20

static struct conhost {
	enum kind kind;
	const char *name;
	pid_t owner;		/* the process that removes the socket */
	pthread_mutex_t lock;	/* output, and client_fd changing */

	int out_fd;		/* stdout, the pty master or the file */
	int in_fd;		/* stdin or the pty master; -1 for none */
	int slave_fd;		/* our own hold on the pty's slave side */
	int listen_fd;		/* the socket we accept clients on */
	int client_fd;		/* the attached client, or -1 */
	int log_fd;		/* a copy of the output, or -1 */

	u8 ring[REPLAY_SIZE];	/* the last output, for the next client */
	size_t ring_head, ring_len;

	/* Where the socket is, as a descriptor, and its name there: removal
	 * at exit must work after a chroot, or a daemon's chdir("/"). */
	int sock_dir_fd;
	char sock_base[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ino_t sock_ino;
} ch = {
	.kind = CON_STDIO,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.out_fd = STDOUT_FILENO,
	.in_fd = STDIN_FILENO,
	.slave_fd = -1,
	.listen_fd = -1,
	.client_fd = -1,
	.log_fd = -1,
	.sock_dir_fd = -1,
};

/* A console with files of its own: the socket is removed at exit, and
 * the console is handed over on reboot. */
static void own(void)
{
	if (ch.owner != getpid()) {
		ch.owner = getpid();
		atexit(conhost_cleanup);
	}
}

/*L:352 A pty.  We keep its slave side open ourselves: otherwise every
 * poll() of the master reports a hang-up while no one has the console
 * open.  The slave starts raw and without echo, or the line discipline
 * would send the guest's output straight back to it as keystrokes. */
static void open_pty(void)
{
	struct termios t;
	char path[64];
	int m, s;

	m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (m < 0)
		err(EXIT_ERROR, "cannot open /dev/ptmx for the console");
	if (grantpt(m) < 0 || unlockpt(m) < 0 ||
	    ptsname_r(m, path, sizeof(path)) != 0)
		err(EXIT_ERROR, "cannot set up a pty for the console");
	s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		err(EXIT_ERROR, "cannot open %s", path);
	if (tcgetattr(s, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(s, TCSANOW, &t);
	}
	ch.out_fd = ch.in_fd = m;
	ch.slave_fd = s;
	warnx("console on %s", path);
	if (rundir_fd() >= 0)
		rundir_link(path, RUNDIR_PTY);
}

/* Is something listening on @path already? */
static bool listening(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool yes;

	if (fd < 0)
		return false;
	yes = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return yes;
}

/*L:354 A socket.  A socket file left behind by an lguest that died, or
 * by our own image before a reboot, is replaced; a live one is not. */
static void open_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[PATH_MAX + 16], *slash;
	struct stat st;
	int fd;

	if (!*path) {
		if (rundir_fd() < 0)
			errx(EXIT_USAGE, "--console=socket needs a path "
			     "(socket:PATH), or --name=NAME for %s/NAME/"
			     RUNDIR_SOCKET, rundir_top());
		snprintf(buf, sizeof(buf), "%s/" RUNDIR_SOCKET, rundir_path());
		path = buf;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		errx(EXIT_USAGE, "--console=socket:%s: the path is too long "
		     "for a socket (at most %zu bytes)", path,
		     sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			errx(EXIT_ERROR, "%s exists and is not a socket", path);
		if (listening(&sa))
			errx(EXIT_ERROR, "%s: another lguest is listening "
			     "there", path);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err(EXIT_ERROR, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err(EXIT_ERROR, "cannot create the console socket %s", path);
	/* Removed at exit by directory and name, wherever we are then. */
	slash = strrchr(sa.sun_path, '/');
	snprintf(ch.sock_base, sizeof(ch.sock_base), "%s",
		 slash ? slash + 1 : sa.sun_path);
	if (slash)
		*slash = 0;
	ch.sock_dir_fd = open(!slash ? "." : slash == sa.sun_path ? "/" :
			      sa.sun_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (stat(path, &st) == 0)
		ch.sock_ino = st.st_ino;
	own();
	if (chmod(path, 0600) < 0 || listen(fd, 4) < 0)
		err(EXIT_ERROR, "cannot listen on %s", path);
	ch.listen_fd = fd;
	ch.in_fd = -1;
	ch.out_fd = -1;

	/* A socket elsewhere is still found under the guest's name (and
	 * one already there needs no link to itself). */
	if (rundir_fd() >= 0 && path != buf &&
	    !(fstatat(rundir_fd(), RUNDIR_SOCKET, &st, AT_SYMLINK_NOFOLLOW) == 0
	      && S_ISSOCK(st.st_mode) && st.st_ino == ch.sock_ino)) {
		if (path[0] == '/')
			snprintf(buf, sizeof(buf), "%s", path);
		else if (getcwd(buf, sizeof(buf) - strlen(path) - 1))
			strcat(strcat(buf, "/"), path);
		else
			err(EXIT_ERROR, "getcwd");
		rundir_link(buf, RUNDIR_SOCKET);
	}
}

static void open_file(const char *path)
{
	ch.out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY |
			 O_CLOEXEC, 0644);
	if (ch.out_fd < 0)
		err(EXIT_ERROR, "cannot open the console file %s", path);
	ch.in_fd = -1;
}

/*L:358 A reboot exec()s the Launcher afresh, but a console with files
 * of its own (a name's directory, or a socket) carries on: its
 * descriptors, the listening socket, an attached client, the pty, are
 * handed to the new image (handover.c), where the old one could create
 * them and, after a chroot or as another user, the new one might not.
 * A client attached across a reboot sees the new boot and never
 * notices. */
static const char *const kind_name[] = {
	[CON_STDIO] = "stdio",
	[CON_PTY] = "pty",
	[CON_SOCKET] = "socket",
	[CON_FILE] = "file",
};

static const struct {
	const char *key;
	int *fd;
} kept_fds[] = {
	{ "conhost.out", &ch.out_fd },
	{ "conhost.in", &ch.in_fd },
	{ "conhost.pty", &ch.slave_fd },
	{ "conhost.listen", &ch.listen_fd },
	{ "conhost.client", &ch.client_fd },
	{ "conhost.sockdir", &ch.sock_dir_fd },
};

static bool adopt(void)
{
	const char *kind = handover_value("conhost"), *sock;
	unsigned long long ino = 0;
	size_t k = 0;

	if (!kind)
		return false;
	while (k < ARRAY_SIZE(kind_name) && strcmp(kind, kind_name[k]))
		k++;
	if (k == ARRAY_SIZE(kind_name))
		handover_invalid("conhost");
	ch.kind = k;
	for (size_t i = 0; i < ARRAY_SIZE(kept_fds); i++)
		*kept_fds[i].fd = handover_fd(kept_fds[i].key);
	handover_number("conhost.ino", &ino);
	ch.sock_ino = ino;
	sock = handover_value("conhost.sock");
	snprintf(ch.sock_base, sizeof(ch.sock_base), "%s", sock ? sock : "");
	own();
	return true;
}

/* Just before a reboot's exec(): what the console is now, down to the
 * client that may have come or gone. */
static void hand_over(void)
{
	if (ch.owner != getpid())
		return;
	handover_set_value("conhost", kind_name[ch.kind]);
	for (size_t i = 0; i < ARRAY_SIZE(kept_fds); i++)
		handover_set_fd(kept_fds[i].key, *kept_fds[i].fd);
	handover_set_number("conhost.ino", ch.sock_ino);
	handover_set_value("conhost.sock", ch.sock_base[0] ? ch.sock_base :
			   NULL);
}

/*L:355 With the console elsewhere, a stdout that is no terminal -- the
 * journal, when systemd runs us -- gets a copy of what the guest says,
 * so its boot messages are in the log.  Not /dev/null: that is a daemon
 * with nowhere to log. */
static void copy_to_log(void)
{
	struct stat st;

	if (ch.kind == CON_STDIO || isatty(STDOUT_FILENO) ||
	    fstat(STDOUT_FILENO, &st) < 0)
		return;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		return;
	ch.log_fd = STDOUT_FILENO;
}

void conhost_open(const char *spec, const char *name)
{
	enum kind kind;

	if (!spec || !strcmp(spec, "stdio"))
		kind = CON_STDIO;
	else if (!strcmp(spec, "pty"))
		kind = CON_PTY;
	else if (!strcmp(spec, "socket") || !strncmp(spec, "socket:", 7))
		kind = CON_SOCKET;
	else if (!strncmp(spec, "file:", 5) && spec[5])
		kind = CON_FILE;
	else
		errx(EXIT_USAGE, "--console=%s: say stdio, pty, socket, "
		     "socket:PATH or file:PATH", spec);
	handover_on_exec(hand_over);
	ch.name = name;
	if (name) {
		rundir_open(name);
		own();
	}
	if (adopt()) {
		copy_to_log();
		return;
	}

	ch.kind = kind;
	switch (kind) {
	case CON_STDIO:
		break;
	case CON_PTY:
		open_pty();
		break;
	case CON_SOCKET:
		open_socket(spec[6] ? spec + 7 : "");
		break;
	case CON_FILE:
		open_file(spec + 5);
		break;
	}
	copy_to_log();
}

bool conhost_is_tty(void)
{
	return ch.kind == CON_STDIO && isatty(STDIN_FILENO);
}

/* Wait a little for @fd to take more; false if it did not. */
static bool wait_out(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, ms) > 0 && !(p.revents & (POLLERR | POLLHUP));
}

/* Our terminal, or the file: everything is written, as it always was;
 * a stdout someone made non-blocking is waited for. */
static void out_blocking(int fd, const u8 *buf, size_t len)
{
	ssize_t r;

	while (len) {
		r = write(fd, buf, len);
		if (r > 0) {
			buf += r;
			len -= r;
		} else if (r < 0 && errno == EAGAIN) {
			wait_out(fd, -1);
		} else if (r < 0 && errno != EINTR) {
			return;		/* output gone: drop it */
		}
	}
}

/*L:356 A pty nobody reads fills up, and the guest must not stop for
 * that: after a moment's grace the oldest output, still waiting on the
 * slave side, is thrown away.  What is there when someone opens the
 * console is the newest, which is what they want to see. */
static void out_pty(const u8 *buf, size_t len)
{
	bool flushed = false;
	ssize_t r;

	while (len) {
		r = write(ch.out_fd, buf, len);
		if (r > 0) {
			buf += r;
			len -= r;
		} else if (r < 0 && errno == EAGAIN) {
			if (wait_out(ch.out_fd, OUT_WAIT_MS))
				continue;
			if (flushed || tcflush(ch.slave_fd, TCIFLUSH) < 0)
				return;
			flushed = true;
		} else if (r < 0 && errno != EINTR) {
			return;
		}
	}
}

/* Keep the last REPLAY_SIZE bytes of output. */
static void remember(const u8 *buf, size_t len)
{
	size_t tail, n;

	if (len >= REPLAY_SIZE) {
		buf += len - REPLAY_SIZE;
		len = REPLAY_SIZE;
	}
	while (len) {
		tail = (ch.ring_head + ch.ring_len) % REPLAY_SIZE;
		n = REPLAY_SIZE - tail < len ? REPLAY_SIZE - tail : len;
		memcpy(ch.ring + tail, buf, n);
		buf += n;
		len -= n;
		ch.ring_len += n;
		if (ch.ring_len > REPLAY_SIZE) {
			ch.ring_head = (ch.ring_head + ch.ring_len -
					REPLAY_SIZE) % REPLAY_SIZE;
			ch.ring_len = REPLAY_SIZE;
		}
	}
}

/* To the client, if there is one, without ever waiting long for it. */
static void out_client(const u8 *buf, size_t len)
{
	ssize_t r;

	while (ch.client_fd >= 0 && len) {
		r = send(ch.client_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r > 0) {
			buf += r;
			len -= r;
		} else if (r < 0 && errno == EAGAIN) {
			if (!wait_out(ch.client_fd, OUT_WAIT_MS))
				return;
		} else if (r < 0 && errno != EINTR) {
			return;		/* main() notices it has gone */
		}
	}
}

void conhost_write(const void *buf, size_t len)
{
	pthread_mutex_lock(&ch.lock);
	switch (ch.kind) {
	case CON_STDIO:
	case CON_FILE:
		out_blocking(ch.out_fd, buf, len);
		break;
	case CON_PTY:
		out_pty(buf, len);
		break;
	case CON_SOCKET:
		remember(buf, len);
		out_client(buf, len);
		break;
	}
	if (ch.log_fd >= 0)
		out_blocking(ch.log_fd, buf, len);
	pthread_mutex_unlock(&ch.lock);
}

int conhost_pollfds(struct pollfd *p, int max)
{
	int fds[3] = { ch.in_fd, ch.listen_fd, ch.client_fd };
	int n = 0;

	for (int i = 0; i < 3 && n < max; i++)
		if (fds[i] >= 0)
			p[n++] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	return n;
}

/* One client at a time: a second is told so, rather than taking the
 * console from the first without a word. */
static void accept_client(void)
{
	char msg[128];
	size_t first;
	int fd;

	fd = accept4(ch.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (ch.client_fd >= 0) {
		snprintf(msg, sizeof(msg), "lguest: %s's console is already "
			 "attached\n", ch.name ? ch.name : "this guest");
		if (send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			verbose("cannot tell a second console client why not");
		close(fd);
		return;
	}
	pthread_mutex_lock(&ch.lock);
	ch.client_fd = fd;
	first = REPLAY_SIZE - ch.ring_head;
	if (first > ch.ring_len)
		first = ch.ring_len;
	out_client(ch.ring + ch.ring_head, first);
	out_client(ch.ring, ch.ring_len - first);
	pthread_mutex_unlock(&ch.lock);
	verbose("console client attached");
}

static void drop_client(void)
{
	pthread_mutex_lock(&ch.lock);
	close(ch.client_fd);
	ch.client_fd = -1;
	pthread_mutex_unlock(&ch.lock);
	verbose("console client detached");
}

/* Keystrokes, wherever they come from, go through the escapes: Ctrl-A x
 * from an attached client stops the guest as it would at the terminal. */
static void take_input(int fd)
{
	u8 buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0) {
		term_input(buf, n);
		return;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (fd == ch.client_fd)
		drop_client();
	else if (ch.kind == CON_STDIO)
		ch.in_fd = -1;		/* no more input; carry on */
}

void conhost_ready(const struct pollfd *p, int n)
{
	for (int i = 0; i < n; i++) {
		if (!p[i].revents || p[i].fd < 0)
			continue;
		if (p[i].fd == ch.listen_fd)
			accept_client();
		else if (p[i].fd == ch.in_fd || p[i].fd == ch.client_fd)
			take_input(p[i].fd);
	}
}

/* Remove the socket if it is still the one we made. */
static void unlink_socket(void)
{
	struct stat st;

	if (ch.sock_dir_fd < 0)
		return;
	if (fstatat(ch.sock_dir_fd, ch.sock_base, &st, AT_SYMLINK_NOFOLLOW) == 0
	    && st.st_ino == ch.sock_ino)
		unlinkat(ch.sock_dir_fd, ch.sock_base, 0);
}

void conhost_cleanup(void)
{
	if (ch.owner != getpid())
		return;
	ch.owner = 0;
	unlink_socket();
}
