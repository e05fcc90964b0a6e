/*
 * guest.c - the guest's side of the model: a thread that runs only
 * while the Launcher is in read(), as a real guest runs only inside it.
 *
 * The guest's "hypercalls" are the few a Linux guest on the lguest bus
 * makes of the Launcher: LHCALL_NOTIFY of an address (an eventfd if one
 * is bound to it, else read() returns it) and LHCALL_SHUTDOWN (read()
 * says ENOENT, or ERESTART for a restart).  Interrupts come from the
 * Launcher's LHREQ_IRQ writes; the guest waits for them with a time
 * limit, so a Launcher that never sends one gives a line saying so, not
 * a hang.  Everything the guest finds wrong is a line on stderr,
 * "lgmodel: FAIL: ...", and the last line of a scenario is
 * "lgmodel: NAME: done, N failures", just before the guest powers off.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lgmodel.h"
#include "bootparam.h"

#ifndef ERESTART
#define ERESTART 85
#endif

int lgm_failures;

u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "lgmodel: %s", prefix);

	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	lgm_raw_write(STDERR_FILENO, line, n);
}

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&lgm_failures, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vline("FAIL: ", fmt, ap);
	va_end(ap);
}

const char *env_str(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

long env_num(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : dflt;
}

/* A whole file, NUL-terminated for good measure; NULL after a line. */
void *read_whole(const char *path, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fail("cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);

		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		fail("cannot read %s whole", path);
		free(buf);
		return NULL;
	}
	buf[got] = 0;
	*len = got;
	return buf;
}

/* ---- memory ------------------------------------------------------------- */

/* Guest-physical [gpa, gpa + len) in our address space, if the guest
 * may touch it (below pfn_limit). */
void *gp(struct guest *g, unsigned long gpa, unsigned long len)
{
	if (gpa > g->limit || len > g->limit - gpa)
		return NULL;
	return g->mem + gpa;
}

/* Free RAM for buffers and tables, never given back. */
unsigned long galloc(struct guest *g, unsigned long len, unsigned long align)
{
	unsigned long a = (g->scratch + align - 1) & ~(align - 1);

	if (a + len > g->scratch_end || a + len < a) {
		fail("the guest's scratch RAM is used up (%lu bytes asked)",
		     len);
		finish(g);
	}
	g->scratch = a + len;
	memset(g->mem + a, 0, len);
	return a;
}

/* ---- running and stopping ----------------------------------------------- */

static bool gone(struct guest *g)
{
	return __atomic_load_n(&g->m->state, __ATOMIC_ACQUIRE) == LGM_CLOSED;
}

/* Wait until a read() runs us, or for @mask's interrupts as well (then
 * at most @timeout_ms); the interrupts taken, or 0. */
static u32 wait_for(struct guest *g, u32 mask, int timeout_ms)
{
	struct lgm *m = g->m;
	u64 deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);

	for (;;) {
		u32 seq = __atomic_load_n(&m->wake, __ATOMIC_ACQUIRE);
		bool go = __atomic_load_n(&m->run, __ATOMIC_ACQUIRE) == RUN_GO;
		u32 got;
		u64 t;

		if (gone(g))
			pthread_exit(NULL);
		if (go && !mask)
			return 0;
		if (go && (got = take_irqs(g, mask)))
			return got;
		t = now_ms();
		if (timeout_ms >= 0 && t >= deadline && go)
			return 0;
		lgm_futex_wait(&m->wake, seq,
			       timeout_ms < 0 || t >= deadline ||
			       deadline - t > 1000 ? 1000 : (int)(deadline - t));
	}
}

void sync_guest(struct guest *g)
{
	wait_for(g, 0, -1);
}

u32 take_irqs(struct guest *g, u32 mask)
{
	u32 got = __atomic_fetch_and(&g->m->irq_pending, ~mask,
				     __ATOMIC_ACQ_REL) & mask;

	g->irq_seen |= got;
	return got;
}

u32 wait_irq(struct guest *g, u32 mask, int timeout_ms)
{
	return mask ? wait_for(g, mask, timeout_ms) : 0;
}

