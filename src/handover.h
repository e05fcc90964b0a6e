/*
 * handover.h - what a guest reboot hands from one image of the Launcher
 * to the next: named descriptors and named values, in one environment
 * variable, LGUEST_HANDOVER.
 */
#ifndef LGUEST_HANDOVER_H
#define LGUEST_HANDOVER_H

#include <stdbool.h>

/* The variable's name.  It is lguest's own: set just before the exec(),
 * read and removed from the environment by the new image, so that no
 * other program sees it. */
#define HANDOVER_ENV	"LGUEST_HANDOVER"

/*
 * Keys are up to 31 of a-z, 0-9, '.', '_' and '-'.  What the previous
 * image handed over is there from the start, and is handed on again at
 * the next reboot unless it is changed: a part that keeps something
 * only needs to say so once, in the image that first made it.
 */

/* The descriptor handed over under @key, or -1. */
int handover_fd(const char *key);

/* Hand @fd over under @key at the next reboot; -1 takes @key back.
 * Open it close-on-exec: handover_exec() lets it through to the new
 * image alone, which makes it close-on-exec again. */
void handover_set_fd(const char *key, int fd);

/* The value handed over under @key, or NULL. */
const char *handover_value(const char *key);

/* Hand @value over under @key (any bytes but NUL, up to 255 of them);
 * NULL takes @key back. */
void handover_set_value(const char *key, const char *value);

/* A number: false when there is none under @key.  A value that is not
 * one is fatal, like any malformed hand-over. */
bool handover_number(const char *key, unsigned long long *n);
void handover_set_number(const char *key, unsigned long long n);

/* Is this image the Launcher re-executed by a guest reboot? */
bool handover_rebooted(void);

/* Call @fn in handover_exec(), before anything is handed over: the
 * place to set what changes while the guest runs, and to tidy up.
 * Hooks run in the order they were added; adding one twice does not
 * run it twice. */
void handover_on_exec(void (*fn)(void));

/* Reboot: run the hooks, leave the descriptors open across exec(), set
 * LGUEST_HANDOVER and execute the descriptor kept under "exe" with
 * @argv.  Returns only if that failed, with errno set. */
void handover_exec(char *const argv[]);

/* The value under @key cannot be what its owner handed over: fatal,
 * with one line naming the variable. */
void __attribute__((noreturn)) handover_invalid(const char *key);

#endif
