#!/bin/sh
# /init of the outer machine (L1): a PC emulated by QEMU with AMD SVM, where
# KVM is the real, hardware-style one.  It loads KVM, mounts the host's root
# read-only over 9p, mounts the writable results share on top at the path
# given as lguest.out=, and runs the command given after "--" on the kernel
# command line inside that root, and leaves its exit status in
# lguest.out/outer.status.  Then it powers off, which ends QEMU.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

while read -r ko; do
	insmod "/modules/$ko" || echo "l1: insmod $ko failed"
done < /modules/list

out=
for word in $(cat /proc/cmdline); do
	case $word in
	lguest.out=*) out=${word#lguest.out=} ;;
	esac
done

r=/mnt
opts=trans=virtio,version=9p2000.L,msize=512000
if ! mount -t 9p -o "$opts,ro" host $r; then
	echo "l1: cannot mount the host's root"
elif [ -n "$out" ] && ! mount -t 9p -o "$opts" out "$r$out"; then
	echo "l1: cannot mount the results share at $out"
else
	mount -t proc proc $r/proc
	mount -t sysfs sys $r/sys
	mount -t devtmpfs dev $r/dev
	mkdir -p $r/dev/pts $r/dev/shm
	mount -t devpts -o newinstance,ptmxmode=0666 devpts $r/dev/pts
	mount --bind $r/dev/pts/ptmx $r/dev/ptmx
	# Scratch space is /run: a tmpfs on /tmp would hide a build tree
	# that lives there.
	mount -t tmpfs -o mode=755 run $r/run
	mkdir -m 1777 $r/run/tmp
	mount -t tmpfs -o mode=1777 shm $r/dev/shm
	echo "l1: ready, /dev/kvm $( [ -c /dev/kvm ] && echo present || echo missing)"
	# chroot(1) starts in /: the command starts in the results share.
	chroot $r /bin/sh -c 'cd "${1:-/}" && shift && exec "$@"' sh "$out" \
		/usr/bin/env -i HOME=/run/tmp TMPDIR=/run/tmp TERM=dumb \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin LGUEST_OUTER=1 "$@"
	status=$?
	echo "l1: done, status $status"
	[ -n "$out" ] && echo $status > "$r$out/outer.status"
fi
sync
poweroff -f
