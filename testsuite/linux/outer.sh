#!/bin/sh
# outer.sh - run a command on a machine with real KVM, when this one has
# none: an x86-64 PC emulated by QEMU (TCG) with AMD SVM, running Debian's
# stock kernel, where kvm-amd gives a hardware-style /dev/kvm.
#
#   outer.sh [-t SECONDS] [-w SECONDS] [-m MEM] DIR COMMAND [ARG...]
#
# The outer machine sees this machine's root file system read-only (over
# 9p) and DIR read-write at the same path; it runs COMMAND as root in that
# view, with a tmpfs on /run (TMPDIR is /run/tmp), and powers off.  Its
# console goes to DIR/outer.log.  The exit status is COMMAND's; 124 if the
# machine was still running after -t SECONDS (default 3600), or if for -w
# SECONDS no file under DIR changed (a stalled machine: default 0, not
# watched); 125 if it ended without saying how its command did (it
# crashed); 1 with a line on standard error if the machine could not be
# made.  MEM is 6G unless -m says otherwise.
#
# The kernel and its modules come from fetch-kernel.sh's cache.  For
# experiments: OUTER_SMP sets its CPUs (1), and OUTER_APPEND adds to its
# kernel command line, where l1.MODULE=OPT,OPT gives a module's options
# (l1.kvm_amd=npt=0).
set -eu

die() {
	echo "outer: $*" >&2
	exit 1
}

limit=3600
watch=0
mem=6G
while [ $# -gt 0 ]; do
	case $1 in
	-t) limit=$2; shift 2 ;;
	-w) watch=$2; shift 2 ;;
	-m) mem=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || die "usage: outer.sh [-t SECONDS] [-m MEM] DIR COMMAND [ARG...]"
dir=$(cd "$1" && pwd) || die "no directory $1"
shift
here=$(cd "$(dirname "$0")" && pwd)

qemu=$(command -v qemu-system-x86_64) ||
	die "qemu-system-x86_64 not found (Debian package: qemu-system-x86)"
stock=$(sh "$here/../kernel/fetch-kernel.sh") ||
	die "cannot get Debian's kernel (fetch-kernel.sh failed)"
version=$(echo "$stock" | sed -n 's/^version=//p')
vmlinuz=$(echo "$stock" | sed -n 's/^vmlinuz=//p')
modules=$(echo "$stock" | sed -n 's/^modules=//p')
busybox=$(echo "$stock" | sed -n 's/^busybox=//p')

# KVM for AMD (what QEMU emulates), 9p and overlay for the root, tap and bridge
# devices and network namespaces' virtual Ethernet for what runs inside.
initrd=$dir/outer.cpio
sh "$here/mkinitrd.sh" "$initrd" "$here/l1-init.sh" "$modules" "$version" \
	"$busybox" virtio_pci 9pnet_virtio 9p overlay kvm-amd tun bridge veth loop ||
	die "cannot build the outer machine's initramfs"

# The variables that steer the testsuite and the sanitizers go along; the
# rest of this environment stays here.
envs=
for var in LGUEST_SKIP_KERNEL_TEST LGUEST_SKIP_SYSTEM_TEST LGUEST_SKIP_BENCH_TEST \
	   LGUEST_TEST_CACHE LGUEST_SOAK LGUEST_BOOTBENCH_RUNS LGUEST_MQBENCH_RUNS \
	   LGUEST_IOBENCH_RUNS \
	   LGUEST_DEB ASAN_OPTIONS UBSAN_OPTIONS QEMU; do
	eval "val=\${$var-}"
	[ -n "$val" ] && envs="$envs $var=$val"
done
# shellcheck disable=SC2086
[ -n "$envs" ] && set -- /usr/bin/env $envs "$@"

# The command goes on the kernel command line, where init gets the words
# after "--" as its arguments: no word may hold a space.
for word in "$@"; do
	case $word in
	*[[:space:]]*) die "'$word': a word with a space cannot be passed" ;;
	esac
done
rm -f "$dir/outer.status" "$dir/outer.stalled"
status=0
# One CPU: with two, KVM nested in QEMU's TCG stalled for good far more
# often (the guest, or the whole machine, in about one run in three of
# lguest.priv's reboot loop), and was no faster.
timeout -k 10 "$limit" "$qemu" -accel tcg,thread=multi -cpu max -smp "${OUTER_SMP:-1}" \
	-m "$mem" -nodefaults -nographic -no-reboot \
	-serial "file:$dir/outer.log" -monitor none \
	-kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 ${OUTER_APPEND:-} lguest.out=$dir -- $*" \
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$dir,mount_tag=out,security_model=none,multidevs=remap" \
	</dev/null &
qemu_pid=$!
# The watchdog: what runs inside writes its logs under DIR as it goes
# (the machine's own watch log, written whatever happens, does not count).
# Nothing new for $watch seconds: the machine stalled; stop it.
if [ "$watch" -gt 0 ]; then
	(
		while sleep 15; do
			kill -0 $qemu_pid 2>/dev/null || exit 0
			since=$(($(date +%s) - watch))
			[ -n "$(find "$dir" -name outer-watch.log -prune -o \
				-newermt "@$since" -print -quit 2>/dev/null)" ] &&
				continue
			echo "nothing new under $dir for $watch s" > "$dir/outer.stalled"
			pkill -TERM -P $qemu_pid 2>/dev/null
			kill -TERM $qemu_pid 2>/dev/null
			exit 0
		done
	) &
	watch_pid=$!
fi
wait $qemu_pid || status=$?
if [ "$watch" -gt 0 ]; then
	kill $watch_pid 2>/dev/null || :
fi
rm -f "$initrd"
if [ -f "$dir/outer.stalled" ]; then
	echo "outer: stalled: $(cat "$dir/outer.stalled")" >&2
	rm -f "$dir/outer.stalled"
	exit 124
fi
[ $status -eq 124 ] && { echo "outer: still running after $limit s" >&2; exit 124; }
[ $status -eq 0 ] || die "QEMU failed with status $status (see $dir/outer.log)"
# A machine that ended without a word of its command crashed (its
# kernel panicked, as nested KVM under TCG now and then makes it): 125.
if [ ! -s "$dir/outer.status" ]; then
	echo "outer: the outer machine said nothing of its command (see $dir/outer.log)" >&2
	exit 125
fi
exit "$(cat "$dir/outer.status")"
