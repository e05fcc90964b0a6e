/*
 * time.c - telling time with no timer interrupt: the TSC (rdtsc works
 * at CPL3), its rate measured once against the ACPI PM timer, which
 * ticks at 3.579545 MHz whatever the CPU does.
 */
#include "virtio.h"

#define PM_TIMER_HZ	3579545
#define CALIBRATE_MS	50
#define FALLBACK_HZ	2000000000ULL	/* a guess, if there is no PM timer */

static u64 per_ms;

static u32 pm_read(u16 port, u32 mask)
{
	return inl(port) & mask;
}

u64 tsc_per_ms(void)
{
	u16 port = acpi_pm_timer_port();
	u32 mask = acpi_pm_timer_32bit() ? 0xffffffff : 0xffffff;
	u32 want = PM_TIMER_HZ / 1000 * CALIBRATE_MS, t0, t;
	u64 tsc0, tsc1;
	int reads = 0;

	if (per_ms)
		return per_ms;
	if (!port)
		port = PORT_PM_TMR;
	/* Start on a tick edge: each read is slow, so this costs little. */
	t0 = pm_read(port, mask);
	while ((t = pm_read(port, mask)) == t0 && ++reads < 1000)
		;
	if (reads >= 1000)
		goto guess;
	t0 = t;
	tsc0 = rdtsc();
	do {
		t = (pm_read(port, mask) - t0) & mask;
	} while (t < want && ++reads < 100000);
	tsc1 = rdtsc();
	if (t < want) {
guess:
		per_ms = FALLBACK_HZ / 1000;
		printf("time: no PM timer, guessing %lu kHz TSC\n", per_ms);
	} else {
		per_ms = (tsc1 - tsc0) * (PM_TIMER_HZ / 1000) / t;
		if (!per_ms)
			per_ms = 1;
	}
	return per_ms;
}

u64 deadline(u64 ms)
{
	return rdtsc() + ms * tsc_per_ms();
}

void delay_ms(u64 ms)
{
	u64 dl = deadline(ms);

	while (!expired(dl))
		asm volatile("pause");
}
