#!/bin/bash
# nspawn-test.sh - lguest as a Debian system runs it.
#
# The package is installed with apt in a booted Debian container (systemd
# as PID 1, systemd-nspawn --boot), and the demo guest is run the way an
# administrator would: systemctl start lguest@demo, look at it, attach to
# its console, systemctl stop.  Then a unit that is not allowed /dev/kvm
# must not be able to open it (so the unit's DeviceAllow= is really what
# lets the launcher in), and the package is purged.
#
# Usage: nspawn-test.sh [--deb=FILE] [--srcdir=DIR] [--keep-work]
#        nspawn-test.sh --prepare [--deb-to=DIR] [--srcdir=DIR]
#
#   --prepare    only make the cached root file system, and exit;
#                with --deb-to=DIR, also build the package into DIR
#
#   --deb=FILE   the lguest_*.deb to test (or LGUEST_DEB=FILE); without it
#                one is built with dpkg-buildpackage from a copy of the
#                source tree, DIR (default: the tree this script is in).
#
# Environment:
#   LGUEST_TEST_CACHE   where the container's root file system is kept
#                       between runs (default /var/cache/lguest-testsuite);
#                       built with debootstrap when absent
#   LGUEST_TEST_MIRROR  the Debian mirror for debootstrap (default: the
#                       first URIs: line of /etc/apt/sources.list.d/debian.sources)
#
# Output: one line per check, "CHECK name: ok detail" or "CHECK name: fail
# detail", which testsuite/lguest.system/system.exp turns into PASS and
# FAIL; "NOTE ..." lines say what was done and how long it took; and
# "UNRESOLVED: why" when the test cannot run at all.  Exit status: 0 all
# checks ok, 1 a check failed, 2 the test could not run.
#
# Whatever happens, the container is stopped and nothing it started is
# left behind: an EXIT trap tears it down.

set -u
export LC_ALL=C

SUITE=bookworm
# What the rootfs needs beyond minbase: systemd to boot, apt to install
# the package, and the libraries lguest links with (no network inside).
INCLUDE=systemd,systemd-sysv,dbus,apt,ca-certificates,libcap-ng0,libseccomp2,libsystemd0,liburing2,zlib1g
CACHE=${LGUEST_TEST_CACHE:-/var/cache/lguest-testsuite}
ROOTFS=$CACHE/rootfs-$SUITE
STAMP=$ROOTFS/.lguest-testsuite-rootfs
UNIT=lguest@demo.service
WORD=lguest-echo-$$

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
deb=${LGUEST_DEB:-}
keep_work=0
prepare=0
deb_to=
for arg; do
	case $arg in
	--prepare) prepare=1 ;;
	--deb-to=*) deb_to=${arg#--deb-to=} ;;
	--deb=*) deb=${arg#--deb=} ;;
	--srcdir=*) srcdir=${arg#--srcdir=} ;;
	--keep-work) keep_work=1 ;;
	*) echo "usage: $0 [--deb=FILE] [--srcdir=DIR] [--keep-work] [--prepare [--deb-to=DIR]]" >&2
	   exit 2 ;;
	esac
done

failed=0
t_start=$(date +%s)

check() {	# check NAME ok|fail DETAIL...
	local name=$1 res=$2
	shift 2
	echo "CHECK $name: $res${*:+ $*}"
	[ "$res" = ok ] || failed=1
}

note() {
	echo "NOTE $*"
}

unresolved() {
	echo "UNRESOLVED: $*"
	exit 2
}

# The last lines of a log, on one line, for a check's detail.
tail_of() {
	tail -n "${2:-3}" "$1" 2>/dev/null | tr -s '\r\n\t' '   ' | cut -c1-300
}

elapsed() {
	echo $(($(date +%s) - $1))
}

# ---- the container's root file system, cached -----------------------------

mirror() {
	if [ -n "${LGUEST_TEST_MIRROR:-}" ]; then
		echo "$LGUEST_TEST_MIRROR"
		return
	fi
	sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1
}

