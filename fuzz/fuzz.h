/*
 * fuzz.h - what the fuzz harnesses share (fuzz/support.c).
 *
 * The harnesses link the Launcher's own source files.  What those files
 * would do to the host (exit on bad input, start threads, block on an
 * eventfd, talk to KVM) is redirected here, so that one process can run
 * millions of inputs, each from a clean state.
 */
#ifndef LGUEST_FUZZ_H
#define LGUEST_FUZZ_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "lguest.h"
#include "virtio/virtio.h"

/* err(), errx() and exit() return here while an input runs: a fatal
 * error on bad input is a rejection, not a crash. */
extern jmp_buf fuzz_jmp;
extern bool fuzz_armed;

/* Run @fn(@arg) with fatal errors turned into a return of false. */
bool fuzz_run(void (*fn)(void *arg), void *arg);

/* A machine with @ram bytes of guest RAM, @low of them below the hole
 * (the rest at 4 GiB), and a hypervisor that accepts everything.  Gone
 * again at fuzz_reset(). */
struct vm *fuzz_vm(u64 ram, u64 low);

/* Free what the Launcher allocated for this input (malloc_or_die),
 * close the eventfds it made: the next input starts from nothing. */
void fuzz_reset(void);

/* Read little-endian numbers from the input, zero past its end. */
struct fuzz_in {
	const u8 *p;
	size_t left;
};
u8 fuzz_u8(struct fuzz_in *in);
u16 fuzz_u16(struct fuzz_in *in);
u32 fuzz_u32(struct fuzz_in *in);

/* Set up @vq from 8 bytes of the input: size (log2), ring addresses. */
void fuzz_queue(struct virtqueue *vq, struct fuzz_in *in);

/* A queue service that takes every chain, touches every byte of it and
 * gives it back: what a device does with buffers it does not parse. */
void fuzz_drain(struct virtqueue *vq);

/* A file in $TMPDIR (else /dev/shm, else /tmp) for the input; unlinked
 * at exit. */
const char *fuzz_tmpfile(const char *tag);
/* Replace the file's contents with @data. */
void fuzz_write_file(const char *path, const u8 *data, size_t size);

/* The other end of the stand-in tap the net harness gets. */
extern int fuzz_tap_peer;

#endif
