#!/bin/sh
# run.sh - run real-Linux scenarios: Debian's stock kernel booted by
# lguest on a real KVM, with the initramfs l2-init.sh drives.
#
#   run.sh [-t SECONDS] OUT LGUEST [SCENARIO...]
#
# Fetches the kernel (fetch-kernel.sh, cached), builds the guest's
# initramfs with a fresh random payload in OUT, and runs scenarios.exp:
# here, when this host has VMX or SVM and /dev/kvm opens; otherwise in the
# outer machine of outer.sh.  OUT then holds each scenario's log and the
# facts file.  The exit status is scenarios.exp's (or outer.sh's).
set -eu

die() {
	echo "run.sh: $*" >&2
	exit 1
}

limit=1200
[ "${1:-}" = -t ] && { limit=$2; shift 2; }
[ $# -ge 2 ] || die "usage: run.sh [-t SECONDS] OUT LGUEST [SCENARIO...]"
mkdir -p "$1"
out=$(cd "$1" && pwd)
lguest=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)

command -v expect >/dev/null 2>&1 || die "expect not found (Debian package: expect)"
stock=$(sh "$here/../kernel/fetch-kernel.sh") ||
	die "cannot get Debian's kernel (fetch-kernel.sh failed)"
get() {
	echo "$stock" | sed -n "s/^$1=//p"
}

# The payload: a random MiB in the initramfs, which the guest checksums
# and writes to a disk for the host to find.
payload=$out/payload
dd if=/dev/urandom of="$payload" bs=64k count=16 2>/dev/null
sh "$here/mkinitrd.sh" "$out/l2.cpio" "$here/l2-init.sh" "$(get modules)" \
	"$(get version)" "$(get busybox)" \
	virtio_pci virtio_blk virtio_console virtio-rng virtio_net ext4 \
	button evdev pvpanic-mmio -- \
	"/payload=$payload" "/etc/acpi/PWRF/00000080=$here/acpi-power.sh" ||
	die "cannot build the guest's initramfs"

rm -f "$out/facts"
[ $# -gt 0 ] || set -- boot console acpi ignore panic daemon oracle demo smp smp4 debian

# The debian scenario's guest is made here, with lguest-mkimage (beside
# LGUEST in the build tree, or LGUEST_MKIMAGE): its archive is reachable
# from this host only.  Its packages and base tree are kept in the cache,
# so that a second run needs no network.
case " $* " in
*" debian "*)
	sh "$here/mkguest.sh" \
		"${LGUEST_MKIMAGE:-$(dirname "$lguest")/tools/lguest-mkimage}" "$out"
	;;
esac
if grep -Eqw 'vmx|svm' /proc/cpuinfo && [ -c /dev/kvm ] && sh -c ': 3<>/dev/kvm' 2>/dev/null; then
	exec timeout -k 10 "$limit" expect -f "$here/scenarios.exp" "$out" \
		"$lguest" "$(get vmlinuz)" "$(get vmlinux)" "$out/l2.cpio" \
		"$payload" "$@"
fi
# Otherwise the scenarios run one after the other in an emulated machine.
# KVM nested in QEMU's TCG now and then stalls for good: a machine with
# nothing new in OUT for four minutes is stopped, and a new one goes on
# from the scenario that was running, which runs once more (said in the
# facts); so does one whose machine crashed (its kernel panicked).  A
# scenario whose third machine stalls too is left without its facts.
echo "run.sh: no VMX/SVM here: the scenarios run in an emulated machine" >&2
machine=0
status=0
# run_in CPUS SCENARIO...: the scenarios, in machines with CPUS CPUs.
run_in() {
	cpus=$1
	shift
	remaining=$*
	retried=
	while [ -n "$remaining" ]; do
		machine=$((machine + 1))
		st=0
		# shellcheck disable=SC2086
		OUTER_SMP=$cpus sh "$here/outer.sh" -t "$limit" -w 240 "$out" \
			expect -f "$here/scenarios.exp" "$out" "$lguest" \
			"$(get vmlinuz)" "$(get vmlinux)" "$out/l2.cpio" \
			"$payload" $remaining || st=$?
		[ -f "$out/outer.log" ] &&
			mv "$out/outer.log" "$out/machine-$machine.console.log"
		[ -f "$out/outer-watch.log" ] &&
			mv "$out/outer-watch.log" "$out/machine-$machine.watch.log"
		# Stalled (124), or crashed (125): the first scenario that did
		# not finish ran into it.
		[ $st -eq 124 ] || [ $st -eq 125 ] || break
		left=
		for s in $remaining; do
			grep -qx "$s finished" "$out/facts" 2>/dev/null && continue
			if [ -z "$left" ]; then
				# Three machines for a scenario at most.
				if [ "$(echo $retried | tr ' ' '\n' | grep -cx "$s")" -ge 2 ]; then
					echo "$s stalled: three times; left out" >> "$out/facts"
					continue
				fi
				retried="$retried $s"
				echo "$s retried: its emulated machine stalled or crashed" \
				     "(machine-$machine.console.log)" >> "$out/facts"
			fi
			left="$left $s"
		done
		remaining=${left# }
	done
	[ $st -eq 0 ] || status=$st
}
# The SMP scenarios want a machine with four CPUs: four vCPUs on an
# emulated machine of two stalled for good, in
# smp_call_function_many_cond() with the IPI's targets halted, under
# lguest and QEMU -smp 4 alike; and two vCPUs on a machine of two, after
# the reboot from vCPU 1, triple-faulted early in the kernel's start, or
# stalled, in two runs out of three (three machines in a row, once),
# where a machine of four ran the same scenario clean.  The others run
# on one CPU, where nested KVM stalls less.
# The Debian guest, with two boots of a whole systemd, has a machine of
# its own.
one=
two=
four=
own=
for s in "$@"; do
	case $s in
	debian) own="$own $s" ;;
	smp|smp4) four="$four $s" ;;
	smp*|mqbench) two="$two $s" ;;
	*) one="$one $s" ;;
	esac
done
# shellcheck disable=SC2086
[ -z "$one" ] || run_in 1 $one
# shellcheck disable=SC2086
[ -z "$two" ] || run_in 2 $two
# shellcheck disable=SC2086
[ -z "$four" ] || run_in "${LGUEST_SMP4_OUTER_CPUS:-4}" $four
# shellcheck disable=SC2086
[ -z "$own" ] || run_in 1 $own
exit $status
