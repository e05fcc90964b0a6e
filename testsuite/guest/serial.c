/*
 * serial.c - COM1, the way early kernel code drives an 8250: no
 * interrupts, just polling the line status register.
 */
#include "guest.h"

#define UART_RBR	0	/* receive buffer (read) */
#define UART_THR	0	/* transmit holding (write) */
#define UART_IER	1
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_DLL	0	/* divisor, while LCR.DLAB is set */
#define UART_DLM	1

#define LCR_8N1		0x03
#define LCR_DLAB	0x80
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define LSR_DR		0x01	/* a byte is waiting */
#define LSR_THRE	0x20	/* room to send */

void serial_init(void)
{
	outb(PORT_COM1 + UART_IER, 0);
	outb(PORT_COM1 + UART_LCR, LCR_DLAB);
	outb(PORT_COM1 + UART_DLL, 1);		/* 115200 baud */
	outb(PORT_COM1 + UART_DLM, 0);
	outb(PORT_COM1 + UART_LCR, LCR_8N1);
	outb(PORT_COM1 + UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	outb(PORT_COM1 + UART_MCR, MCR_DTR | MCR_RTS);
}

void serial_putc(char c)
{
	while (!(inb(PORT_COM1 + UART_LSR) & LSR_THRE))
		;
	outb(PORT_COM1 + UART_THR, (u8)c);
}

/* With interrupts off there is nothing to wait on but the LSR itself. */
char serial_getc(void)
{
	while (!(inb(PORT_COM1 + UART_LSR) & LSR_DR))
		;
	return (char)inb(PORT_COM1 + UART_RBR);
}
