/*
 * boot.c - the scenarios about starting and stopping: each ends the
 * guest one way, so the testsuite can check the Launcher's exit status.
 */
#include "guest.h"

void test_hello(void)
{
	printf("hello: ok\n");
	done();
}

void test_poweroff(void)
{
	printf("poweroff: via acpi s5\n");
	poweroff();
}

void test_reboot(void)
{
	printf("reboot: via i8042\n");
	outb(PORT_I8042_CMD, 0xfe);	/* pulse the CPU reset line */
	linger();
	printf("lguest-testguest: still running after i8042 reset\n");
	pvpanic();
}

void test_reset(void)
{
	printf("reboot: via 0xcf9\n");
	outb(PORT_RESET, 0x06);		/* hard reset, as the FADT says */
	linger();
	printf("lguest-testguest: still running after 0xcf9 reset\n");
	pvpanic();
}

/* trip_now() gets to CPL0, drops the IDT and faults (see entry.S). */
void test_triplefault(void)
{
	printf("triplefault: now\n");
	trip_now();
	printf("lguest-testguest: still running after triple fault\n");
	pvpanic();
}

void test_panic(void)
{
	printf("panic: via pvpanic\n");
	pvpanic();
}
