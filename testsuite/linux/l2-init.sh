#!/bin/sh
# /init of the guest (L2) in the real-Linux tests: Debian's stock kernel
# with busybox, the kernel's own modules and a scenario, named on the
# command line as lguest.scenario=NAME.  Everything the tests look at is
# printed on the console as "L2-WORD: ..." lines; scenarios.exp (the
# runner in the machine that runs lguest) answers the lines that ask it
# for something.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp

say() {
	echo "L2-$*"
}

scenario=
for word in $(cat /proc/cmdline); do
	case $word in
	lguest.scenario=*) scenario=${word#*=} ;;
	esac
done
say "INIT: $scenario"
say "CMDLINE: $(cat /proc/cmdline)"

# insmod MODULE...: each after what it needs (mkinitrd.sh wrote the
# order), each once.
load() {
	for m in "$@"; do
		while read -r ko; do
			[ -e "/sys/module/$(echo "${ko%.ko}" | tr - _)" ] && continue
			insmod "/modules/$ko" || say "INSMOD-FAILED: $ko"
		done < "/modules/$m.deps"
	done
}

# Wait up to 10 s for a path to appear.
wait_for() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e "$1" ]
}

# Which driver each virtio device and each PCI function has.
drivers() {
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d" ] || continue
		say "VIRTIO: ${d##*/} device $(cat "$d/device") driver $(basename "$(readlink "$d/driver")")"
	done
	for d in /sys/bus/pci/devices/*; do
		say "PCI: ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") driver $(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)"
	done
}

# /proc/interrupts' virtio lines, and the mode (msi or msix) of each
# PCI message-signalled interrupt.
interrupts() {
	grep -E 'virtio|PCI-MSI' /proc/interrupts | while read -r line; do
		say "IRQ: $line"
	done
	for f in /sys/bus/pci/devices/*/msi_irqs/*; do
		[ -e "$f" ] && say "MSI-MODE: ${f##*/} $(cat "$f")"
	done
}

# ---- boot: every device, then three reboots and a poweroff -------------
# vda: ext2 made here on the first boot; vdb: read-only; vdc: raw, for
# writes, flushes and discards the host checks.
boot_first() {
	say "PAYLOAD: $(md5sum < /payload | cut -d' ' -f1)"
	load virtio_pci virtio_blk virtio_console virtio-rng virtio_net ext4
	for dev in vda vdb vdc hvc0 hwrng; do
		wait_for /dev/$dev || say "MISSING: /dev/$dev"
	done
	wait_for /sys/class/net/eth1 || say "MISSING: eth1"
	drivers
	say "HWRNG: $(cat /sys/class/misc/hw_random/rng_current)" \
	    "$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c) bytes"
	say "RO-FLAG: vdb $(cat /sys/block/vdb/ro) vda $(cat /sys/block/vda/ro)"

	# The filesystem, and files to find again after each reboot.
	mke2fs -q /dev/vda && mount -t ext2 /dev/vda /mnt || say "MKFS-FAILED"
	for f in a b c; do
		dd if=/dev/urandom of=/mnt/$f bs=64k count=8 2>/dev/null
	done
	echo 1 > /mnt/boots
	(cd /mnt && md5sum a b c) | while read -r sum f; do
		say "FILE: $f $sum"
	done
	umount /mnt

	# Read-only: a direct write must fail, a mount read-write too.
	if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct \
	      2>/tmp/err; then
		say "RO-WRITE: succeeded"
	else
		say "RO-WRITE: refused: $(grep -v records /tmp/err | tr '\n' ' ')"
	fi

	# The payload at 1 MiB, flushed; 8-12 MiB written, flushed and then
	# discarded; 12-13 MiB written and kept.
	dd if=/payload of=/dev/vdc bs=64k seek=16 conv=fsync 2>/dev/null
	for i in 0 1 2 3; do
		dd if=/payload of=/dev/vdc bs=1M seek=$((8 + i)) conv=fsync \
		   2>/dev/null
	done
	dd if=/payload of=/dev/vdc bs=1M seek=12 conv=fsync 2>/dev/null
	if blkdiscard -o $((8 << 20)) -l $((4 << 20)) /dev/vdc; then
		say "DISCARD: done"
	else
		say "DISCARD: failed"
	fi
	sync
	say "BLOCK-DONE"

	# The network: a tap with the host at 10.0.2.1, a bridge at 10.0.3.1.
	ip link set lo up
	ip addr add 10.0.2.2/24 dev eth0 && ip link set eth0 up
	ip addr add 10.0.3.2/24 dev eth1 && ip link set eth1 up
	for h in 10.0.2.1 10.0.3.1; do
		if ping -c 2 -W 5 $h >/dev/null; then
			say "PING: $h ok"
		else
			say "PING: $h failed"
		fi
	done
	say "NET-UP"
	# The runner pings us, then its servers wait on ports 5001 and 5002.
	read -r go
	dd if=/dev/urandom of=/tmp/send bs=1M count=20 2>/dev/null
	say "SENT-MD5: $(md5sum < /tmp/send | cut -d' ' -f1)"
	nc 10.0.2.1 5001 < /tmp/send
	rm /tmp/send
	nc 10.0.2.1 5002 > /tmp/recv
	say "RECV: $(wc -c < /tmp/recv) $(md5sum < /tmp/recv | cut -d' ' -f1)"
	rm /tmp/recv
	interrupts
	say "REBOOTING: 1"
	reboot -f
}

