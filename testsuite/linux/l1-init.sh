#!/bin/sh
# /init of the outer machine (L1): a PC emulated by QEMU with AMD SVM, where
# KVM is the real, hardware-style one.  It runs in two stages.
#
# Stage 1, from the initramfs (busybox): load KVM and 9p; make the root:
# this host's root, read-only over 9p, with tmpfs on /tmp, /var/tmp and
# /run and the testsuite's cache made writable by an overlay, so that no
# write reaches the host; the results share (lguest.out= on the command
# line) read-write at its own path on top.  A build tree under /tmp is
# not seen there.  Then switch_root to it: a real root, not a chroot, since a process
# in a chroot may not make user namespaces and the testsuite does.
#
# Stage 2, this same script run by the host's /bin/sh in the new root: run
# the command given after "--" on the kernel command line, in the results
# share, leave its exit status in outer.status there, and power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

if [ "${1:-}" = stage2 ]; then
	shift
	out=$1
	shift
	cd "${out:-/}" || cd /
	# Every 30 s, what the machine's lguest and QEMU threads are doing,
	# in the kernel and in user space: where a stalled run stood.
	# Per thread: name, state, user, system and guest ticks, CPU; then
	# KVM's exit counters.
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -n "$out" ] && while sleep 30; do
		echo "== $(cut -d' ' -f1 /proc/uptime) s: $(cat /proc/loadavg)"
		(cd /sys/kernel/debug/kvm 2>/dev/null &&
			for c in exits io_exits mmio_exits irq_exits halt_exits \
				 pf_taken pf_fixed insn_emulation; do
				printf '%s=%s ' $c "$(cat $c 2>/dev/null)"
			done; echo)
		for p in $(pgrep -x 'lguest|qemu-system-x86|expect|runtest'); do
			for t in /proc/$p/task/*; do
				echo "-- $p/${t##*/} $(cut -d' ' -f2,3,14,15,43,39 $t/stat 2>/dev/null)" \
				     "wchan=$(cat $t/wchan 2>/dev/null)"
				sed 's/^/     /' $t/stack 2>/dev/null | head -12
			done
		done
	done > "$out/outer-watch.log" 2>&1 &
	/usr/bin/env -i HOME=/run/tmp TMPDIR=/run/tmp TERM=dumb \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin LGUEST_OUTER=1 "$@"
	status=$?
	echo "l1: done, status $status"
	[ -n "$out" ] && echo $status > "$out/outer.status"
	sync
	echo o > /proc/sysrq-trigger
	sleep 60
	exit 1
fi

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

# Module options from the command line: l1.kvm_amd=npt=0,nested=1
# gives kvm-amd.ko "npt=0 nested=1".
opts_of() {
	for word in $(cat /proc/cmdline); do
		case $word in
		"l1.$1="*) echo "${word#l1.$1=}" | tr ',' ' ' ;;
		esac
	done
}
while read -r ko; do
	m=$(basename "$ko" .ko | tr - _)
	# shellcheck disable=SC2046
	insmod "/modules/$ko" $(opts_of "$m") || echo "l1: insmod $ko failed"
done < /modules/list

out=
for word in $(cat /proc/cmdline); do
	case $word in
	lguest.out=*) out=${word#lguest.out=} ;;
	esac
done

fail() {
	echo "l1: $*"
	poweroff -f
}

r=/mnt
opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$opts,ro" host $r || fail "cannot mount the host's root"
# Writable: fresh /tmp and /var/tmp, and the testsuite's cache (the system
# test takes a lock there) as an overlay on tmpfs.  An overlay of the
# whole root would do too, but exec and reads through it stall now and
# then under this emulation.
for d in tmp var/tmp; do
	mount -t tmpfs -o mode=1777 "scratch-${d#*/}" "$r/$d"
done
cache=${LGUEST_TEST_CACHE:-/var/cache/lguest-testsuite}
if [ -d "$r$cache" ]; then
	mkdir -p /upper
	mount -t tmpfs -o mode=755 upper /upper
	mkdir -p /upper/upper /upper/work
	mount -t overlay -o "lowerdir=$r$cache,upperdir=/upper/upper,workdir=/upper/work" \
		cache "$r$cache" || fail "cannot make the cache writable"
fi
if [ -n "$out" ]; then
	mkdir -p "$r$out"
	mount -t 9p -o "$opts" out "$r$out" ||
		fail "cannot mount the results share at $out"
fi
mount -t proc proc $r/proc
mount -t sysfs sys $r/sys
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup
mount -t devtmpfs dev $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $r/dev/pts
mount --bind $r/dev/pts/ptmx $r/dev/ptmx
mount -t tmpfs -o mode=1777 shm $r/dev/shm
# A fresh /run: not the host's pid files and sockets.
mount -t tmpfs -o mode=755 run $r/run
mkdir -m 1777 $r/run/tmp
cp /init $r/run/l1-init
echo "l1: ready, /dev/kvm $( [ -c /dev/kvm ] && echo present || echo missing)"
exec switch_root $r /bin/sh /run/l1-init stage2 "$out" "$@"
