/*
 * serial.c - an 8250/16550A UART at COM1.
 *
 * A PC kernel's first words go here (earlyprintk=serial, console=ttyS0),
 * long before any virtio driver loads, and so do the test guest's.  We
 * transmit at once, so the transmitter is always empty; received bytes
 * wait in a FIFO until the guest reads them.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "conhost.h"
#include "hw/hw.h"
#include "x86/layout.h"

enum { RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR };

#define IER_RDI		0x01	/* interrupt when data received */
#define IER_THRI	0x02	/* interrupt when transmitter empty */
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define FIFO_SIZE	4096

struct uart {
	struct vm *vm;
	pthread_mutex_t lock;
	u8 ier, fcr, lcr, mcr, scr, dll, dlm;
	bool thri;		/* a "transmitter empty" interrupt is due */
	int irq_level;
	u8 fifo[FIFO_SIZE];
	unsigned head, count;
};

/* The line is level-triggered: up while anything enabled is pending. */
static void update_irq(struct uart *u)
{
	int level = ((u->ier & IER_RDI) && u->count) ||
		    ((u->ier & IER_THRI) && u->thri);

	if (level != u->irq_level) {
		u->irq_level = level;
		vm_irq_line(u->vm, IRQ_COM1, level);
	}
}

static void push(struct uart *u, u8 c)
{
	if (u->count == FIFO_SIZE)
		return;		/* overrun: the byte is lost, as on a UART */
	u->fifo[(u->head + u->count++) % FIFO_SIZE] = c;
}

/* A byte the guest sent: looped back, or (returns true) for the console,
 * which uart_io() writes once the lock is dropped -- a console that
 * blocks must never hold up the keyboard, which needs the lock too. */
static bool transmit(struct uart *u, u8 c)
{
	if (u->mcr & MCR_LOOP) {
		push(u, c);
		return false;
	}
	return true;
}

static u8 msr(struct uart *u)
{
	u8 m = u->mcr;

	if (!(m & MCR_LOOP))
		return 0xb0;	/* carrier, data set ready, clear to send */
	/* Loopback: the modem outputs come back as inputs. */
	return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) |
	       ((m & 0x08) << 4);
}

static u8 uart_read(struct uart *u, int reg)
{
	u8 v;

	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (!u->count)
			return 0;
		v = u->fifo[u->head];
		u->head = (u->head + 1) % FIFO_SIZE;
		u->count--;
		return v;
	case IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case IIR_FCR:
		v = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
		if ((u->ier & IER_RDI) && u->count)
			return v | IIR_RDI;
		if ((u->ier & IER_THRI) && u->thri) {
			u->thri = false;	/* reading IIR acknowledges it */
			return v | IIR_THRI;
		}
		return v | IIR_NONE;
	case LCR:
		return u->lcr;
	case MCR:
		return u->mcr;
	case LSR:
		return LSR_THRE | LSR_TEMT | (u->count ? LSR_DR : 0);
	case MSR:
		return msr(u);
	default:
		return u->scr;
	}
}

/* Returns true when @v is a byte for the console. */
static bool uart_write(struct uart *u, int reg, u8 v)
{
	bool out;

	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			return false;
		}
		out = transmit(u, v);
		u->thri = true;
		return out;
	case IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			return false;
		}
		/* Enabling the THRE interrupt with an empty transmitter
		 * raises it at once, as the 16550A does. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thri = true;
		u->ier = v & 0x0f;
		return false;
	case IIR_FCR:
		u->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			u->count = 0;
		return false;
	case LCR:
		u->lcr = v;
		return false;
	case MCR:
		u->mcr = v & 0x1f;
		return false;
	case SCR:
		u->scr = v;
		return false;
	default:
		return false;	/* LSR and MSR are read-only */
	}
}

static void uart_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	struct uart *u = opaque;
	int reg = port - PORT_COM1;
	bool out = false;

	pthread_mutex_lock(&u->lock);
	if (write)
		out = uart_write(u, reg, data[0]);
	else
		data[0] = uart_read(u, reg);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	if (out)
		conhost_write(data, 1);
	if (!write && size > 1)
		memset(data + 1, 0xff, size - 1);
}

void serial_input(struct vm *vm, const u8 *buf, size_t len)
{
	struct uart *u = vm->serial;

	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < len; i++)
		push(u, buf[i]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

void serial_init(struct vm *vm)
{
	struct uart *u = malloc_or_die(sizeof(*u));

	pthread_mutex_init(&u->lock, NULL);
	u->vm = vm;
	u->dll = 12;		/* 9600 baud, as a BIOS leaves it */
	u->lcr = 0x03;		/* 8N1 */
	u->mcr = 0x08;		/* OUT2 */
	vm->serial = u;
	pio_register(vm, PORT_COM1, 8, uart_io, u);
}
