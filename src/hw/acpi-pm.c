/*
 * acpi-pm->c - the ACPI fixed hardware a guest uses to power off.
 *
 * The FADT points the guest at these ports: PM1a event block (status and
 * enable), PM1a control (where SLP_TYP + SLP_EN put the machine to
 * sleep; our DSDT's \_S5 makes that "off"), the PM timer, and the reset
 * register.  There is no SMI command port, so ACPI mode is always on and
 * SCI_EN always reads as set.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "hw/hw.h"
#include "x86/layout.h"

#define PM_TIMER_HZ	3579545ULL

struct acpi_pm {
	struct vm *vm;
	pthread_mutex_t lock;
	u16 sts, en, cnt;
	int sci_level;
};

static void update_sci(struct acpi_pm *pm)
{
	int level = (pm->sts & pm->en) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		vm_irq_line(pm->vm, IRQ_SCI, level);
	}
}

static u32 pm_timer(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u32)(ts.tv_sec * PM_TIMER_HZ +
		     (u64)ts.tv_nsec * PM_TIMER_HZ / 1000000000ULL);
}

static void sleep_request(u16 cnt)
{
	int typ = (cnt >> 10) & 7;

	if (!(cnt & ACPI_SLP_EN))
		return;
	if (typ == ACPI_S5_SLP_TYP) {
		verbose("ACPI S5: guest powered off");
		vm_stop(STOP_POWEROFF);
		return;
	}
	verbose("ACPI sleep type %d not supported; ignored", typ);
}

/* Accesses may be 8, 16 or 32 bits wide at any offset of the block;
 * each byte goes to the register it belongs to. */
static void pm_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	struct acpi_pm *pm = opaque;
	u32 tmr = pm_timer();
	bool cnt_written = false;

	pthread_mutex_lock(&pm->lock);
	for (int i = 0; i < size; i++) {
		unsigned off = port - PORT_PM1A_EVT + i;
		int shift = (off & 1) * 8;
		u16 *reg = off < 2 ? &pm->sts : off < 4 ? &pm->en :
			   off < 6 ? &pm->cnt : NULL;

		if (!write) {
			if (reg)
				data[i] = *reg >> shift;
			else if (off >= 8 && off < 12)
				data[i] = tmr >> ((off - 8) * 8);
			else
				data[i] = 0xff;
			continue;
		}
		if (reg == &pm->sts)
			pm->sts &= ~(data[i] << shift);	/* write 1 to clear */
		else if (reg == &pm->en)
			pm->en = (pm->en & ~(0xff << shift)) | data[i] << shift;
		else if (reg == &pm->cnt) {
			pm->cnt = (pm->cnt & ~(0xff << shift)) | data[i] << shift;
			cnt_written = true;
		}
	}
	if (cnt_written) {
		u16 cnt = pm->cnt;

		/* SLP_EN is write-only; SCI_EN stays on. */
		pm->cnt = (pm->cnt & ~ACPI_SLP_EN) | ACPI_SCI_EN;
		sleep_request(cnt);
	}
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

/* The FADT's reset register: bit 2 (reset CPU) resets the machine. */
static void reset_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	if (!write) {
		data[0] = 0;
		return;
	}
	if (data[0] & 0x04) {
		verbose("reset register written: 0x%x", data[0]);
		vm_stop(STOP_REBOOT);
	}
}

/* The power button, as SIGTERM will press it: status bit, then an SCI. */
void acpi_pm_power_button(struct vm *vm)
{
	struct acpi_pm *pm = vm->pm;

	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PWRBTN_STS;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_init(struct vm *vm)
{
	struct acpi_pm *pm = malloc_or_die(sizeof(*pm));

	pm->vm = vm;
	pthread_mutex_init(&pm->lock, NULL);
	pm->cnt = ACPI_SCI_EN;
	vm->pm = pm;
	pio_register(vm, PORT_PM1A_EVT, 12, pm_io, pm);
	pio_register(vm, PORT_RESET, 1, reset_io, NULL);
}
