/*
 * lgmodel.h - a model of Linux's /dev/lguest (2.6.31 to 4.0), loaded into
 * the Launcher with LD_PRELOAD, and the paravirtualised guest it runs.
 *
 * It is a model, not the hypervisor: the "guest" is a thread of the
 * Launcher's own process that reads and writes guest memory through the
 * base address the Launcher gave, and does what a Linux guest on the
 * lguest bus does at the moments the tests need.  What it stands in for
 * is the ABI: the requests written to the device, the reads that run the
 * guest, and the rules about who may do what when.
 */
#ifndef LGMODEL_H
#define LGMODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PAGE		4096UL

/* The requests, as include/linux/lguest_launcher.h numbers them. */
enum {
	LHREQ_INITIALIZE = 0,
	LHREQ_IRQ = 2,
	LHREQ_EVENTFD = 4,
};

#define LGUEST_IRQS	32
#define MAX_EVENTFDS	64

/* The life of one open /dev/lguest. */
enum lgm_state {
	LGM_FRESH,		/* opened, not initialised */
	LGM_LIVE,		/* initialised: the guest exists */
	LGM_DEAD,		/* the guest died (reason, or a restart) */
	LGM_CLOSED,
};

/* The handshake between a read() that runs the guest and the guest. */
enum {
	RUN_IDLE,		/* no read() in progress: the guest may not run */
	RUN_GO,			/* a read() waits: the guest runs */
	RUN_EXIT,		/* the guest stopped for the Launcher */
};

struct lgm {
	int fd;
	int acc;		/* O_RDONLY, O_WRONLY or O_RDWR */
	int state;		/* enum lgm_state, read by every thread */
	pid_t owner;		/* the task that initialised it */
	unsigned long base, pfn_limit, start;
	pthread_mutex_t lock;	/* INITIALIZE and EVENTFD against each other */

	/* LHREQ_EVENTFD: our own duplicates of the descriptors, as the
	 * kernel keeps a reference; the first match wins, as there. */
	int nev;
	struct {
		unsigned long addr;
		int fd;
	} ev[MAX_EVENTFDS];

	/* Interrupts raised and not yet taken by the guest, and counts. */
	u32 irq_pending;
	u32 irq_count[LGUEST_IRQS];

	u32 run;		/* futex: RUN_* */
	u32 wake;		/* futex: bumped for everything the guest waits on */
	long exit_ret;		/* > 0: a notification; else -errno */
	unsigned long exit_addr;
	char reason[256];	/* why the guest died */
	bool restart;		/* it died asking for a restart */

	/* A descriptor to check and duplicate, for the helper thread. */
	u32 kreq;		/* futex: 0 idle, 1 asked, 2 answered */
	int kreq_fd, kreq_ret;
	pthread_mutex_t kreq_lock;
};

/* lgmodel.c: the device. */
extern bool lgm_on;
struct lgm *lgm_find(int fd);
int lgm_opened(int fd);
void lgm_closing(struct lgm *m);
ssize_t lgm_write(struct lgm *m, const void *buf, size_t len, off64_t off);
ssize_t lgm_read(struct lgm *m, void *buf, size_t len, off64_t off);
long lgm_futex_wait(u32 *word, u32 val, int timeout_ms);
void lgm_futex_wake(u32 *word);
void lgm_set_env_state(struct lgm *m);
bool lgm_is_dev_dir(int fd);

/* intercept.c: the C library's functions, under ours. */
ssize_t lgm_raw_write(int fd, const void *buf, size_t len);
int lgm_raw_close(int fd);

/* guest.c: what the guest thread runs on. */
struct guest {
	struct lgm *m;
	u8 *mem;			/* guest-physical 0 */
	unsigned long limit;		/* bytes the guest may touch */
	unsigned long ram;		/* from the e820 map */
	unsigned long scratch, scratch_end;	/* free RAM for buffers */
	int timeout_ms;			/* how long any one wait may take */
	int boot;			/* 1 on the first boot, 2 after a reboot... */
	const char *scenario;
	u32 irq_seen;			/* interrupts taken, ever */
};

extern int lgm_failures;

void *guest_main(void *arg);
void *gp(struct guest *g, unsigned long gpa, unsigned long len);
unsigned long galloc(struct guest *g, unsigned long len, unsigned long align);
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define check(cond, ...) \
	do { if (!(cond)) fail(__VA_ARGS__); } while (0)
void notify(struct guest *g, unsigned long addr);
void sync_guest(struct guest *g);
u32 wait_irq(struct guest *g, u32 mask, int timeout_ms);
u32 take_irqs(struct guest *g, u32 mask);
void __attribute__((noreturn)) guest_die(struct guest *g, const char *reason,
					  bool restart);
void __attribute__((noreturn)) power_off(struct guest *g);
void __attribute__((noreturn)) finish(struct guest *g);
void early_print(struct guest *g, const char *text);
const char *env_str(const char *name, const char *dflt);
long env_num(const char *name, long dflt);
void *read_whole(const char *path, size_t *len);
u64 now_ms(void);

/* The scenarios (boot.c, devices.c, net.c, hostile.c). */
void scen_boot(struct guest *g);
void scen_devices(struct guest *g);
void scen_console(struct guest *g);
void scen_block(struct guest *g);
void scen_rng(struct guest *g);
void scen_interrupts(struct guest *g);
void scen_reset(struct guest *g);
void scen_linux3(struct guest *g);
void scen_net(struct guest *g);
void scen_hostile(struct guest *g);
int boot_check_params(struct guest *g);
void leave_busy(struct guest *g);

#endif
