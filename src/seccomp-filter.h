/*
 * seccomp-filter.h - every thread of the Launcher may make only the
 * system calls its work needs (src/seccomp.c).
 *
 * (Not "seccomp.h": src/ is on the include path, and a header of that
 * name would hide libseccomp's own <seccomp.h>.)
 */
#ifndef LGUEST_SECCOMP_FILTER_H
#define LGUEST_SECCOMP_FILTER_H

#include <stdbool.h>

/* Filters stack: the vCPU thread is created by main and the queue
 * threads by the vCPU thread, so each list holds everything the threads
 * below it need too.  The main list also holds what a fresh image of the
 * Launcher needs from exec() until it installs its own. */
enum thread_class { THREAD_MAIN, THREAD_VCPU, THREAD_DEVICE };

/* Confine the calling thread (and the threads it will create) to the
 * calls of class @c.  A forbidden call then ends the Launcher with one
 * line naming it on stderr, the terminal restored, and EXIT_ERROR.
 * Fatal (errx) if the filter cannot be installed; nothing at all when
 * seccomp_off is set. */
void seccomp_install(enum thread_class c);

/* A directory descriptor through which the main thread may open a file
 * read-write: /dev, where a reboot on /dev/lguest opens it again (the
 * new image runs under the old image's filter until it installs its
 * own).  -1: none, and main opens nothing but read-only. */
extern int seccomp_reopen_dir;

/* --no-seccomp: for debugging only. */
extern bool seccomp_off;

#endif
