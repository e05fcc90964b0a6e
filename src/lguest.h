/*
 * lguest.h - what every part of the Launcher shares.
 *
 * The Launcher is three layers: a hypervisor backend (src/kvm/ or
 * src/lguest/) that runs the virtual CPU, a platform (src/x86/, src/hw/)
 * that lays out "physical" memory and emulates the few chips a PC kernel
 * expects, and the devices.  Devices and chips never call the backend
 * directly: they go through struct vm and the helpers declared here.
 */
#ifndef LGUEST_H
#define LGUEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <err.h>
#include <sys/types.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A 32-bit Launcher too has disks over 2 GiB and a clock past January
 * 2038: Makefile.am builds every file with both 64 bits wide. */
_Static_assert(sizeof(off_t) == 8, "off_t must be 64-bit (_FILE_OFFSET_BITS=64)");
_Static_assert(sizeof(time_t) == 8, "time_t must be 64-bit (_TIME_BITS=64)");

/*
 * Exit statuses, documented in lguest(1).  err()/errx() exit with
 * EXIT_ERROR; the command-line parser uses EXIT_USAGE.
 */
enum {
	EXIT_POWEROFF = 0,	/* the guest powered itself off */
	EXIT_ERROR = 1,		/* bad input, or the Launcher failed */
	EXIT_USAGE = 2,		/* the command line made no sense */
	EXIT_CRASH = 3,		/* the guest crashed or panicked */
	EXIT_CONSOLE = 4,	/* stopped from the console (Ctrl-A x, ^C^C^C) */
	EXIT_TIMEOUT = 5,	/* did not power off in time; stopped hard */
};

/* Why the guest stopped running. */
enum stop_reason {
	STOP_NONE,
	STOP_POWEROFF,
	STOP_REBOOT,
	STOP_CRASH,
	STOP_CONSOLE,
	STOP_TIMEOUT,
	STOP_FATAL,		/* err() on another thread: exit 1 from main */
};

struct hv_ops;
struct pci_bus;
struct uart;
struct i8042;
struct rtc;
struct acpi_pm;
struct virtio_dev;
struct lgbus;
struct boot_cpu;
struct boot_kernel;

/* A bus: who answers which port or address, searched in order. */
#define BUS_MAX_RANGES	64

struct bus_range {
	u64 base, len;
	void *fn;
	void *opaque;
};

struct bus {
	const char *name;		/* "port", "mmio": for messages */
	struct bus_range range[BUS_MAX_RANGES];
	int n;
	pthread_rwlock_t lock;
};

/*
 * The virtual CPUs, each run by a thread of its own.  vCPU 0 boots the
 * kernel; the others wait, as a PC's application processors do, for the
 * INIT and Start-up IPIs the kernel sends them.  APIC IDs are the vCPU
 * numbers, below 255, so a plain xAPIC MADT entry describes each.
 */
#define VM_MAX_VCPUS	64

struct vcpu {
	struct vm *vm;
	int id;			/* also its APIC ID */
	pthread_t thread;
	bool running;		/* its thread was started */
	void *hv_priv;		/* the backend's state for it */
};

/*
 * One of these describes the whole machine, and everything the machine
 * is hangs off it: no chip or device keeps its state in a file static.
 * Guest RAM is one host mapping; guest-physical addresses below the
 * 32-bit PCI hole map to the start of it, and what does not fit below
 * the hole continues at 4 GiB.
 */
struct vm {
	const struct hv_ops *hv;
	void *hv_priv;		/* the backend's own state */

	u8 *ram;		/* host address of guest RAM */
	u64 ram_size;		/* bytes of guest RAM */
	u64 low_end;		/* RAM below the hole: [0, low_end) */
	/* RAM above 4 GiB: [4 GiB, 4 GiB + ram_size - low_end) */

	/* Filled by the kernel loader, used to start the vCPU. */
	u64 entry;		/* guest-physical entry point */
	u64 boot_params;	/* guest-physical address of boot_params */
	u64 kernel_end;		/* first byte after the loaded kernel */
	struct boot_cpu *boot_cpu;	/* the vCPU's first state (x86/cpu.h) */
	struct boot_kernel *kernel;	/* what the loader read (x86/boot.c) */

	struct vcpu vcpu[VM_MAX_VCPUS];
	int nr_vcpus;
	bool stopping;		/* vCPUs: leave the guest and return */

	/* Chips have no locks of their own: one vCPU at a time is inside
	 * any port or MMIO handler, as one CPU at a time was on the
	 * single-CPU machine they were written for. */
	pthread_mutex_t io_lock;

	/* Port I/O and MMIO, and how often either found nobody home. */
	struct bus pio, mmio;
	unsigned long unhandled;

