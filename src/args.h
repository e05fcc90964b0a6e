/*
 * args.h - what the user asked for, from the command line and from a
 * configuration file (lguest.conf(5)).
 */
#ifndef LGUEST_ARGS_H
#define LGUEST_ARGS_H

#include "lguest.h"
#include "machine.h"
#include "pci.h"

/* Which console gets the keyboard. */
enum input_to { INPUT_AUTO, INPUT_SERIAL, INPUT_VIRTIO };
/* --hypervisor: /dev/kvm if it exists, else /dev/lguest; or either. */
enum hypervisor { HV_AUTO, HV_KVM, HV_LGUEST };

/* A device option, kept in the order given: the guest finds the
 * devices in that order. */
struct devarg {
	const struct device_type *type;
	const char *arg;
	const char *origin;	/* "FILE:LINE" when it came from --config */
	int nth;		/* 1 for the first of its kind, 2 for the next */
};

struct args {
	u64 mem;
	const char *mem_arg;
	int cpus;		/* --cpus: vCPUs, 1 unless asked */
	enum hypervisor hv;
	const char *kernel;
	const char *initrd;
	char *cmdline;
	enum input_to input;
	int shutdown_timeout;
	bool daemon;
	bool no_seccomp;
	const char *console;
	const char *name;
	const char *pidfile;
	struct devarg dev[MAX_DEVICES];
	int ndev;
};

/* Fill @a from --config=FILE (if given) and then the command line. */
void parse_args(int argc, char **argv, struct args *a);

/* Read a configuration file into @a (config.c). */
void config_load(const char *path, struct args *a);

/* For config.c: apply one long option by name; false if unknown. */
bool args_apply(struct args *a, const char *key, const char *value,
		const char *origin);

/* Errors say where the bad value came from: "FILE:LINE: " or "". */
extern const char *args_origin;

void usage_error(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

#endif
