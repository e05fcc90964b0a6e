/*
 * console.c - virtio-console (virtio 1.x, 5.3): the guest's hvc0.
 *
 *L:730 The console was lguest's first device, and it is always there.
 * One port, no multiport control queue: queue 0 carries keystrokes to
 * the guest, queue 1 carries its output to our terminal.  The keyboard
 * is read by the main thread, which hands bytes to console_input(); they
 * wait in a buffer here until the driver gives us somewhere to put them.
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "conhost.h"
#include "iov.h"
#include "virtio/devices.h"
#include "virtio/virtio.h"

#define VIRTIO_CONSOLE_F_SIZE	0

#define INPUT_MAX		(64 * KiB)

struct virtio_console_config {
	u16 cols;
	u16 rows;
	u32 max_nr_ports;
	u32 emerg_wr;
} __attribute__((packed));

struct console {
	int out_fd;
	int input_fd;			/* eventfd: input arrived */
	bool ready;			/* the driver has asked for input */

	/* Keystrokes not yet taken, a ring of INPUT_MAX bytes. */
	pthread_mutex_t lock;
	u8 buf[INPUT_MAX];
	size_t head, len;

	struct virtio_console_config config;
	struct virtio_ops ops;
};

bool console_ready(struct vm *vm)
{
	struct console *con = vm->console->priv;

	return __atomic_load_n(&con->ready, __ATOMIC_ACQUIRE);
}

/*L:732 More than 64 KiB of typing the guest has not read means nobody is
 * reading: the excess is dropped rather than kept forever. */
void console_input(struct vm *vm, const u8 *buf, size_t len)
{
	struct console *con = vm->console->priv;
	u64 one = 1;
	size_t i;

	pthread_mutex_lock(&con->lock);
	for (i = 0; i < len && con->len < INPUT_MAX; i++, con->len++)
		con->buf[(con->head + con->len) % INPUT_MAX] = buf[i];
	pthread_mutex_unlock(&con->lock);
	if (con->input_fd >= 0 && write(con->input_fd, &one, sizeof(one)) < 0)
		warn("virtio-console: cannot wake the input thread");
}

/* Move buffered keystrokes into the guest's buffers; returns the count.
 * The ring may wrap: its tail end first, then its start. */
static u32 take_input(struct console *con, const struct iovec *iov,
		      unsigned n)
{
	size_t done, take;

	pthread_mutex_lock(&con->lock);
	take = INPUT_MAX - con->head;
	if (take > con->len)
		take = con->len;
	done = iov_to(iov, n, 0, con->buf + con->head, take);
	if (done == take && done < con->len)
		done += iov_to(iov, n, done, con->buf, con->len - done);
	con->head = (con->head + done) % INPUT_MAX;
	con->len -= done;
	pthread_mutex_unlock(&con->lock);
	return done;
}

static bool have_input(struct console *con)
{
	bool any;

	pthread_mutex_lock(&con->lock);
	any = con->len != 0;
	pthread_mutex_unlock(&con->lock);
	return any;
}

/* Sleep until there is input, or until the queue must stop. */
static bool wait_input(struct console *con, struct virtqueue *vq)
{
	struct pollfd p[2] = {
		{ .fd = con->input_fd, .events = POLLIN },
		{ .fd = vq->kick_fd, .events = POLLIN },
	};
	u64 n;

	for (;;) {
		if (vq->stopping)
			return false;
		if (have_input(con))
			return true;
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			warn("virtio-console: poll");
			return false;
		}
		if (p[0].revents && read(con->input_fd, &n, sizeof(n)) < 0 &&
		    errno != EAGAIN && errno != EINTR)
			warn("virtio-console: input eventfd");
		if (p[1].revents)
			vq_wait_kick(vq);
	}
}

/*L:734 Input: take a buffer from the driver first, then wait for keys to
 * fill it.  Holding the buffer is what tells main() the guest is
 * listening.  Each buffer goes back as soon as it has something in it:
 * a console is about latency, not throughput. */
static void console_rx(struct virtqueue *vq)
{
	struct console *con = vq->dev->priv;
	struct iovec iov[VQ_MAX_IOV];
	unsigned out, in;
	int head;
	u32 len;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		if (out || !in) {
			virtio_broken(vq->dev, "input buffer with %u readable "
				      "and %u writable parts", out, in);
			return;
		}
		__atomic_store_n(&con->ready, true, __ATOMIC_RELEASE);
		if (!wait_input(con, vq))
			return;
		len = take_input(con, iov, in);
		vq_push(vq, head, len);
		vq_interrupt(vq);
	}
}

/* Output: whatever the driver wrote goes to the console's host end. */
static void console_tx(struct virtqueue *vq)
{
	struct iovec iov[VQ_MAX_IOV];
	unsigned out, in;
	int head;

	while ((head = vq_get(vq, iov, &out, &in)) >= 0) {
		/* Nothing goes back to the driver on this queue. */
		if (in) {
			virtio_broken(vq->dev, "output buffer with %u writable "
				      "parts", in);
			return;
		}
		for (unsigned i = 0; i < out; i++)
			conhost_write(iov[i].iov_base, iov[i].iov_len);
		vq_push(vq, head, 0);
	}
}

/* A reset drops the buffer we were holding (its ring is gone) but keeps
 * the keystrokes: the next driver gets them. */
static void console_reset(struct virtio_dev *d)
{
	struct console *con = d->priv;

	__atomic_store_n(&con->ready, false, __ATOMIC_RELEASE);
}

static const struct virtio_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.num_queues = 2,
	.service = { console_rx, console_tx },
	.config_size = sizeof(struct virtio_console_config),
	.reset = console_reset,
};

void console_add(struct vm *vm, int out_fd)
{
	struct console *con = malloc_or_die(sizeof(*con));
	struct winsize ws;

	pthread_mutex_init(&con->lock, NULL);
	con->out_fd = out_fd;
	con->input_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (con->input_fd < 0)
		err(EXIT_ERROR, "virtio-console: eventfd");
	con->ops = console_ops;

	/* The terminal's size, so that full-screen programs in the guest
	 * start out right (it is not updated when the window changes). */
	if (isatty(out_fd) && ioctl(out_fd, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col && ws.ws_row) {
		con->config.cols = ws.ws_col;
		con->config.rows = ws.ws_row;
		con->ops.features = 1ULL << VIRTIO_CONSOLE_F_SIZE;
	}
	con->config.max_nr_ports = 1;
	vm->console = virtio_add(vm, &con->ops, con, &con->config);
}
