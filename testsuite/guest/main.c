/*
 * main.c - the test guest's CPL3 entry: say what the Launcher gave us,
 * then run the scenario named by test= (hello if none).
 */
#include "virtio.h"	/* delay_ms() for hold= */

void test_blkbench(void), test_netbench(void);	/* bench.c */
void test_blkfill(void), test_blkerr(void), test_netgone(void),
     test_churn(void);				/* fault.c */

static const struct scenario {
	const char *name;
	void (*run)(void);
} scenarios[] = {
	{ "hello",	 test_hello },
	{ "poweroff",	 test_poweroff },
	{ "reboot",	 test_reboot },
	{ "reset",	 test_reset },
	{ "triplefault", test_triplefault },
	{ "panic",	 test_panic },
	{ "initrd",	 test_initrd },
	{ "echo",	 test_echo },
	{ "demo",	 test_demo },
	{ "flood",	 test_flood },
	{ "vcons",	 test_vcons },
	{ "rng",	 test_rng },
	{ "blk",	 test_blk },
	{ "blkro",	 test_blkro },
	{ "barmove",	 test_barmove },
	{ "vreset",	 test_vreset },
	{ "blkmq",	 test_blkmq },
	{ "netmq",	 test_netmq },
	{ "multi",	 test_multi },
	{ "net",	 test_net },
	{ "hostile",	 test_hostile },
	{ "hring",	 test_hring },
	{ "hpci",	 test_hpci },
	{ "hblk",	 test_hblk },
	{ "hevent",	 test_hevent },
	{ "powerbutton", test_powerbutton },
	{ "ignorebutton", test_ignorebutton },
	{ "rebootkey",	 test_rebootkey },
	{ "blkflush",	 test_blkflush },
	{ "blkbench",	 test_blkbench },
	{ "netbench",	 test_netbench },
	{ "udpsend",	 test_udpsend },
	{ "udprecv",	 test_udprecv },
	{ "blkfill",	 test_blkfill },
	{ "blkerr",	 test_blkerr },
	{ "netgone",	 test_netgone },
	{ "churn",	 test_churn },
};

/*
 * Give the Launcher time to act on a write that should have stopped us
 * (each port read is a round trip through it), so that "it did not
 * work" is reported rather than guessed.
 */
void linger(void)
{
	for (int i = 0; i < 20000; i++)
		(void)inb(PORT_COM1 + 5);
}

noreturn void pvpanic(void)
{
	outb(PORT_PVPANIC, 1);
	for (;;)
		asm volatile("pause");
}

noreturn void poweroff(void)
{
	if (!acpi_can_poweroff()) {
		printf("poweroff: no ACPI S5, using pvpanic\n");
		pvpanic();
	}
	acpi_poweroff();
	linger();
	printf("lguest-testguest: still running after ACPI poweroff\n");
	pvpanic();
}

/*
 * hold=MS keeps a finished guest up a while before it powers off, idle
 * but for the TSC it watches, so that bench/ can look at the Launcher
 * after the work (its memory, say) before it goes.
 */
noreturn void done(void)
{
	u64 hold = arg_u64("hold", 0);

	if (hold) {
		printf("lguest-testguest: holding %lu ms\n", hold);
		delay_ms(hold);
	}
	printf("lguest-testguest: done\n");
	poweroff();
}

noreturn void guest_main(u64 boot_params);
noreturn void guest_main(u64 boot_params)
{
	const char *name;

	serial_init();
	boot_params_read(boot_params);
	name = arg("test");
	if (!name)
		name = "hello";

	printf("lguest-testguest: booting, test=%s\n", name);
	printf("cmdline: %s\n", boot.cmdline);
	e820_print();
	acpi_init();

	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
		if (strcmp(scenarios[i].name, name))
			continue;
		scenarios[i].run();
		/* A scenario that comes back has not finished its job. */
		printf("lguest-testguest: test %s returned\n", name);
		pvpanic();
	}
	printf("lguest-testguest: unknown test %s\n", name);
	pvpanic();
}
