/*
 * i8042.c - the PC keyboard controller, with a keyboard that never types.
 *
 * The oldest reboot in the PC book is here: command 0xFE pulses the CPU
 * reset line.  Linux uses it when other methods fail, and reboot=k asks
 * for it directly.  The rest is what Linux's i8042 and atkbd drivers check
 * before they accept a controller: the self-tests, the command byte read
 * back as written, the keylock switch open, and a keyboard that answers
 * its reset and identify commands.  Keystrokes go to the serial and virtio
 * consoles, never here.  There is no AUX (mouse) port: the DSDT describes
 * the controller without one, so Linux does not probe for it.
 */
#include <string.h>

#include "hw/hw.h"
#include "x86/layout.h"

#define STATUS_OBF	0x01	/* output buffer full: a byte to read */
#define STATUS_SYS	0x04	/* system flag: self-test passed */
#define STATUS_KEYLOCK	0x10	/* keyboard not inhibited by the keylock */

#define CMD_KBD_INT	0x01	/* command byte: IRQ 1 when a byte arrives */
#define CMD_KBD_OFF	0x10	/* keyboard clock disabled */
#define CMD_AUX_OFF	0x20	/* AUX clock disabled */

#define KBD_ACK		0xfa

static struct {
	struct vm *vm;
	u8 cmd_byte;
	u8 fifo[8];		/* bytes for the guest, oldest first */
	int n;
	bool next_is_cmd_byte;
	u8 kbd_arg_for;		/* keyboard command awaiting its argument */
} kbc = { .cmd_byte = 0x45 };	/* translate, system flag, IRQ 1 */

/* IRQ 1 is edge-triggered: one pulse per byte that arrives. */
static void kbd_irq(void)
{
	vm_irq_line(kbc.vm, IRQ_KBD, 1);
	vm_irq_line(kbc.vm, IRQ_KBD, 0);
}

/* The next byte for the guest; a byte from the keyboard interrupts when
 * it reaches the output buffer. */
static void reply(u8 v, bool from_kbd)
{
	if (kbc.n == (int)sizeof(kbc.fifo))
		return;
	kbc.fifo[kbc.n++] = v;
	if (kbc.n == 1 && from_kbd && (kbc.cmd_byte & CMD_KBD_INT))
		kbd_irq();
}

static void command(u8 c)
{
	switch (c) {
	case 0x20:		/* read command byte */
		reply(kbc.cmd_byte, false);
		break;
	case 0x60:		/* write command byte: next data byte */
		kbc.next_is_cmd_byte = true;
		break;
	case 0xa7:		/* disable AUX */
		kbc.cmd_byte |= CMD_AUX_OFF;
		break;
	case 0xa8:		/* enable AUX */
		kbc.cmd_byte &= ~CMD_AUX_OFF;
		break;
	case 0xad:		/* disable keyboard */
		kbc.cmd_byte |= CMD_KBD_OFF;
		break;
	case 0xae:		/* enable keyboard */
		kbc.cmd_byte &= ~CMD_KBD_OFF;
		break;
	case 0xaa:		/* controller self-test */
		reply(0x55, false);
		break;
	case 0xab:		/* keyboard interface test */
	case 0xa9:		/* AUX interface test */
		reply(0x00, false);
		break;
	case 0xfe:		/* pulse reset */
		verbose("i8042 reset");
		vm_stop(STOP_REBOOT);
		break;
	default:		/* output port and the rest: nothing to do */
		break;
	}
}

/* A byte for the keyboard itself.  It acknowledges everything; reset and
 * identify get the answers of an MF2 keyboard. */
static void keyboard(u8 c)
{
	if (kbc.kbd_arg_for) {	/* the argument of LEDs, rate, set... */
		kbc.kbd_arg_for = 0;
		reply(KBD_ACK, true);
		return;
	}
	switch (c) {
	case 0xff:		/* reset: ACK, then self-test passed */
		reply(KBD_ACK, true);
		reply(0xaa, true);
		break;
	case 0xf2:		/* identify: ACK, then the MF2 id */
		reply(KBD_ACK, true);
		reply(0xab, true);
		reply(0x83, true);
		break;
	case 0xee:		/* echo */
		reply(0xee, true);
		break;
	case 0xed:		/* set LEDs */
	case 0xf0:		/* scan code set */
	case 0xf3:		/* typematic rate */
		kbc.kbd_arg_for = c;
		reply(KBD_ACK, true);
		break;
	default:		/* enable, disable, defaults... */
		reply(KBD_ACK, true);
		break;
	}
}

static void i8042_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	if (port == PORT_I8042_CMD) {
		if (write)
			command(data[0]);
		else
			data[0] = STATUS_SYS | STATUS_KEYLOCK |
				  (kbc.n ? STATUS_OBF : 0);
		return;
	}
	if (write) {
		if (kbc.next_is_cmd_byte)
			kbc.cmd_byte = data[0];
		else
			keyboard(data[0]);
		kbc.next_is_cmd_byte = false;
		return;
	}
	if (!kbc.n) {		/* an empty buffer reads its last byte */
		data[0] = kbc.fifo[0];
		return;
	}
	data[0] = kbc.fifo[0];
	memmove(kbc.fifo, kbc.fifo + 1, --kbc.n);
	/* The next byte in line is a new arrival. */
	if (kbc.n && (kbc.cmd_byte & CMD_KBD_INT))
		kbd_irq();
}

void i8042_init(struct vm *vm)
{
	kbc.vm = vm;
	pio_register(PORT_I8042_DATA, 1, i8042_io, NULL);
	pio_register(PORT_I8042_CMD, 1, i8042_io, NULL);
}
