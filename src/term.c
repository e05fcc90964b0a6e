/*
 * term.c - the terminal the guest borrows.
 *
 * The guest's console wants every keystroke, so the terminal goes into
 * raw mode.  Whatever happens afterwards -- poweroff, a fatal error, a
 * signal, a reboot by exec() -- the user must get their terminal back,
 * which is why term_restore() is registered with atexit() and also
 * called by hand before exec() and from the signal path.
 */
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "term.h"

static struct termios saved;
static bool raw;
static term_sink sink;
static void *sink_opaque;

void term_restore(void)
{
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

void term_init(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	t = saved;
	/* Like cfmakeraw(), but output processing stays on: the guest's
	 * "\n" still comes out as a new line when it forgets the "\r". */
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
		       ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	raw = true;
	atexit(term_restore);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
		err(EXIT_ERROR, "cannot set the terminal to raw mode");
}

void term_set_sink(term_sink s, void *opaque)
{
	sink = s;
	sink_opaque = opaque;
}

static void deliver(const u8 *buf, size_t len)
{
	if (sink && len)
		sink(sink_opaque, buf, len);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*L:345 The escapes.  lguest's own: three ^C within a second leave (each
 * ^C still reaches the guest, which may want it).  QEMU's, which hands
 * already know: Ctrl-A x leaves, Ctrl-A Ctrl-A sends one Ctrl-A. */
void term_input(const u8 *buf, size_t len)
{
	static bool ctrl_a;
	static int ctrl_c;
	static double first_c;
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		u8 c = buf[i];

		if (ctrl_a) {
			ctrl_a = false;
			start = i + 1;
			if (c == 'x' || c == 'X')
				vm_stop(STOP_CONSOLE);
			else if (c == 0x01)
				deliver(&c, 1);
			continue;
		}
		if (c == 0x01) {
			deliver(buf + start, i - start);
			start = i + 1;
			ctrl_a = true;
			continue;
		}
		if (c != 0x03) {
			ctrl_c = 0;
			continue;
		}
		if (ctrl_c == 0 || now() - first_c > 1.0) {
			ctrl_c = 0;
			first_c = now();
		}
		if (++ctrl_c == 3)
			vm_stop(STOP_CONSOLE);
	}
	deliver(buf + start, len - start);
}
