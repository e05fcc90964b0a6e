/*
 * daemon.c - running in the background.
 *
 *L:360 A daemon is easy to make and easy to make badly.  The usual
 * mistake is to fork at once and let the parent exit 0, so that the
 * shell or service manager that started us hears "fine" about a guest
 * whose kernel was not even there.  Here the parent stays until the
 * child says the vCPU is running, or dies trying, and exits with what
 * it said or how it died.  Until then the child's errors go to the
 * parent's stderr as they would in the foreground; only once the guest
 * is up does stderr become syslog.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "handover.h"
#include "lguest.h"

static bool daemonized;
static int status_fd = -1;	/* the child's end of the parent's pipe */
static char *start_dir;		/* where we were started */
static const char *log_name;
static bool logging;
static pthread_t log_thread;

/* The parent: wait for the word, or for the child's end. */
static void __attribute__((noreturn)) parent_wait(int fd, pid_t child)
{
	u8 status;
	ssize_t n;
	int ws;

	do
		n = read(fd, &status, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(status);
	while (waitpid(child, &ws, 0) < 0)
		if (errno != EINTR)
			_exit(EXIT_ERROR);
	if (WIFEXITED(ws))
		_exit(WEXITSTATUS(ws));
	if (WIFSIGNALED(ws))
		_exit(128 + WTERMSIG(ws));
	_exit(EXIT_ERROR);
}

/* One syslog record per line.  Our lines start "lguest: ", which the
 * ident says already; a line may give its priority as "<N>", as a
 * service's lines to the journal do, and is an error otherwise. */
static void log_line(char *s)
{
	const char *prefix = program_invocation_short_name;
	size_t plen = strlen(prefix);
	int prio = LOG_ERR;
	char *end;

	while (*s == '\r')
		s++;
	for (end = s + strlen(s); end > s && end[-1] == '\r'; end--)
		end[-1] = 0;
	if (!strncmp(s, prefix, plen) && s[plen] == ':' && s[plen + 1] == ' ')
		s += plen + 2;
	if (s[0] == '<' && s[1] >= '0' && s[1] <= '7' && s[2] == '>') {
		prio = s[1] - '0';
		s += 3;
	}
	if (!*s)
		return;
	if (log_name)
		syslog(prio, "%s: %s", log_name, s);
	else
		syslog(prio, "%s", s);
}

static void *log_main(void *arg)
{
	int fd = (int)(long)arg;
	char buf[1024], *start, *nl;
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		start = buf;
		while ((nl = memchr(start, '\n', buf + len - start))) {
			*nl = 0;
			log_line(start);
			start = nl + 1;
		}
		len -= start - buf;
		memmove(buf, start, len);
		if (len == sizeof(buf) - 1) {	/* a very long line */
			buf[len] = 0;
			log_line(buf);
			len = 0;
		}
	}
	if (len) {
		buf[len] = 0;
		log_line(buf);
	}
	close(fd);
	return NULL;
}

/* Every line already written reaches syslog before we go: the logging
 * thread reads until the pipe is closed, which it is when fd 2 is. */
static void flush_log(void)
{
	int null;

	if (!logging)
		return;
	logging = false;
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDERR_FILENO);
		close(null);
	} else {
		close(STDERR_FILENO);
	}
	pthread_join(log_thread, NULL);
}

/*L:362 stderr becomes a pipe, read by a thread of its own that hands
 * each line to syslog (and so to the journal): err(), warnx() and
 * verbose() need not know.  The thread takes no signals: those are the
 * main loop's, through its signalfd. */
static void start_log(void)
{
	sigset_t all, old;
	int p[2];

	openlog("lguest", LOG_PID, LOG_DAEMON);
	if (pipe2(p, O_CLOEXEC) < 0)
		err(EXIT_ERROR, "pipe");
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&log_thread, NULL, log_main, (void *)(long)p[0]))
		errx(EXIT_ERROR, "cannot start the logging thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (dup2(p[1], STDERR_FILENO) < 0)
		err(EXIT_ERROR, "dup2");
	close(p[1]);
	logging = true;
	atexit(flush_log);
}

static void detach_stdio(void)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0)
		err(EXIT_ERROR, "cannot open /dev/null");
	if (dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		err(EXIT_ERROR, "dup2");
	if (null > STDERR_FILENO)
		close(null);
}

/* Just before a reboot's exec(): log lines written so far reach syslog,
 * and the new image starts in the directory the first one started in. */
static void before_exec(void)
{
	if (!daemonized)
		return;
	flush_log();
	if (start_dir && chdir(start_dir) < 0)
		warn("cannot return to %s", start_dir);
}

void daemon_start(const char *name)
{
	pid_t pid;
	int p[2];

	log_name = name;
	daemonized = true;
	start_dir = get_current_dir_name();
	handover_on_exec(before_exec);
	if (handover_value("daemon")) {
		/* A reboot: nobody is waiting, and stdin and stdout are
		 * /dev/null already. */
		start_log();
		return;
	}
	fflush(NULL);
	if (pipe2(p, O_CLOEXEC) < 0)
		err(EXIT_ERROR, "pipe");
	pid = fork();
	if (pid < 0)
		err(EXIT_ERROR, "cannot fork");
	if (pid > 0) {
		close(p[1]);
		parent_wait(p[0], pid);
	}
	close(p[0]);
	status_fd = p[1];
	if (setsid() < 0)
		err(EXIT_ERROR, "setsid");
	detach_stdio();
	/* So that the image a reboot exec()s knows it has no parent
	 * waiting and no terminal. */
	handover_set_value("daemon", "1");
}

void daemon_ready(void)
{
	u8 ok = 0;

	if (!daemonized)
		return;
	/* stderr first: the parent's caller may wait for it to close. */
	if (!logging)
		start_log();
	if (chdir("/") < 0)
		warn("chdir /");
	if (status_fd >= 0) {
		if (write(status_fd, &ok, 1) != 1)
			warn("cannot tell the parent the guest runs");
		close(status_fd);
		status_fd = -1;
	}
}
