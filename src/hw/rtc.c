/*
 * rtc->c - the MC146818 real-time clock and its CMOS RAM, ports 0x70-0x71.
 *
 * A PC kernel reads the date from here at boot, and without one Linux
 * polls the missing chip for seconds and starts its clock in 1970.  The
 * guest's clock is the host's clock plus an offset, which changes only
 * when the guest sets the time (hwclock --systohc): nothing ticks here.
 *
 * What is not here: the periodic, alarm and update-ended interrupts.
 * Register C always reads 0 and IRQ 8 never fires; Linux's rtc_cmos
 * drives the chip without them, and falls back to polling for the
 * update-ended event should a program ask for it.
 */
#include <time.h>
#include <pthread.h>

#include "hw/hw.h"
#include "x86/layout.h"

enum {
	REG_SEC = 0x00, REG_MIN = 0x02, REG_HOUR = 0x04, REG_WDAY = 0x06,
	REG_MDAY = 0x07, REG_MON = 0x08, REG_YEAR = 0x09,
	REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d,
	REG_CENTURY = RTC_CENTURY_REG,
};

#define A_UIP		0x80	/* an update is in progress: do not read */
#define A_DIVIDER	0x20	/* 32.768 kHz time base, running */
#define A_RATE		0x06	/* 1024 Hz periodic rate (unused) */
#define B_SET		0x80	/* updates stopped while the time is set */
#define B_BINARY	0x04	/* binary, not BCD */
#define B_24H		0x02	/* 24-hour, not 12-hour with a PM bit */
#define D_VRT		0x80	/* valid RAM and time: the battery is fine */
#define HOUR_PM		0x80

/* The chip sets UIP 244 us before each update, so a reader that saw it
 * clear has that long to read all the time registers consistently. */
#define UIP_NS		244000

struct rtc {
	pthread_mutex_t lock;
	u8 index;
	u8 cmos[128];
	time_t offset;		/* guest seconds minus host seconds */
};

/* The host's time in seconds: clock_gettime(), which the vCPU thread's
 * system call filter allows (time(2) it does not, where the vDSO has to
 * fall back to the system call). */
static time_t host_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

/* Calendar arithmetic of our own: gmtime_r() and timegm() initialise the
 * C library's time zone state on first use, which opens /etc/localtime,
 * and the vCPU thread may open nothing.  Days are counted from 1970-01-01
 * in the proleptic Gregorian calendar, with years that start in March so
 * that the leap day is the last of its year. */
struct date {
	int year, mon, mday, hour, min, sec, wday;	/* mon 1-12, wday 0-6 */
};

static struct date date_of(time_t t)
{
	long long days = t / 86400, secs = t % 86400, era, doe, yoe, doy, mp;
	struct date d;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	d.hour = secs / 3600;
	d.min = secs / 60 % 60;
	d.sec = secs % 60;
	d.wday = (int)(((days + 4) % 7 + 7) % 7);	/* 1970-01-01: Thursday */
	days += 719468;				/* from 0000-03-01 */
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d.mday = doy - (153 * mp + 2) / 5 + 1;
	d.mon = mp < 10 ? mp + 3 : mp - 9;
	d.year = yoe + era * 400 + (d.mon <= 2);
	return d;
}

static time_t seconds_of(const struct date *d)
{
	long long y = d->year - (d->mon <= 2), era, yoe, doy, doe;

	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (d->mon + (d->mon > 2 ? -3 : 9)) + 2) / 5 + d->mday - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return ((era * 146097 + doe - 719468) * 86400 +
		d->hour * 3600 + d->min * 60 + d->sec);
}

static bool is_time_reg(u8 reg)
{
	return reg <= REG_YEAR || reg == REG_CENTURY;
}

static u8 to_chip(const struct rtc *rtc, int v)
{
	return (rtc->cmos[REG_B] & B_BINARY) ? v : (v / 10) << 4 | v % 10;
}

static int from_chip(const struct rtc *rtc, u8 v)
{
	return (rtc->cmos[REG_B] & B_BINARY) ? v : (v >> 4) * 10 + (v & 0x0f);
}