# A rootfs is complete when its stamp names the same package list: one
# made with another --include is made again.
rootfs_ok() {
	[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "include=$INCLUDE" ]
}

make_rootfs() {
	local url t0 new=$ROOTFS.new.$$ log=$CACHE/debootstrap.log
	url=$(mirror)
	[ -n "$url" ] || unresolved "no Debian mirror: set LGUEST_TEST_MIRROR"
	t0=$(date +%s)
	rm -rf "$new"
	if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" \
		"$new" "$url" >"$log" 2>&1; then
		rm -rf "$new"
		unresolved "debootstrap failed: $(tail_of "$log" 2) (log: $log)"
	fi
	echo "include=$INCLUDE" >"$new/.lguest-testsuite-rootfs"
	rm -rf "$ROOTFS"
	mv "$new" "$ROOTFS"
	note "made the $SUITE rootfs in $ROOTFS in $(elapsed "$t0")s"
}

# Shared while in use, so that nobody replaces it under us; exclusive
# to make it, so that one run makes it and the others wait for it.
ensure_rootfs() {
	mkdir -p "$CACHE" || unresolved "cannot create $CACHE"
	exec 9>"$CACHE/rootfs.lock"
	flock -s 9
	if ! rootfs_ok; then
		flock 9
		rootfs_ok || make_rootfs
		flock -s 9
	fi
}

# Build lguest_*.deb from a copy of $srcdir: with git, the files git knows
# of (committed, changed or new, not ignored), so the working tree is what
# is tested; otherwise the whole tree.  The package's own testsuite is not
# run (nocheck): it would run this test again.
build_deb() {
	local src=$work/build/lguest t0 log=$work/build.log
	mkdir -p "$src"
	[ -f "$srcdir/debian/control" ] ||
		unresolved "no debian/ in $srcdir to build the package from (set LGUEST_DEB)"
	command -v dpkg-buildpackage >/dev/null ||
		unresolved "dpkg-buildpackage is not installed (apt-get install dpkg-dev)"
	if git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
			xargs -0 -I{} sh -c 'test -e "$1" && printf "%s\0" "$1"' sh {} |
			tar --null -T - -cf -) | tar -xf - -C "$src" ||
			unresolved "copying the source tree failed"
	else
		cp -a "$srcdir/." "$src/" || unresolved "copying $srcdir failed"
	fi
	t0=$(date +%s)
	if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
		dpkg-buildpackage -us -uc -b -Pnocheck) >"$log" 2>&1; then
		cp "$log" "$CACHE/last-build.log" 2>/dev/null
		unresolved "dpkg-buildpackage failed: $(grep -m2 -E '\*\*\*|error:' "$log" | tr '\n' ' ' | cut -c1-300) (log: $CACHE/last-build.log)"
	fi
	deb=$(ls "$work"/build/lguest_*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || unresolved "dpkg-buildpackage made no lguest_*.deb"
	note "built $(basename "$deb") in $(elapsed "$t0")s"
}

# --prepare: only the cached root file system, made while the network is
# at hand (linux/outer.sh runs the testsuite where there is none); with
# --deb-to=DIR, the package too, built here at native speed rather than
# in the emulated machine.
if [ "$prepare" = 1 ]; then
	[ "$(id -u)" = 0 ] || unresolved "must run as root (debootstrap)"
	command -v debootstrap >/dev/null ||
		unresolved "debootstrap is not installed (apt-get install debootstrap)"
	ensure_rootfs
	note "rootfs $ROOTFS"
	if [ -n "$deb_to" ]; then
		work=$(mktemp -d /tmp/lguest-system.XXXXXX) || unresolved "mktemp failed"
		trap 'rm -rf "$work"' EXIT
		build_deb
		mkdir -p "$deb_to" && rm -f "$deb_to"/lguest_*.deb &&
			cp "$deb" "$deb_to/" || unresolved "cannot copy $deb to $deb_to"
		note "package $deb_to/$(basename "$deb")"
	fi
	exit 0
fi

# ---- can it run at all ----------------------------------------------------