	/* Interrupts: MSI routes take GSIs from here up. */
	int next_gsi;

	/* The chips the rest of the Launcher talks to (src/hw/)... */
	struct uart *serial;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct acpi_pm *pm;
	struct pci_bus *pci;

	/* On /dev/lguest, the lguest bus instead of PCI (virtio/lgbus.c):
	 * its device page and rings sit just above the RAM the guest is
	 * told of, inside our mapping. */
	struct lgbus *lgbus;
	/* Where the guest's buffers must end (0: anywhere in RAM): on the
	 * lguest bus, below its device page and rings. */
	u64 buf_end;

	/* ...and the virtio devices, in PCI slot order. */
	struct virtio_dev *devices;
	struct virtio_dev *console;
};

/* Set up the parts of @vm that exist before any chip or device. */
void vm_init(struct vm *vm, const struct hv_ops *hv);

/* Guest-physical layout of the platform (see src/x86/layout.h). */
#define HIGH_RAM_START	(4 * GiB)

/*L:010 Every guest address the Launcher follows goes through guest_ptr():
 * it returns the host address of [gpa, gpa + len) when all of it is guest
 * RAM, else NULL.  The sum is checked for overflow, so a hostile guest
 * cannot make us reach outside the mapping. */
void *guest_ptr(const struct vm *vm, u64 gpa, u64 len);
/* The same for a buffer a driver hands a device: also below buf_end. */
void *guest_buf(const struct vm *vm, u64 gpa, u64 len);

/* Port I/O: chips register a handler for a range of ports. */
typedef void (*pio_fn)(void *opaque, u16 port, u8 *data, int size, bool write);
void pio_register(struct vm *vm, u16 base, u16 count, pio_fn fn,
		  void *opaque);
void pio_dispatch(struct vm *vm, u16 port, u8 *data, int size, bool write);

/* MMIO, the same way, for guest-physical ranges outside RAM. */
typedef void (*mmio_fn)(void *opaque, u64 addr, u8 *data, int size, bool write);
void mmio_register(struct vm *vm, u64 base, u64 len, mmio_fn fn,
		   void *opaque);
void mmio_dispatch(struct vm *vm, u64 addr, u8 *data, int size, bool write);

/* How many accesses found nobody at their port or address. */
unsigned long bus_unhandled(struct vm *vm);

/*
 * The hypervisor, as chips, transports and devices see it (vm.c): they
 * never call the backend themselves.
 */
/* Set an interrupt line of the guest's interrupt controller. */
void vm_irq_line(struct vm *vm, int irq, int level);
/* A GSI of our own, for an MSI route. */
int vm_gsi_alloc(struct vm *vm);
/* Route @gsi to an MSI message (address, data). */
int vm_msi_route(struct vm *vm, int gsi, u64 addr, u32 data);
/* Let a write to @fd raise @gsi; false: remove that again. */
int vm_irqfd(struct vm *vm, int fd, int gsi, bool add);
/* Let a guest write of @len bytes at @addr signal @fd without an exit
 * to us; -1 (errno set) if the backend cannot. */
int vm_ioeventfd(struct vm *vm, int fd, u64 addr, int len, bool pio,
		 bool add);

/* Ask the main thread to stop the guest for this reason (any thread). */
void vm_stop(enum stop_reason why);

/* Start a thread per vCPU (main thread). */
void vm_start_vcpus(struct vm *vm, void *(*fn)(void *));
/* Take every vCPU out of the guest and wait for its thread to end; the
 * ones that have not ended after a few seconds are named (main thread). */
void vm_stop_vcpus(struct vm *vm);

/*
 * Several threads say things (a vCPU each, queues, main), and the C
 * library writes a warning in three pieces: "lguest: ", the message and
 * the newline.  Holding stderr's lock across the call keeps each line
 * whole; the library's own calls inside take the same lock again.
 */
#define warnx(...) \
	do { flockfile(stderr); (warnx)(__VA_ARGS__); funlockfile(stderr); } while (0)
#define warn(...) \
	do { flockfile(stderr); (warn)(__VA_ARGS__); funlockfile(stderr); } while (0)

/* --verbose */
extern bool verbose_flag;
#define verbose(...) \
	do { if (verbose_flag) warnx(__VA_ARGS__); } while (0)

/* A descriptor kept across reboot (handover.h): the one handed over
 * under @key, else @path opened and handed over at the next reboot. */
int open_kept(const char *key, const char *path, int flags);

/* Small helpers that die with a useful message instead of failing. */
int open_or_die(const char *name, int flags);
u64 now_ms(void);
u64 now_us(void);
void *malloc_or_die(size_t size);

#endif