/* The guest's present time into the time registers, in its format. */
static void latch(struct rtc *rtc)
{
	struct date d = date_of(host_now() + rtc->offset);
	u8 *c = rtc->cmos;

	c[REG_SEC] = to_chip(rtc, d.sec);
	c[REG_MIN] = to_chip(rtc, d.min);
	if (c[REG_B] & B_24H)
		c[REG_HOUR] = to_chip(rtc, d.hour);
	else
		c[REG_HOUR] = to_chip(rtc, d.hour % 12 ? d.hour % 12 : 12) |
			      (d.hour >= 12 ? HOUR_PM : 0);
	c[REG_WDAY] = to_chip(rtc, d.wday + 1);
	c[REG_MDAY] = to_chip(rtc, d.mday);
	c[REG_MON] = to_chip(rtc, d.mon);
	c[REG_YEAR] = to_chip(rtc, d.year % 100);
	c[REG_CENTURY] = to_chip(rtc, d.year / 100);
}

/* The guest wrote the time registers: they are its clock from now on. */
static void commit(struct rtc *rtc)
{
	u8 *c = rtc->cmos;
	struct date d = {
		.sec = from_chip(rtc, c[REG_SEC]), .min = from_chip(rtc, c[REG_MIN]),
		.hour = from_chip(rtc, c[REG_HOUR] & ~HOUR_PM),
		.mday = from_chip(rtc, c[REG_MDAY]), .mon = from_chip(rtc, c[REG_MON]),
		.year = from_chip(rtc, c[REG_CENTURY]) * 100 +
			from_chip(rtc, c[REG_YEAR]),
	};
	time_t t;

	if (!(c[REG_B] & B_24H))
		d.hour = d.hour % 12 + (c[REG_HOUR] & HOUR_PM ? 12 : 0);
	if (d.sec > 59 || d.min > 59 || d.hour > 23 || d.mday < 1 ||
	    d.mday > 31 || d.mon < 1 || d.mon > 12) {
		verbose("rtc: the guest set an impossible date; ignored");
		return;
	}
	t = seconds_of(&d);
	rtc->offset = t - host_now();
	verbose("rtc: the guest set its clock, %+lld s from ours",
		(long long)rtc->offset);
}

static bool update_in_progress(const struct rtc *rtc)
{
	struct timespec ts;

	if (rtc->cmos[REG_B] & B_SET)
		return false;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_nsec >= 1000000000L - UIP_NS;
}

static u8 rtc_read(struct rtc *rtc, u8 reg)
{
	bool set = rtc->cmos[REG_B] & B_SET;

	if (is_time_reg(reg) && !set)
		latch(rtc);
	switch (reg) {
	case REG_A:
		return (rtc->cmos[REG_A] & ~A_UIP) |
		       (update_in_progress(rtc) ? A_UIP : 0);
	case REG_C:		/* no interrupt flags: none are raised */
		return 0;
	default:
		return rtc->cmos[reg];
	}
}

static void rtc_write(struct rtc *rtc, u8 reg, u8 v)
{
	bool was_set = rtc->cmos[REG_B] & B_SET;

	switch (reg) {
	case REG_A:		/* UIP is the chip's, not the guest's */
		rtc->cmos[REG_A] = v & ~A_UIP;
		break;
	case REG_B:
		/* Setting SET freezes the registers for the guest to fill
		 * in; clearing it starts the clock from what it wrote. */
		if (!was_set && (v & B_SET))
			latch(rtc);
		rtc->cmos[REG_B] = v;
		if (was_set && !(v & B_SET))
			commit(rtc);
		break;
	case REG_C:		/* read-only */
	case REG_D:
		break;
	default:
		if (is_time_reg(reg) && !was_set)
			latch(rtc);
		rtc->cmos[reg] = v;
		if (is_time_reg(reg) && !was_set)
			commit(rtc);
		break;
	}
}

static void rtc_io(void *opaque, u16 port, u8 *data, int size, bool write)
{
	struct rtc *rtc = opaque;

	pthread_mutex_lock(&rtc->lock);
	if (port == PORT_RTC_INDEX) {
		/* Bit 7 masks NMIs on a PC; we have none to mask. */
		if (write)
			rtc->index = data[0] & 0x7f;
		else
			data[0] = rtc->index;
	} else if (write) {
		rtc_write(rtc, rtc->index, data[0]);
	} else {
		data[0] = rtc_read(rtc, rtc->index);
	}
	pthread_mutex_unlock(&rtc->lock);
}

void rtc_init(struct vm *vm)
{
	struct rtc *rtc = malloc_or_die(sizeof(*rtc));

	pthread_mutex_init(&rtc->lock, NULL);
	rtc->cmos[REG_A] = A_DIVIDER | A_RATE;
	rtc->cmos[REG_B] = B_24H;
	rtc->cmos[REG_D] = D_VRT;
	vm->rtc = rtc;
	pio_register(vm, PORT_RTC_INDEX, 2, rtc_io, rtc);
}
