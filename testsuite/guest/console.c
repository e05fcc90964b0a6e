/*
 * console.c - the scenarios that read the serial port: echo, which the
 * testsuite drives, and demo, for a person at the Launcher's terminal.
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

void test_demo(void)
{
	printf("Welcome to the lguest demo guest. Type and it echoes; "
	       "Ctrl-A x (or three Ctrl-C) to leave.\n");
	for (;;) {
		char c = serial_getc();

		serial_putc(c);
		if (c == '\r')
			serial_putc('\n');
	}
}
