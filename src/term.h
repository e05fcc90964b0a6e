/*
 * term.h - the controlling terminal: raw mode, restored on every way out,
 * and the console escapes.
 */
#ifndef LGUEST_TERM_H
#define LGUEST_TERM_H

#include "lguest.h"

/* Put stdin in raw mode if it is a terminal; restored at exit. */
void term_init(void);

/* Put the terminal back as we found it.  Async-signal-safe. */
void term_restore(void);

/* Where console input goes once the escapes are taken out. */
typedef void (*term_sink)(void *opaque, const u8 *buf, size_t len);
void term_set_sink(term_sink sink, void *opaque);

/* Feed bytes read from stdin: handles Ctrl-A x, Ctrl-A Ctrl-A and the
 * triple ^C, forwards the rest to the sink. */
void term_input(const u8 *buf, size_t len);

#endif
