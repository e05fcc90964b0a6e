/*
 * i8042.c - just enough of the PC keyboard controller.
 *
 * There is no keyboard; what matters is the oldest reboot in the PC
 * book: command 0xFE pulses the CPU reset line.  Linux uses it when
 * other methods fail, and reboot=k asks for it directly.  The self-test
 * answers keep probing drivers content.
 */
#include "hw/hw.h"
#include "x86/layout.h"

#define STATUS_OBF	0x01	/* output buffer full: a byte to read */
#define STATUS_SYS	0x04	/* system flag: self-test passed */

static struct {
	u8 cmd_byte;
	u8 out;
	bool out_full;
	bool next_is_cmd_byte;
} kbc = { .cmd_byte = 0x45 };

static void reply(u8 v)
{
	kbc.out = v;
	kbc.out_full = true;
}

static void command(u8 c)
{
	switch (c) {
	case 0x20:		/* read command byte */
		reply(kbc.cmd_byte);
		break;
	case 0x60:		/* write command byte: next data byte */
		kbc.next_is_cmd_byte = true;
		break;
	case 0xaa:		/* controller self-test */
		reply(0x55);
		break;
	case 0xab:		/* keyboard interface test */
	case 0xa9:		/* aux interface test */
		reply(0x00);
		break;
	case 0xfe:		/* pulse reset */
		verbose("i8042 reset");
		vm_stop(STOP_REBOOT);
		break;
	default:		/* enable/disable and the rest: nothing to do */
		break;
	}
}

static void i8042_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	if (port == PORT_I8042_CMD) {
		if (write)
			command(data[0]);
		else
			data[0] = STATUS_SYS | (kbc.out_full ? STATUS_OBF : 0);
		return;
	}
	if (write) {
		if (kbc.next_is_cmd_byte)
			kbc.cmd_byte = data[0];
		kbc.next_is_cmd_byte = false;
		return;
	}
	data[0] = kbc.out;
	kbc.out_full = false;
}

void i8042_init(struct vm *vm)
{
	pio_register(PORT_I8042_DATA, 1, i8042_io, NULL);
	pio_register(PORT_I8042_CMD, 1, i8042_io, NULL);
}
