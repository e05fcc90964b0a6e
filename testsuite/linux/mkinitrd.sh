#!/bin/sh
# mkinitrd.sh - an initramfs of busybox, an /init and some of the stock
# kernel's modules, for the real-Linux tests.
#
#   mkinitrd.sh OUT INIT MODTREE VERSION BUSYBOX MODULE... [-- FILE=SRC...]
#
# OUT is the cpio archive to write; INIT the script that becomes /init;
# MODTREE a directory holding lib/modules/VERSION with a modules.dep
# (fetch-kernel.sh makes one); BUSYBOX a static busybox.  The MODULEs,
# with what they depend on, are copied to /modules and listed, in the order
# to insmod them, in /modules/list; /modules/MODULE.deps lists what to
# insmod for one MODULE, in order.  After "--", each FILE=SRC puts the file
# SRC at FILE in the image (for configuration the /init needs).
set -eu

die() {
	echo "mkinitrd: $*" >&2
	exit 1
}

[ $# -ge 5 ] || die "usage: mkinitrd.sh OUT INIT MODTREE VERSION BUSYBOX MODULE..."
out=$1 init=$2 tree=$3 version=$4 busybox=$5
shift 5

for tool in cpio modprobe; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
[ -x "$busybox" ] || die "$busybox is not an executable busybox"
[ -s "$tree/lib/modules/$version/modules.dep" ] ||
	die "$tree has no lib/modules/$version/modules.dep"

root=$out.root
rm -rf "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" \
	 "$root/modules" "$root/etc" "$root/mnt"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$init" "$root/init"
chmod 755 "$root/init"

# modprobe --show-depends lists each module after what it needs; a module
# two others need is listed twice, and only its first place counts.
: > "$root/modules/deps"
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	modprobe -d "$tree" -S "$version" --show-depends "$1" \
		> "$root/modules/$1.deps" || die "no module $1 in $tree"
	cat "$root/modules/$1.deps" >> "$root/modules/deps"
	# MODULE.deps: what to insmod for MODULE, in order, by file name.
	sed -i -n 's/^insmod \([^ ]*\).*/\1/p' "$root/modules/$1.deps"
	sed -i 's|.*/||' "$root/modules/$1.deps"
	shift
done
sed -n 's/^insmod \([^ ]*\).*/\1/p' "$root/modules/deps" | awk '!seen[$0]++' |
while read -r ko; do
	cp "$ko" "$root/modules/"
	echo "${ko##*/}" >> "$root/modules/list"
done
rm "$root/modules/deps"
[ -s "$root/modules/list" ] || die "no modules were listed"

[ "${1:-}" = -- ] && shift
for spec in "$@"; do
	dst=$root/${spec%%=*}
	mkdir -p "${dst%/*}"
	cp -p "${spec#*=}" "$dst"
done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) \
	> "$out.tmp" || die "cpio failed"
mv "$out.tmp" "$out"
rm -rf "$root"