# Later boots: the files as they were, one more boot counted on the disk.
boot_again() {
	load virtio_pci virtio_blk ext4
	wait_for /dev/vda
	mount -t ext2 /dev/vda /mnt || { say "MOUNT-FAILED"; poweroff -f; }
	(cd /mnt && md5sum a b c) | while read -r sum f; do
		say "FILE: $f $sum"
	done
	n=$(($(cat /mnt/boots) + 1))
	echo $n > /mnt/boots
	umount /mnt
	if [ $n -le 3 ]; then
		say "REBOOTING: $n"
		reboot -f
	fi
	say "POWEROFF: $n"
	poweroff -f
}

boot() {
	load virtio_pci virtio_blk ext4
	wait_for /dev/vda
	if mount -t ext2 -o ro /dev/vda /mnt 2>/dev/null; then
		umount /mnt
		boot_again
	else
		boot_first
	fi
}

# ---- console: a line on ttyS0, then a shell on hvc0 ----------------------
console() {
	say "ASK-TTYS0"
	read -r cmd
	eval "$cmd"
	load virtio_pci virtio_console
	wait_for /dev/hvc0 || say "MISSING: /dev/hvc0"
	say "HVC0-SHELL"
	setsid sh -c 'exec sh -i < /dev/hvc0 > /dev/hvc0 2>&1'
	say "HVC0-SHELL-ENDED"
	poweroff -f
}

# ---- acpi: the power button, through busybox acpid -----------------------
acpi() {
	load button evdev
	wait_for /dev/input/event0 || say "MISSING: /dev/input/event0"
	for e in /sys/class/input/input*/name; do
		say "INPUT: $(cat "$e")"
	done
	acpid -d -c /etc/acpi &
	sleep 1
	say "ACPID-READY"
	while :; do sleep 10; done
}

# ---- ignore: no one listens to the power button --------------------------
ignore() {
	say "IGNORING"
	while :; do sleep 10; done
}

# ---- panic: once without pvpanic (Linux reboots, panic=-1), then with ----
panic() {
	load virtio_pci virtio_blk
	wait_for /dev/vda
	if [ "$(dd if=/dev/vda bs=8 count=1 2>/dev/null)" = PANICKED ]; then
		load pvpanic-mmio
		say "PANIC: 2, pvpanic $(ls /sys/bus/platform/drivers/pvpanic-mmio | grep -c QEMU0001)"
	else
		printf PANICKED | dd of=/dev/vda conv=fsync 2>/dev/null
		say "PANIC: 1"
	fi
	echo c > /proc/sysrq-trigger
	say "STILL-ALIVE"
}

# ---- daemon: a shell on the console, for lguest console NAME -------------
daemon() {
	say "DAEMON-SHELL"
	exec setsid sh -c 'exec sh -i < /dev/ttyS0 > /dev/ttyS0 2>&1'
}

