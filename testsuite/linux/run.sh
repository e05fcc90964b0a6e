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
[ $# -gt 0 ] || set -- boot console acpi ignore panic daemon oracle
if grep -Eqw 'vmx|svm' /proc/cpuinfo && [ -c /dev/kvm ] && sh -c ': 3<>/dev/kvm' 2>/dev/null; then
	exec timeout -k 10 "$limit" expect -f "$here/scenarios.exp" "$out" \
		"$lguest" "$(get vmlinuz)" "$(get vmlinux)" "$out/l2.cpio" \
		"$payload" "$@"
fi
# An emulated machine for each scenario: KVM nested in QEMU's TCG stalls
# more often the longer one machine runs.
echo "run.sh: no VMX/SVM here: each scenario runs in an emulated machine" >&2
status=0
for s in "$@"; do
	sh "$here/outer.sh" -t "$limit" "$out" expect -f "$here/scenarios.exp" \
		"$out" "$lguest" "$(get vmlinuz)" "$(get vmlinux)" \
		"$out/l2.cpio" "$payload" "$s" || status=1
	[ -f "$out/outer.log" ] && mv "$out/outer.log" "$out/$s.console.log"
done
exit $status
