/*
 * attach.h - `lguest console NAME`: this terminal becomes a running
 * guest's console until Ctrl-] or Ctrl-A d.
 */
#ifndef LGUEST_ATTACH_H
#define LGUEST_ATTACH_H

/* @argv[0] is "console".  Returns the exit status: 0 after a detach,
 * 1 when the guest went away or could not be attached to, 2 for a
 * usage error. */
int attach_main(int argc, char **argv);

#endif