# ---- smp: every vCPU runs work; a queue per vCPU; reboot from the last ---
# vda: raw, its first bytes count the boots.  eth0: the host at 10.0.2.1.
smp() {
	n=$(nproc)
	say "CPUS: $n $(grep -c ^processor /proc/cpuinfo)"
	load virtio_pci virtio_blk virtio_net
	wait_for /dev/vda || say "MISSING: /dev/vda"
	boots=$(dd if=/dev/vda bs=8 count=1 2>/dev/null | tr -dc 0-9)
	boots=$((${boots:-0} + 1))
	printf '%08d' $boots | dd of=/dev/vda conv=fsync 2>/dev/null
	say "SMP-BOOT: $boots"
	# Each vCPU runs a process pinned to it; /proc/self/stat's 39th
	# field is the CPU it last ran on.
	i=0
	while [ $i -lt "$n" ]; do
		say "TASKSET: $i $(taskset -c $i awk '{ print $39 }' /proc/self/stat)"
		i=$((i + 1))
	done
	if [ "$boots" -gt 1 ]; then
		# The runner looks at lguest's threads, then says go.
		say "ASK-GO"
		read -r go
		say "POWEROFF: $boots"
		poweroff -f
	fi
	say "BLK-MQ: $(ls /sys/block/vda/mq | sort -n | tr '\n' ' ')"
	# Direct reads from each vCPU: blk-mq sends each on the queue
	# mapped to the CPU that asks.
	i=0
	while [ $i -lt "$n" ]; do
		taskset -c $i dd if=/dev/vda of=/dev/null bs=4k count=64 \
			iflag=direct 2>/dev/null || say "READ-FAILED: $i"
		i=$((i + 1))
	done
	wait_for /sys/class/net/eth0 || say "MISSING: eth0"
	say "NET-QUEUES: $(ls /sys/class/net/eth0/queues | sort | tr '\n' ' ')"
	ip link set lo up
	ip addr add 10.0.2.2/24 dev eth0 && ip link set eth0 up
	# Packets sent from each vCPU: XPS maps vCPU i to transmit queue i.
	i=0
	while [ $i -lt "$n" ]; do
		taskset -c $i ping -c 3 -W 5 10.0.2.1 >/dev/null &&
			say "PING: $i ok" || say "PING: $i failed"
		i=$((i + 1))
	done
	interrupts
	last=$((n - 1))
	say "REBOOTING: from CPU $last"
	taskset -c $last reboot -f
}

# ---- mqbench: parallel direct readers of vda, one per vCPU (bench/) ----
# Each reader reads its own 16 MiB in 4 KiB requests, pinned to a vCPU;
# the time is from the first reader's start to the last one's end.
mqbench() {
	n=$(nproc)
	load virtio_pci virtio_blk
	wait_for /dev/vda || say "MISSING: /dev/vda"
	readers=${n}
	[ "$readers" -lt 2 ] && readers=2
	t0=$(cut -d' ' -f1 /proc/uptime)
	i=0
	while [ $i -lt $readers ]; do
		taskset -c $((i % n)) dd if=/dev/vda of=/dev/null bs=4k \
			count=4096 skip=$((i * 4096)) iflag=direct 2>/dev/null &
		i=$((i + 1))
	done
	wait
	t1=$(cut -d' ' -f1 /proc/uptime)
	say "MQBENCH: cpus $n readers $readers MiB $((readers * 16)) seconds $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')"
}

# ---- iobench: the disk and the network, timed in the guest (bench/) ----
# vda (64 MiB) read and then written whole, 1 MiB direct requests; 8 MiB
# over TCP to the host's sink on port 5001, and 32 MiB from its source on
# 5002.  Each timed from /proc/uptime; the host's servers are up before
# the guest starts.
iobench() {
	load virtio_pci virtio_blk virtio_net
	wait_for /dev/vda || say "MISSING: /dev/vda"
	ip link set lo up
	ip addr add 10.0.2.2/24 dev eth0 && ip link set eth0 up
	timed read dd if=/dev/vda of=/dev/null bs=1M count=64 iflag=direct
	timed write dd if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct \
		conv=fsync
	# The link needs a moment after it is up: the first ping waits.
	ping -c 1 -W 10 10.0.2.1 >/dev/null || say "MISSING: ping 10.0.2.1"
	timed tcp-send sh -c 'dd if=/dev/zero bs=64k count=128 | nc 10.0.2.1 5001'
	timed tcp-recv sh -c 'nc 10.0.2.1 5002 | wc -c > /tmp/got'
	[ "$(cat /tmp/got)" = $((32 << 20)) ] || say "MISSING: tcp-recv got $(cat /tmp/got)"
	say "IOBENCH-DONE"
}

# timed WHAT COMMAND...: "IOBENCH: WHAT seconds S" (or FAILED).
timed() {
	what=$1
	shift
	t0=$(cut -d' ' -f1 /proc/uptime)
	if "$@" >/dev/null 2>/tmp/err; then
		t1=$(cut -d' ' -f1 /proc/uptime)
		say "IOBENCH: $what seconds $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')"
	else
		say "IOBENCH: $what FAILED $(head -1 /tmp/err)"
	fi
}

# ---- oracle: nothing but the boot itself ---------------------------------
oracle() {
	say "DATE: $(date -u +%Y-%m-%d)"
}

case $scenario in
boot|console|acpi|ignore|panic|daemon|oracle|smp|mqbench|iobench) $scenario ;;
*) say "UNKNOWN-SCENARIO: $scenario" ;;
esac
poweroff -f
