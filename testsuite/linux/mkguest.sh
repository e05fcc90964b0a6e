#!/bin/sh
# mkguest.sh - make the debian scenario's guest with lguest-mkimage, and
# try the tool as a user would get it wrong.
#
#   mkguest.sh MKIMAGE OUT
#
# Makes OUT/guests/lgdebian.conf and OUT/guests/lgdebian/ (root's password
# in OUT/guests/password, the host's tap at 192.168.50.1/24), keeping the
# packages and the base tree in $LGUEST_TEST_CACHE/mkimage.  What happened
# goes to OUT/facts as "debian KEY VALUE..." lines, for
# lguest.linux/debian.exp to judge; the tool's output to OUT/mkimage.log.
set -u

mkimage=$1
out=$2
g=$out/guests
cache=${LGUEST_TEST_CACHE:-/var/cache/lguest-testsuite}/mkimage
log=$out/mkimage.log
fact() {
	echo "debian $*" >> "$out/facts"
}
# mk NAME OPTION...: the tool on this test's directories; its status.
mk() {
	name=$1
	shift
	echo "--- lguest-mkimage $* $name" >> "$log"
	sh "$mkimage" --dir="$g" --confdir="$g" --cache="$cache" "$@" "$name" \
		>> "$log" 2>&1
	st=$?
	echo "--- status $st" >> "$log"
	return $st
}
# What a guest NAME left in the test's directories.
left() {
	ls -a "$g" | grep -E "^(\.?$1(\..*)?|$1\.conf)$" | tr '\n' ' '
}

rm -rf "$g"
mkdir -p "$g"
: > "$log"
echo "lguest-$$-$(date +%s)" > "$g/password"
# Root's SSH key, for the guest's OpenSSH server (in every guest here,
# so that they all come from one base tree).
ssh-keygen -q -t ed25519 -N "" -C lguest-test -f "$g/id" ||
	fact error "ssh-keygen failed (Debian package: openssh-client)"
key=--ssh-key=$g/id.pub

# The guest: cold or warm, as the cache is.
t0=$(date +%s)
mk lgdebian --net=192.168.50.1/24 --size=2G --root-password-file="$g/password" "$key"
fact mkimage-status $? $(($(date +%s) - t0))
fact mkimage-files $(cd "$g" && ls lgdebian.conf lgdebian/disk.img \
	lgdebian/vmlinuz lgdebian/initrd.img 2>/dev/null | wc -l)
fact mkimage-conf $(grep -E '^(block|tunnet|kernel) ' "$g/lgdebian.conf" | tr ' ' '_' | tr '\n' ' ')
# Sparse: far less on disk than its 2 GiB.
fact mkimage-disk $(stat -c '%s' "$g/lgdebian/disk.img") \
	$(($(stat -c '%b' "$g/lgdebian/disk.img") * 512))

# A second guest now comes from the cache alone: no network at all.
t0=$(date +%s)
unshare -n sh "$mkimage" --dir="$g" --confdir="$g" --cache="$cache" \
	--size=2G "$key" lgwarm >> "$log" 2>&1
fact warm-status $? $(($(date +%s) - t0))
fact warm-files $(cd "$g" && ls lgwarm.conf lgwarm/disk.img 2>/dev/null | wc -l)
rm -rf "$g/lgwarm" "$g/lgwarm.conf"

# An existing guest is never overwritten.
sum=$(cat "$g/lgdebian.conf" "$g/lgdebian/initrd.img" | md5sum)
mk lgdebian --size=2G "$key"
fact exists-status $?
fact exists-said "$(grep -c "guest lgdebian exists already" "$log")"
fact exists-same "$([ "$(cat "$g/lgdebian.conf" "$g/lgdebian/initrd.img" | md5sum)" = "$sum" ] && echo 1 || echo 0)"

# A failure (a disk too small for the tree) leaves nothing behind.
unshare -n sh "$mkimage" --dir="$g" --confdir="$g" --cache="$cache" \
	--size=64M "$key" lgsmall >> "$log" 2>&1
fact small-status $?
fact small-left "[$(left lgsmall)]"
fact small-said "$(grep -c "a larger --size" "$log")"

# A bad option value is a usage error, before anything is made.
mk lgbad --size=lots
fact usage-status $?
fact usage-left "[$(left lgbad)]"
exit 0
