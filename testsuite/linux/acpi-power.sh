#!/bin/sh
# busybox acpid runs /etc/acpi/PWRF/00000080 when the power button is
# pressed: say so and power off, as a distribution's acpid would.
echo "L2-POWER-BUTTON" > /dev/console
sync
poweroff -f
