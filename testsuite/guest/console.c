/*
 * console.c - the scenarios that read the serial port: echo, which the
 * testsuite drives, and demo, for a person at the Launcher's terminal
 * or on a service's console.
 */
#include "guest.h"

void test_echo(void)
{
	char c;

	printf("echo: ready\n");
	do {
		c = serial_getc();
		serial_putc(c);
	} while (c != 'q');
	printf("\n");		/* so "done" starts a line */
	done();
}

/* The UART's line status register says whether a byte is waiting. */
#define UART_LSR	5
#define LSR_DR		0x01

/*
 * demo runs as a service too (lguest@demo), where stopping it presses
 * the ACPI power button: between looks at the UART it looks at the PM1
 * status, and on a press it powers off as an OS would.  Interrupts stay
 * off, so the status bit is what tells; it is set whether or not the
 * event is enabled.
 */
static bool demo_button(void)
{
	if (!(inw(PORT_PM1A_EVT) & ACPI_PWRBTN_STS))
		return false;
	outw(PORT_PM1A_EVT, ACPI_PWRBTN_STS);	/* write 1 to clear */
	return true;
}

void test_demo(void)
{
	printf("Welcome to the lguest demo guest. Type and it echoes; "
	       "Ctrl-A x (or three Ctrl-C) to leave.\n");
	for (;;) {
		char c;

		if (demo_button()) {
			printf("\ndemo: power button pressed, powering off\n");
			poweroff();
		}
		if (!(inb(PORT_COM1 + UART_LSR) & LSR_DR))
			continue;
		c = serial_getc();
		serial_putc(c);
		if (c == '\r')
			serial_putc('\n');
	}
}

/* test=flood: talk without end, for a console that stops reading. */
void test_flood(void)
{
	for (u64 i = 0;; i++)
		printf("flood: line %llu, and the guest goes on talking\n",
		       (unsigned long long)i);
}
