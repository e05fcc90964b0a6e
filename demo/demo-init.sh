#!/bin/sh
# /init of the demo's Linux guest: busybox, the virtio drivers, a shell
# on hvc0; powers off when the shell ends.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
# mkinitrd.sh listed the modules in the order to load them.
while read -r ko; do
	insmod "/modules/$ko" 2>/dev/null
done < /modules/list
i=0
while [ ! -e /dev/hvc0 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
hostname lguest-demo
cat > /dev/hvc0 <<TEXT

lguest demo: Linux $(uname -r) on $(grep -c ^processor /proc/cpuinfo) vCPU, $(($(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) / 1024)) MiB.
Devices: $(ls /sys/bus/virtio/devices | wc -l) virtio ($(for d in /sys/bus/virtio/devices/*; do basename "$(readlink "$d/driver")"; done | tr '\n' ' ')).
Try: cat /proc/cpuinfo, dmesg, ls /sys/bus/virtio/drivers.  'poweroff -f' powers off.

TEXT
export PS1='lguest-demo:\w# '
# A session of its own, whose first terminal, hvc0, becomes its
# controlling one: Ctrl-C and job control work.
setsid sh -c 'exec sh -i < /dev/hvc0 > /dev/hvc0 2>&1'
poweroff -f
