/*
 * guest.h - what the test guest's files share.
 *
 * The test guest is a tiny freestanding "kernel" the testsuite boots to
 * check the Launcher: it reads boot_params and the ACPI tables the way a
 * PC kernel does, prints what it found on the serial port, then runs the
 * scenario named by test= on its command line.  Only entry.S and cpu.c
 * run at CPL0; everything else runs at CPL3 with IOPL 3.
 */
#ifndef TESTGUEST_H
#define TESTGUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86/layout.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define noreturn __attribute__((noreturn))

/*
 * Port I/O always through %dx: if IOPL 3 is not granted at CPL3, the #GP
 * handler in entry.S performs these, and it knows only the %dx forms.
 */
static inline void outb(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "d"(port));
}

static inline void outw(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "d"(port));
}

static inline void outl(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "d"(port));
}

static inline u16 inw(u16 port)
{
	u16 v;

	asm volatile("inw %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "d"(port));
	return v;
}

static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "d"(port));
	return v;
}

/* Unaligned little-endian reads of firmware structures. */
static inline u16 rd16(const void *p)
{
	u16 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline u32 rd32(const void *p)
{
	u32 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline u64 rd64(const void *p)
{
	u64 v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

/* Guest-physical addresses we may touch: the identity map covers 4 GiB. */
#define MAPPED_END (4ULL << 30)

static inline const void *phys(u64 addr)
{
	return (const void *)(uintptr_t)addr;
}

/* lib.c */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* serial.c: COM1, polled */
void serial_init(void);
void serial_putc(char c);
char serial_getc(void);

/* entry.S: from CPL3, causes a triple fault */
void trip_now(void);

/* cpu.c: called from entry.S at CPL0 */
void cpu_setup(void);
noreturn void exception_report(u64 vec, u64 err, u64 rip, u64 cs, u64 cr2,
			       u64 rflags);

/* bootparams.c */
struct boot_info {
	const char *cmdline;	/* never NULL */
	u64 initrd_addr;
	u64 initrd_size;	/* 0: none */
	u64 rsdp;		/* PVH: where the loader says the RSDP is */
	bool pvh;		/* entered through pvh.S */
};
extern struct boot_info boot;
void boot_params_read(u64 bp);
void e820_print(void);
const char *arg(const char *key);	/* value of key=value, or NULL */
u64 arg_u64(const char *key, u64 def);
u64 e820_usable_end(u64 addr);		/* end of the usable range with addr */

/* acpi.c */
void acpi_init(void);
bool acpi_can_poweroff(void);
void acpi_poweroff(void);		/* returns only if it did not work */
u16 acpi_pm_timer_port(void);		/* from the FADT, 0: none */
bool acpi_pm_timer_32bit(void);

/* initrd.c */
u32 crc32_update(u32 crc, const void *p, u64 len);	/* start with 0 */

/* main.c */
noreturn void done(void);		/* hold=MS: wait that long first */
noreturn void poweroff(void);
noreturn void pvpanic(void);
void linger(void);

/* The scenarios, one family per file. */
void test_hello(void);			/* boot.c */
void test_poweroff(void);
void test_reboot(void);
void test_reset(void);
void test_triplefault(void);
void test_panic(void);
void test_initrd(void);			/* initrd.c */
void test_echo(void);			/* console.c */
void test_demo(void);
void test_flood(void);
void test_vcons(void);			/* vconsole.c */
void test_rng(void);
void test_blk(void);			/* vblk.c */
void test_blkro(void);
void test_barmove(void);
void test_vreset(void);
void test_multi(void);			/* vmulti.c */
void test_blkmq(void);			/* vmq.c */
void test_netmq(void);
void test_net(void);			/* vnet.c */
void test_hostile(void);		/* hostile.c */
void test_hring(void);			/* hostile-ring.c */
void test_hpci(void);			/* hostile-pci.c, hostile-msix.c */
void test_hblk(void);			/* hostile-blk.c */
void test_hevent(void);
void test_powerbutton(void);		/* power.c */
void test_ignorebutton(void);
void test_rebootkey(void);
void test_blkflush(void);
void test_udpsend(void);		/* udp.c */
void test_udprecv(void);

/* vnet.c, for udp.c: the net scenario's driver, doorbells left to the
 * caller (frames are Ethernet frames, the virtio header kept out) */
void net_start(const char *who, const char *ips, const char *peers);
struct vdev;
/* The same with the features of @want too; with VIRTIO_NET_F_MQ, every
 * queue pair and the control queue set up.  The device (virtio.h). */
struct vdev *net_start_mq(const char *who, const char *ips,
			  const char *peers, u64 want);
void net_tx_pair(int p);		/* transmit on pair @p from now */
int net_ping(u16 seq);			/* the reply's receive queue, or -1 */
const u8 *net_ip(void);
const u8 *net_peer_ip(void);
const u8 *net_resolve(const char *who);	/* the peer's MAC, by ARP */
u16 net_csum(const u8 *p, u32 len);
void udp_build(u8 *h, const u8 *dst, u16 port, u32 size);	/* udp.c */
u8 *net_frame(const u8 *dst, u16 type);	/* Ethernet header filled in */
void net_frame_send(u8 *f, u32 len);	/* queued, no doorbell */
u8 *net_rx_get(u32 *len);		/* a received frame, or NULL */
void net_rx_other(const u8 *f, u32 len);	/* ARP and ICMP echo */
void net_rx_put(u8 *f);			/* back to the device, no doorbell */
void net_kick(void);			/* doorbells, if the device wants */
void net_tx_drain(void);		/* until every frame was taken */
bool net_poll(void);			/* answer one frame, if any */
unsigned net_answered(void);		/* echo requests answered */
unsigned net_arps(void);		/* ARP requests answered */
extern bool net_quiet;			/* no line per packet */

#endif
