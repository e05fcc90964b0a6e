/*
 * priv.h - giving up privileges once the privileged work is done.
 */
#ifndef LGUEST_PRIV_H
#define LGUEST_PRIV_H

/* --user=NAME: look the user up now, while /etc is still in reach. */
void priv_set_user(const char *name);

/* --chroot=DIR */
void priv_set_chroot(const char *dir);

/* Change root and ids as asked, then drop every capability, the bounding
 * set and the ambient set, and set no_new_privs. */
void priv_drop(void);

#endif