[ "$(id -u)" = 0 ] || unresolved "must run as root (systemd-nspawn, cgroups)"
[ -c /dev/kvm ] || unresolved "no /dev/kvm on this host"
[ -c /dev/net/tun ] || unresolved "no /dev/net/tun on this host"
for prog in systemd-nspawn debootstrap nsenter flock; do
	command -v $prog >/dev/null ||
		unresolved "$prog is not installed (apt-get install systemd-container debootstrap)"
done
if [ -n "${LGUEST_SYSTEM_TEST_NESTED:-}" ]; then
	unresolved "already inside a system test (a package build it started?)"
fi
export LGUEST_SYSTEM_TEST_NESTED=1

# The cgroup hierarchies nspawn uses: cgroup2 (alone, or "unified" beside
# the v1 ones) and, on a hybrid host, the named v1 "systemd" one.
cg_roots=()
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	cg_roots+=(/sys/fs/cgroup)
else
	[ -f /sys/fs/cgroup/unified/cgroup.procs ] &&
		cg_roots+=(/sys/fs/cgroup/unified)
	[ -f /sys/fs/cgroup/systemd/cgroup.procs ] &&
		cg_roots+=(/sys/fs/cgroup/systemd)
fi
[ ${#cg_roots[@]} -gt 0 ] ||
	unresolved "no cgroup2 or name=systemd hierarchy under /sys/fs/cgroup"

work=$(mktemp -d /tmp/lguest-system.XXXXXX) || unresolved "mktemp failed"
cgname=lguest-system-$$
machine=lguest-test-$$
nspawn_pid=
leader=

# ---- teardown, whatever happened ----------------------------------------

alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

wait_gone() {	# wait_gone PID SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# The PIDs still in our cgroups (the container's, after nspawn died).
cg_pids() {
	local root
	for root in "${cg_roots[@]}"; do
		[ -d "$root/$cgname" ] &&
			find "$root/$cgname" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -u
}

teardown() {
	local t0 pid root
	trap - EXIT INT TERM HUP
	trap '' INT TERM HUP
	if alive "$nspawn_pid"; then
		t0=$(date +%s)
		# SIGTERM halts the container cleanly; a second one at once.
		kill -TERM "$nspawn_pid" 2>/dev/null
		if ! wait_gone "$nspawn_pid" 20; then
			kill -TERM "$nspawn_pid" 2>/dev/null
			wait_gone "$nspawn_pid" 5 ||
				kill -KILL "$nspawn_pid" 2>/dev/null
		fi
		wait "$nspawn_pid" 2>/dev/null
		note "container stopped in $(elapsed "$t0")s"
	fi
	# Nothing may outlive the test: whatever is left in our cgroups goes.
	for pid in $(cg_pids); do
		note "killing leftover process $pid ($(cat /proc/$pid/comm 2>/dev/null))"
		kill -KILL "$pid" 2>/dev/null
	done
	for root in "${cg_roots[@]}"; do
		[ -d "$root/$cgname" ] || continue
		for ((i = 0; i < 50; i++)); do
			find "$root/$cgname" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$root/$cgname" ] || break
			sleep 0.1
		done
		[ -d "$root/$cgname" ] && note "could not remove $root/$cgname"
	done
	if [ $keep_work = 1 ]; then
		note "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap teardown EXIT
trap 'exit 2' INT TERM HUP
# A console client that went away must not take the test with it.
trap '' PIPE

# ---- the package ----------------------------------------------------------

if [ -z "$deb" ]; then
	build_deb
fi
[ -f "$deb" ] || unresolved "no such package: $deb"
deb=$(readlink -f "$deb")
mkdir -p "$work/deb"
cp "$deb" "$work/deb/" || unresolved "cannot copy $deb"
debname=$(basename "$deb")

# ---- the container's root file system ------------------------------------

ensure_rootfs
note "rootfs $ROOTFS"

# ---- boot it ----------------------------------------------------------------

for root in "${cg_roots[@]}"; do
	mkdir "$root/$cgname" || unresolved "cannot create $root/$cgname"
done

# nspawn starts in cgroups of its own (without a host systemd it would
# otherwise make payload/ and supervisor/ in the host's root cgroups).
# DeviceAllow= is enforced inside only with the unified hierarchy and
# the bpf() system call allowed.
(
	for root in "${cg_roots[@]}"; do
		echo "$BASHPID" >"$root/$cgname/cgroup.procs" || exit 1
	done
	exec env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet \
		--boot --directory="$ROOTFS" --machine="$machine" \
		--register=no --keep-unit --volatile=overlay \
		--private-network --console=read-only \
		--system-call-filter=bpf \
		--bind=/dev/kvm --bind=/dev/net/tun \
		--bind-ro="$work/deb:/mnt/lguest"
) </dev/null >"$work/nspawn.log" 2>&1 &
nspawn_pid=$!
t_boot=$(date +%s)

# The container's PID 1, as the host sees it: nspawn's child whose
# innermost PID is 1.
find_leader() {
	local kid
	for kid in $(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null); do
		if grep -Eq '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' \
			/proc/"$kid"/status 2>/dev/null; then
			echo "$kid"
			return 0
		fi
	done
	return 1
}

for ((i = 0; i < 200; i++)); do
	leader=$(find_leader) && break
	alive "$nspawn_pid" || break
	sleep 0.05
done
[ -n "$leader" ] ||
	unresolved "the container did not start: $(tail_of "$work/nspawn.log" 4)"

# Run a command inside, as root, with a clean environment.
cx() {
	nsenter -t "$leader" -a -r -w -- /usr/bin/env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
		SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

# Until PID 1 listens systemctl cannot connect, or says "offline";
# once it does, --wait waits for the boot to finish.
for ((i = 0; i < 600; i++)); do
	state=$(cx timeout 60 systemctl is-system-running --wait 2>&1)
	case $state in running|degraded|maintenance|stopping) break ;; esac
	alive "$nspawn_pid" || break
	sleep 0.1
done
case $state in
running)
	check boot ok "systemd running in $(elapsed "$t_boot")s" ;;
degraded)
	check boot ok "degraded in $(elapsed "$t_boot")s, failed:" \
		$(cx systemctl list-units --failed --plain --no-legend | awk '{print $1}') ;;
*)
	unresolved "the container did not boot (systemctl is-system-running: $state): $(tail_of "$work/nspawn.log" 4)" ;;
esac

# ---- install ------------------------------------------------------------

t0=$(date +%s)
if cx apt-get install -y --no-install-recommends "/mnt/lguest/$debname" \
	>"$work/install.log" 2>&1 &&
	[ "$(cx dpkg-query -W -f='${Status}' lguest 2>/dev/null)" = "install ok installed" ]; then
	check install ok "$debname with apt in $(elapsed "$t0")s"
else
	check install fail "$(tail_of "$work/install.log" 4)"
	unresolved "the package could not be installed, nothing else can be checked"
fi

missing=
for f in /usr/bin/lguest /etc/lguest/demo.conf; do
	cx test -e "$f" || missing="$missing $f"
done
fragment=$(cx systemctl show -P FragmentPath lguest@demo.service 2>/dev/null)
[ -n "$fragment" ] || missing="$missing lguest@.service"
# The demo guest: what demo.conf boots, else the package's testguest.
kernel=$(cx sed -n 's/^[[:space:]]*kernel[[:space:]]*=[[:space:]]*//p' \
	/etc/lguest/demo.conf 2>/dev/null | head -n1)
[ -n "$kernel" ] ||
	kernel=$(cx dpkg -L lguest 2>/dev/null | grep '/testguest$' | head -n1)
[ -n "$kernel" ] && cx test -f "$kernel" || missing="$missing demo-kernel($kernel)"
if [ -z "$missing" ]; then
	check files ok "/usr/bin/lguest $fragment /etc/lguest/demo.conf $kernel"
else
	check files fail "missing:$missing"
fi

groups=$(cx id -nG lguest 2>/dev/null)
if cx getent passwd lguest >/dev/null && [[ " $groups " == *" kvm "* ]]; then
	check sysusers ok "user lguest, groups: $groups"
else
	check sysusers fail "user lguest: '$(cx getent passwd lguest)', groups '$groups'"
fi

# What udev does on a real system (50-udev-default.rules): /dev/kvm is
# 0660 root:kvm, /dev/net/tun 0666.  Here they are the host's 0600 nodes,
# bound in; new nodes in the container's own /dev leave the host's alone.
udev_node() {	# udev_node PATH MODE GROUP
	local mm
	mm=$(stat -c '%t %T' "$1") || return 1
	set -- "$1" "$2" "$3" $((16#${mm% *})) $((16#${mm#* }))
	cx sh -ec 'umount "$1" 2>/dev/null || true; rm -f "$1"
		mknod -m "$2" "$1" c "$4" "$5"; chgrp "$3" "$1"' sh "$@" \
		>>"$work/udev.log" 2>&1
}
udev_node /dev/kvm 0660 kvm && udev_node /dev/net/tun 0666 root ||
	note "could not give /dev/kvm to group kvm inside the container: $(tail_of "$work/udev.log" 1)"
note "inside: $(cx ls -l /dev/kvm /dev/net/tun | awk '{print $1, $3, $4, $NF}' | tr '\n' ';')"

# ---- start ----------------------------------------------------------------

t0=$(date +%s)
if cx timeout 60 systemctl start "$UNIT" >"$work/start.log" 2>&1; then
	check start ok "systemctl start $UNIT in $(elapsed "$t0")s"
else
	check start fail "$(tail_of "$work/start.log" 2); journal: $(cx journalctl -u "$UNIT" -o cat --no-pager | tail -n 4 | tr '\n' ' ')"
fi

st=$(cx systemctl is-active "$UNIT")
if [ "$st" = active ]; then
	check active ok "$UNIT is active"
else
	check active fail "$UNIT is $st"
fi

# The journal is written asynchronously: give it a moment.
journal() {
	cx journalctl -u "$UNIT" -o cat --no-pager 2>/dev/null
}
journal_has() {	# journal_has TEXT SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		journal | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

if journal_has "Welcome to the lguest demo guest" 5; then
	check journal-banner ok "the demo's banner is in journalctl -u $UNIT"
else
	check journal-banner fail "no banner in journalctl -u $UNIT: $(journal | tail -n 4 | tr '\n' ' ')"
fi

# ---- the running launcher's privileges ------------------------------------

mainpid=$(cx systemctl show -P MainPID "$UNIT")
status=
if [ -n "$mainpid" ] && [ "$mainpid" != 0 ]; then
	status=$(cx cat /proc/"$mainpid"/status 2>/dev/null)
fi
field() {
	echo "$status" | sed -n "s/^$1:[[:space:]]*//p"
}
if [ -z "$status" ]; then
	check privileges fail "no main process (MainPID=$mainpid)"
else
	bad=
	for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
		v=$(field $cap)
		[ "$v" = 0000000000000000 ] || bad="$bad $cap=$v"
	done
	[ "$(field NoNewPrivs)" = 1 ] || bad="$bad NoNewPrivs=$(field NoNewPrivs)"
	detail="pid $mainpid $(field Name), uid $(field Uid | awk '{print $1}'), Seccomp $(field Seccomp)"
	if [ -z "$bad" ]; then
		check privileges ok "$detail: no capabilities at all, NoNewPrivs 1"
	else
		check privileges fail "$detail:$bad"
	fi
	uid=$(field Uid | awk '{print $2}')
	lguest_uid=$(cx id -u lguest 2>/dev/null)
	if [ -n "$lguest_uid" ] && [ "$uid" = "$lguest_uid" ]; then
		check user ok "the launcher runs as lguest (uid $uid)"
	else
		check user fail "the launcher runs as uid $uid, lguest is '$lguest_uid'"
	fi
fi

# ---- the console --------------------------------------------------------

# `lguest console demo` under a pseudo-terminal (script(1)), fed through a
# pipe: wait for it to attach, type a word, wait for the guest to echo it,
# then Ctrl-] to detach.
out_has() {	# out_has FILE TEXT SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

attach_out=$work/attach.out
: >"$attach_out"
mkfifo "$work/attach.in"
cx timeout 30 script -qfec "lguest console demo" /dev/null \
	<"$work/attach.in" >"$attach_out" 2>&1 &
attach_pid=$!
exec 7>"$work/attach.in"
echoed=0 attached=0
if out_has "$attach_out" "attached to demo" 10; then
	attached=1
	printf '%s' "$WORD" >&7 2>/dev/null
	out_has "$attach_out" "$WORD" 10 && echoed=1
fi
printf '\035' >&7 2>/dev/null	# Ctrl-]
out_has "$attach_out" "detached from demo" 10
exec 7>&-
wait_gone "$attach_pid" 10 || kill -TERM "$attach_pid" 2>/dev/null
wait "$attach_pid"
attach_rc=$?
shown=$(tr -s '\r\n' '  ' <"$attach_out" | cut -c1-200)
if [ $attached = 1 ] && [ $echoed = 1 ]; then
	check console-echo ok "typed $WORD, the guest echoed it"
else
	check console-echo fail "attached=$attached echoed=$echoed: $shown"
fi
if grep -qF "Welcome to the lguest demo guest" "$attach_out"; then
	check console-replay ok "attaching shows the banner it missed"
else
	check console-replay fail "no banner on attaching: $shown"
fi
if grep -qF "detached from demo" "$attach_out" && [ "$attach_rc" = 0 ]; then
	check console-detach ok "Ctrl-] detached, status 0"
else
	check console-detach fail "status $attach_rc: $shown"
fi
st=$(cx systemctl is-active "$UNIT")
if [ "$st" = active ]; then
	check active-after-detach ok "$UNIT still active"
else
	check active-after-detach fail "$UNIT is $st after detaching"
fi

# ---- stop ---------------------------------------------------------------

# Attached while it stops, to see the guest's own last words.
stop_out=$work/stop.out
: >"$stop_out"
mkfifo "$work/stop.in"
exec 7<>"$work/stop.in"
cx timeout 90 script -qfec "lguest console demo" /dev/null \
	<"$work/stop.in" >"$stop_out" 2>&1 &
stopcon_pid=$!
out_has "$stop_out" "attached to demo" 10 ||
	note "no console attached for the stop: $(tr -s '\r\n' '  ' <"$stop_out" | cut -c1-200)"

t0=$(date +%s%N)
cx timeout 90 systemctl stop "$UNIT" >"$work/stop.log" 2>&1
stop_rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
stop_time=$((ms / 1000)).$(printf %03d $((ms % 1000)))
# Once inactive the unit is unloaded, and systemctl show would give
# defaults: how it ended is in the journal.  A clean exit is "Deactivated
# successfully"; a failure says "Main process exited, ... status=N" and
# "Failed with result".
journal_has "Deactivated successfully" 5
ended=$(journal | grep -E "Deactivated successfully|Main process exited|Failed with result|timed out" | tr '\n' ' ')
st=$(cx systemctl is-active "$UNIT")
if [ $stop_rc = 0 ] && [ "$st" = inactive ] &&
	[[ $ended == *"Deactivated successfully"* ]] &&
	[[ $ended != *"Failed with result"* ]] &&
	[[ $ended != *"Main process exited"*status=[1-9]* ]]; then
	check stop ok "systemctl stop in ${stop_time}s, $st: $ended"
else
	check stop fail "status $stop_rc in ${stop_time}s, $st: $ended $(tail_of "$work/stop.log" 2)"
fi

if journal_has "pressing the guest's power button" 5; then
	check stop-journal ok "the launcher pressed the power button: $(journal | grep -F "power button" | head -n1)"
else
	check stop-journal fail "no power-button line in the journal: $(journal | tail -n 4 | tr '\n' ' ')"
fi

wait_gone "$stopcon_pid" 10 || kill -TERM "$stopcon_pid" 2>/dev/null
exec 7>&-
wait "$stopcon_pid" 2>/dev/null
poweroff_line="demo: power button pressed, powering off"
if journal | grep -qF "$poweroff_line"; then
	check stop-poweroff ok "the guest powered off (journal: $poweroff_line)"
elif journal | grep -qE "^lguest: .*guest powered off"; then
	check stop-poweroff ok "the guest powered off (journal: $(journal | grep -E "^lguest: .*guest powered off" | head -n1))"
elif grep -qF "$poweroff_line" "$stop_out"; then
	check stop-poweroff ok "the guest powered off (console: $poweroff_line)"
else
	check stop-poweroff fail "the guest did not say it powered off: $(tr -s '\r\n' '  ' <"$stop_out" | tail -c 200)"
fi

# ---- the device policy is enforced ----------------------------------------

# Transient units as root, so file permissions are no obstacle.  With
# DevicePolicy=closed and nothing allowed, opening /dev/kvm must fail with
# EPERM, the device cgroup's answer (a shell says it in so many words),
# and the launcher must not get a VM; allowed /dev/kvm, the same launcher
# boots the test guest, so nothing else was in the way.
run_unit() {	# run_unit OUTFILE [PROPERTY...] -- COMMAND...
	local out=$1 props=()
	shift
	while [ "$1" != -- ]; do
		props+=("$1")
		shift
	done
	shift
	cx timeout 60 systemd-run --quiet --wait --pipe --collect \
		-p DevicePolicy=closed "${props[@]}" "$@" \
		</dev/null >"$out" 2>&1
}

run_unit "$work/nokvm-sh.out" -- /bin/sh -c 'exec 3<>/dev/kvm && echo opened'
sh_rc=$?
run_unit "$work/nokvm.out" -- /usr/bin/lguest 32M "$kernel" test=hello
rc=$?
if [ $sh_rc != 0 ] && grep -q "Operation not permitted" "$work/nokvm-sh.out" &&
	[ $rc != 0 ] && grep -q "/dev/kvm" "$work/nokvm.out" &&
	! grep -q "hello: ok" "$work/nokvm.out"; then
	check device-policy-denied ok "open: $(tail_of "$work/nokvm-sh.out" 1); lguest status $rc: $(tail_of "$work/nokvm.out" 1)"
else
	check device-policy-denied fail "sh status $sh_rc: $(tail_of "$work/nokvm-sh.out" 1); lguest status $rc: $(tail_of "$work/nokvm.out" 2)"
fi

run_unit "$work/kvm.out" -p "DeviceAllow=/dev/kvm rw" -- \
	/usr/bin/lguest 32M "$kernel" test=hello
rc=$?
if [ $rc = 0 ] && grep -q "hello: ok" "$work/kvm.out"; then
	check device-policy-allowed ok "with DeviceAllow=/dev/kvm rw the guest booted"
else
	check device-policy-allowed fail "status $rc: $(tail_of "$work/kvm.out" 2)"
fi

# ---- purge ------------------------------------------------------------------

t0=$(date +%s)
if cx apt-get purge -y lguest >"$work/purge.log" 2>&1; then
	left=
	for f in /usr/bin/lguest /etc/lguest/demo.conf "$fragment" "$kernel"; do
		[ -n "$f" ] && cx test -e "$f" && left="$left $f"
	done
	pkg=$(cx dpkg-query -W -f='${Status}' lguest 2>/dev/null)
	if [ -z "$left" ] && [[ $pkg != *installed* || $pkg == *not-installed* ]]; then
		check purge ok "apt-get purge in $(elapsed "$t0")s; nothing left${pkg:+ (dpkg: $pkg)}"
	else
		check purge fail "left behind:$left; dpkg: $pkg"
	fi
else
	check purge fail "$(tail_of "$work/purge.log" 3)"
fi

journal >"$work/journal.txt"
cx journalctl -b --no-pager >"$work/journal-all.txt" 2>&1
note "checks done in $(elapsed "$t_start")s"
exit $failed
