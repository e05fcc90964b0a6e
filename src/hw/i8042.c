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

struct i8042 {
	struct vm *vm;
	u8 cmd_byte;
	u8 fifo[8];		/* bytes for the guest, oldest first */
	int n;
	bool next_is_cmd_byte;
	u8 kbd_arg_for;		/* keyboard command awaiting its argument */
};

/* IRQ 1 is edge-triggered: one pulse per byte that arrives. */
static void kbd_irq(struct i8042 *k)
{
	vm_irq_line(k->vm, IRQ_KBD, 1);
	vm_irq_line(k->vm, IRQ_KBD, 0);
}

/* The next byte for the guest; a byte from the keyboard interrupts when
 * it reaches the output buffer. */
static void reply(struct i8042 *k, u8 v, bool from_kbd)
{
	if (k->n == (int)sizeof(k->fifo))
		return;
	k->fifo[k->n++] = v;
	if (k->n == 1 && from_kbd && (k->cmd_byte & CMD_KBD_INT))
		kbd_irq(k);
}

static void command(struct i8042 *k, u8 c)
{
	switch (c) {
	case 0x20:		/* read command byte */
		reply(k, k->cmd_byte, false);
		break;
	case 0x60:		/* write command byte: next data byte */
		k->next_is_cmd_byte = true;
		break;
	case 0xa7:		/* disable AUX */
		k->cmd_byte |= CMD_AUX_OFF;
		break;
	case 0xa8:		/* enable AUX */
		k->cmd_byte &= ~CMD_AUX_OFF;
		break;
	case 0xad:		/* disable keyboard */
		k->cmd_byte |= CMD_KBD_OFF;
		break;
	case 0xae:		/* enable keyboard */
		k->cmd_byte &= ~CMD_KBD_OFF;
		break;
	case 0xaa:		/* controller self-test */
		reply(k, 0x55, false);
		break;
	case 0xab:		/* keyboard interface test */
	case 0xa9:		/* AUX interface test */
		reply(k, 0x00, false);
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
static void keyboard(struct i8042 *k, u8 c)
{
	if (k->kbd_arg_for) {	/* the argument of LEDs, rate, set... */
		k->kbd_arg_for = 0;
		reply(k, KBD_ACK, true);
		return;
	}
	switch (c) {
	case 0xff:		/* reset: ACK, then self-test passed */
		reply(k, KBD_ACK, true);
		reply(k, 0xaa, true);
		break;
	case 0xf2:		/* identify: ACK, then the MF2 id */
		reply(k, KBD_ACK, true);
		reply(k, 0xab, true);
		reply(k, 0x83, true);
		break;
	case 0xee:		/* echo */
		reply(k, 0xee, true);
		break;
	case 0xed:		/* set LEDs */
	case 0xf0:		/* scan code set */
	case 0xf3:		/* typematic rate */
		k->kbd_arg_for = c;
		reply(k, KBD_ACK, true);
		break;
	default:		/* enable, disable, defaults... */
		reply(k, KBD_ACK, true);
		break;
	}
}

static void i8042_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	struct i8042 *k = opaque;

	if (port == PORT_I8042_CMD) {
		if (write)
			command(k, data[0]);
		else
			data[0] = STATUS_SYS | STATUS_KEYLOCK |
				  (k->n ? STATUS_OBF : 0);
		return;
	}
	if (write) {
		if (k->next_is_cmd_byte)
			k->cmd_byte = data[0];
		else
			keyboard(k, data[0]);
		k->next_is_cmd_byte = false;
		return;
	}
	if (!k->n) {		/* an empty buffer reads its last byte */
		data[0] = k->fifo[0];
		return;
	}
	data[0] = k->fifo[0];
	memmove(k->fifo, k->fifo + 1, --k->n);
	/* The next byte in line is a new arrival. */
	if (k->n && (k->cmd_byte & CMD_KBD_INT))
		kbd_irq(k);
}

void i8042_init(struct vm *vm)
{
	struct i8042 *k = malloc_or_die(sizeof(*k));

	k->vm = vm;
	k->cmd_byte = 0x45;	/* translate, system flag, IRQ 1 */
	vm->i8042 = k;
	pio_register(vm, PORT_I8042_DATA, 1, i8042_io, k);
	pio_register(vm, PORT_I8042_CMD, 1, i8042_io, k);
}
