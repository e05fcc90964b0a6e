#!/bin/sh
# demo.sh - what "./quickstart demo" boots.
#
#   demo/demo.sh LGUEST [TESTGUEST]
#
# Where this host's KVM can run a stock kernel (the CPU has VMX or SVM),
# real Linux: Debian's own kernel from the archive (fetched once, kept in
# the testsuite's cache) with a small busybox initramfs that loads the
# virtio drivers and gives a shell on the virtio console.  Where it
# cannot -- a KVM without hardware virtualization, such as PVM -- one line
# says so and the test guest's demo runs instead.  DEMO_CPUINFO names
# another file to look for vmx/svm in (the testsuite tries both paths).
set -eu

die() {
	echo "demo: $*" >&2
	exit 1
}

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: demo.sh LGUEST [TESTGUEST]"
lguest=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
testguest=${2:-$src/testsuite/guest/testguest}

if ! grep -Eqw 'vmx|svm' "${DEMO_CPUINFO:-/proc/cpuinfo}"; then
	echo "demo: this host's KVM cannot run a stock Linux kernel (no VMX or SVM): booting lguest's test guest instead; Ctrl-A x leaves."
	exec "$lguest" 64M "$testguest" test=demo
fi

stock=$(sh "$src/testsuite/kernel/fetch-kernel.sh") ||
	die "cannot get Debian's kernel (testsuite/kernel/fetch-kernel.sh failed)"
get() {
	echo "$stock" | sed -n "s/^$1=//p"
}
cpio=$(mktemp "${TMPDIR:-/tmp}/lguest-demo.XXXXXX")
trap 'rm -f "$cpio"' EXIT
sh "$src/testsuite/linux/mkinitrd.sh" "$cpio" "$here/demo-init.sh" \
	"$(get modules)" "$(get version)" "$(get busybox)" \
	virtio_pci virtio_blk virtio_console virtio_net virtio-rng button ||
	die "cannot build the demo's initramfs"

echo "demo: booting Debian's kernel $(get version) with a busybox shell on hvc0;"
echo "demo: 'poweroff -f' powers it off, Ctrl-A x stops lguest."
st=0
"$lguest" --rng --initrd="$cpio" 256M "$(get vmlinuz)" \
	console=hvc0 quiet || st=$?
exit $st
