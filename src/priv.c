/*
 * priv.c - least privilege.
 *
 * The Launcher needs root (or CAP_NET_ADMIN, or the kvm group) only to
 * open things: /dev/kvm, taps, disks.  Those are open by the time
 * priv_drop() runs, and kept open across reboots (handover.c), so afterwards
 * it needs no privilege at all, and keeps none: an exploited Launcher
 * holds a VM and some files, not the machine.
 */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "handover.h"
#include "lguest.h"
#include "priv.h"

static struct {
	const char *user, *root;
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int ngroups;
} want;

void priv_set_user(const char *name)
{
	struct passwd *pw;

	want.user = name;
	if (handover_rebooted())
		return;		/* ids changed already */
	pw = getpwnam(name);

	if (!pw)
		errx(EXIT_USAGE, "--user=%s: no such user", name);
	want.uid = pw->pw_uid;
	want.gid = pw->pw_gid;
	/* The user's groups, taken now: /etc/group may not be in the
	 * chroot.  The descriptors we hold need none of them. */
	want.ngroups = ARRAY_SIZE(want.groups);
	if (getgrouplist(name, pw->pw_gid, want.groups, &want.ngroups) < 0)
		want.ngroups = 0;
}

void priv_set_chroot(const char *dir)
{
	want.root = dir;
}

static void change_ids(void)
{
	if (setgroups(want.ngroups, want.groups) < 0)
		err(EXIT_ERROR, "--user=%s: setgroups", want.user);
	if (setresgid(want.gid, want.gid, want.gid) < 0)
		err(EXIT_ERROR, "--user=%s: setresgid", want.user);
	if (setresuid(want.uid, want.uid, want.uid) < 0)
		err(EXIT_ERROR, "--user=%s: setresuid", want.user);
}

/*L:380 The bounding set can only shrink with CAP_SETPCAP.  A Launcher
 * started with just CAP_NET_ADMIN lacks it, so it first enters a user
 * namespace of its own, where it holds every capability, and empties the
 * bounding set there.  The descriptors it holds keep working. */
static void drop_bounding_set(void)
{
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) &&
	    unshare(CLONE_NEWUSER) < 0) {
		/* Not fatal: with no capabilities left, the bounding set
		 * only limits what an exec could gain, and no_new_privs
		 * already forbids that. */
		warn("cannot empty the capability bounding set (no "
		     "CAP_SETPCAP, and no user namespace)");
		return;
	}
	capng_get_caps_process();
	capng_clear(CAPNG_SELECT_BOUNDS);
	if (capng_apply(CAPNG_SELECT_BOUNDS) < 0)
		errx(EXIT_ERROR, "cannot drop the capability bounding set");
}

void priv_drop(void)
{
	/* After a reboot we are already where we meant to be: in the
	 * chroot, as the user.  Only the filters and flags need redoing,
	 * and those were inherited too, so this just checks. */
	bool again = handover_rebooted();

	/* The bounding set first: changing ids below clears what would
	 * allow it, and a chroot forbids the user namespace way. */
	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_BOUNDS) != CAPNG_NONE)
		drop_bounding_set();

	if (want.root && !again) {
		if (chroot(want.root) < 0)
			err(EXIT_ERROR, "--chroot=%s", want.root);
		if (chdir("/") < 0)
			err(EXIT_ERROR, "--chroot=%s: chdir", want.root);
	}
	if (want.user && !again)
		change_ids();

	capng_get_caps_process();
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_BOTH) < 0)
		errx(EXIT_ERROR, "cannot drop capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		err(EXIT_ERROR, "cannot clear ambient capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err(EXIT_ERROR, "cannot set no_new_privs");
	verbose("privileges dropped%s%s%s%s", want.user ? ", user " : "",
		want.user ? want.user : "", want.root ? ", root " : "",
		want.root ? want.root : "");
}