/* Stop for the Launcher: read() returns @ret (and @addr). */
static void guest_exit(struct guest *g, long ret, unsigned long addr)
{
	struct lgm *m = g->m;

	for (;;) {
		u32 go = RUN_GO;

		sync_guest(g);
		m->exit_ret = ret;
		m->exit_addr = addr;
		if (__atomic_compare_exchange_n(&m->run, &go, RUN_EXIT, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
	}
	lgm_futex_wake(&m->run);
}

void notify(struct guest *g, unsigned long addr)
{
	struct lgm *m = g->m;
	int n;

	sync_guest(g);
	n = __atomic_load_n(&m->nev, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++) {
		if (__atomic_load_n(&m->ev[i].addr, __ATOMIC_RELAXED) == addr) {
			u64 one = 1;

			if (lgm_raw_write(m->ev[i].fd, &one, sizeof(one)) < 0)
				fail("cannot signal the eventfd of %#lx: %s",
				     addr, strerror(errno));
			return;
		}
	}
	guest_exit(g, sizeof(unsigned long), addr);
	/* The Launcher deals with it; we go on at its next read(). */
	sync_guest(g);
}

void guest_die(struct guest *g, const char *reason, bool restart)
{
	struct lgm *m = g->m;

	sync_guest(g);
	snprintf(m->reason, sizeof(m->reason), "%s", reason);
	m->restart = restart;
	__atomic_store_n(&m->state, LGM_DEAD, __ATOMIC_RELEASE);
	lgm_set_env_state(m);
	guest_exit(g, restart ? -ERESTART : -ENOENT, 0);
	for (;;) {
		u32 seq = __atomic_load_n(&m->wake, __ATOMIC_ACQUIRE);

		if (gone(g))
			pthread_exit(NULL);
		lgm_futex_wait(&m->wake, seq, 1000);
	}
}

void power_off(struct guest *g)
{
	guest_die(g, "CRASH: Power down", false);
}

void finish(struct guest *g)
{
	say("%s: done, %d failures", g->scenario,
	    __atomic_load_n(&lgm_failures, __ATOMIC_RELAXED));
	power_off(g);
}

/* The early console: LHCALL_NOTIFY of a string in RAM. */
void early_print(struct guest *g, const char *text)
{
	static unsigned long buf;
	size_t n = strlen(text);

	if (!buf)
		buf = galloc(g, 1024, 16);
	if (n > 1023)
		n = 1023;
	memcpy(g->mem + buf, text, n);
	g->mem[buf + n] = 0;
	notify(g, buf);
}

/* ---- the scenarios ------------------------------------------------------ */

static void scen_poweroff(struct guest *g)
{
	leave_busy(g);
	early_print(g, "lgmodel: powering off\n");
}

static void scen_crash(struct guest *g)
{
	leave_busy(g);
	early_print(g, "lgmodel: about to panic\n");
	say("crash: done, %d failures", lgm_failures);
	guest_die(g, "CRASH: Kernel panic - not syncing: model", false);
}

/* Descriptors open below 1024, found with fcntl(), which every filter
 * the Launcher's main thread has allows. */
static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void scen_reboot(struct guest *g)
{
	long reboots = env_num("LGMODEL_REBOOTS", 1);
	char line[128];

	snprintf(line, sizeof(line), "lgmodel: boot %d of process %d\n",
		 g->boot, (int)getpid());
	early_print(g, line);
	say("reboot: boot %d of process %d", g->boot, (int)getpid());
	say("reboot: boot %d: %d descriptors open", g->boot, open_fds());
	if (g->boot <= reboots) {
		say("reboot: restarting");
		guest_die(g, "CRASH: Restarting", true);
	}
}

/* Halted, as an idle kernel is, until a signal stops the Launcher. */
static void scen_idle(struct guest *g)
{
	long secs = env_num("LGMODEL_IDLE_SECONDS", 60);

	early_print(g, "lgmodel: idle\n");
	say("idle: waiting up to %ld s", secs);
	wait_irq(g, 1U << 31, secs * 1000);
	fail("idle: the Launcher was not stopped within %ld s", secs);
}

/* The guest selftest.c plays Launcher to: each step is something that
 * program expects of read().  The second descriptor's guest restarts. */
static void scen_selftest(struct guest *g)
{
	static int opened;
	u32 got;

	if (__atomic_add_fetch(&opened, 1, __ATOMIC_RELAXED) > 1)
		guest_die(g, "CRASH: Restarting", true);
	notify(g, *(unsigned long *)gp(g, 0x100, sizeof(long)));
	notify(g, 0x2000);
	notify(g, 0x3000);
	got = wait_irq(g, 1U << 5, 5000);
	notify(g, got ? 0x5000 : 0xbad0);
	got = wait_irq(g, 1U << 7, 10000);
	notify(g, got ? 0x7000 : 0xbad0);
	guest_die(g, "CRASH: selftest", false);
}

static const struct {
	const char *name;
	void (*run)(struct guest *g);
	bool needs_ram;		/* a boot_params with an e820 map */
} scenarios[] = {
	{ "boot", scen_boot, true },
	{ "devices", scen_devices, true },
	{ "console", scen_console, true },
	{ "block", scen_block, true },
	{ "rng", scen_rng, true },
	{ "interrupts", scen_interrupts, true },
	{ "reset", scen_reset, true },
	{ "linux3", scen_linux3, true },
	{ "net", scen_net, true },
	{ "hostile", scen_hostile, true },
	{ "poweroff", scen_poweroff, true },
	{ "crash", scen_crash, true },
	{ "reboot", scen_reboot, true },
	{ "idle", scen_idle, true },
	{ "selftest", scen_selftest, false },
};

/* RAM is what the e820 map says; the guest's buffers go in its middle
 * half, below the initrd and away from the command line. */
static void find_ram(struct guest *g)
{
	const u8 *bp = g->mem;
	unsigned long lo, hi, cmd = *(u32 *)(bp + BP_CMD_LINE_PTR);
	unsigned long rd = *(u32 *)(bp + BP_RAMDISK_IMAGE);

	g->ram = *(u64 *)(bp + BP_E820_MAP + 8);
	if (!*(u8 *)(bp + BP_E820_ENTRIES) || g->ram < 8 * PAGE ||
	    g->ram > g->limit - PAGE) {
		fail("no usable e820 map: %u entries, RAM %#lx, limit %#lx",
		     *(u8 *)(bp + BP_E820_ENTRIES), g->ram, g->limit);
		g->ram = g->limit > 16 * PAGE ? g->limit - 16 * PAGE : 0;
	}
	lo = (g->ram / 4) & ~(PAGE - 1);
	hi = (g->ram / 2) & ~(PAGE - 1);
	if (*(u32 *)(bp + BP_RAMDISK_SIZE) && rd > lo && rd < hi)
		hi = rd & ~(PAGE - 1);
	if (cmd >= lo && cmd < hi)
		hi = cmd & ~(PAGE - 1);
	g->scratch = lo;
	g->scratch_end = hi;
}

void *guest_main(void *arg)
{
	struct guest g = { .m = arg };
	struct lgm *m = g.m;
	char num[16];

	prctl(PR_SET_NAME, "lgmodel-guest", 0, 0, 0);

	/* Nothing runs before INITIALIZE and the first read(). */
	while (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) == LGM_FRESH) {
		u32 seq = __atomic_load_n(&m->wake, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) != LGM_FRESH)
			break;
		lgm_futex_wait(&m->wake, seq, 1000);
	}
	sync_guest(&g);
	g.mem = (u8 *)m->base;
	g.limit = m->pfn_limit * PAGE;
	g.scenario = env_str("LGMODEL", "boot");
	g.timeout_ms = env_num("LGMODEL_TIMEOUT", 10) * 1000;
	g.boot = env_num("LGMODEL_BOOT", 0) + 1;
	snprintf(num, sizeof(num), "%d", g.boot);
	setenv("LGMODEL_BOOT", num, 1);

	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
		if (strcmp(scenarios[i].name, g.scenario))
			continue;
		if (scenarios[i].needs_ram)
			find_ram(&g);
		scenarios[i].run(&g);
		finish(&g);
	}
	fail("no such scenario: %s", g.scenario);
	guest_die(&g, "CRASH: lgmodel: no such scenario", false);
}
