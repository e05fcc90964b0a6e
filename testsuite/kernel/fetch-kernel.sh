#!/bin/sh
# fetch-kernel.sh - get Debian's stock x86-64 kernel and a tiny initrd for
# the testsuite's real-kernel boot test.
#
#   testsuite/kernel/fetch-kernel.sh [CACHEDIR]
#
# CACHEDIR defaults to $LGUEST_TEST_CACHE, else /var/cache/lguest-testsuite:
# outside the source tree, so that it survives "make distclean" and is
# shared between trees.  Everything is done once; a second run only prints
# the paths.  On success the last lines of output are
#
#   version=6.1.0-NN-amd64
#   vmlinuz=/path/to/the/bzImage
#   vmlinux=/path/to/the/ELF64/vmlinux unpacked from it
#   initrd=/path/to/initrd.cpio
#   modules=/path/to/a/tree/with/lib/modules/VERSION
#   busybox=/path/to/a/static/busybox
#
# The module tree holds the kernel's own modules that the real-Linux tests
# (testsuite/linux/) load, with what they depend on and a modules.dep:
# virtio and its drivers, ext4, the ACPI button, evdev and pvpanic for the
# guest; KVM, 9p, tun and the bridge for the machine that runs lguest when
# this one has no VMX/SVM.
#
# The initrd holds busybox (from Debian's busybox-static) and an /init that
# prints LGUEST-INIT-OK and powers the machine off.
#
# Needs: apt-get (with package lists), dpkg-deb, od, cpio, and whichever of
# xz, zstd, gzip, lzma, bzip2, lz4 the kernel was compressed with.
set -eu

die() {
	echo "fetch-kernel: $*" >&2
	exit 1
}

cache=${1:-${LGUEST_TEST_CACHE:-/var/cache/lguest-testsuite}}
mkdir -p "$cache" || die "cannot create the cache directory $cache"
cd "$cache"

for tool in apt-get apt-cache dpkg-deb od cpio; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

# Download one package into the cache (apt-get download works as any user
# and installs nothing), unless a .deb of it is already there.
fetch_deb() {
	set -- "$1" "$(ls "$1"_*.deb 2>/dev/null | head -n 1)"
	if [ -z "$2" ]; then
		apt-get download -q "$1" >&2 || return 1
		set -- "$1" "$(ls "$1"_*.deb 2>/dev/null | head -n 1)"
	fi
	[ -n "$2" ] || return 1
	echo "$2"
}

# linux-image-amd64 is a metapackage: the kernel itself is what it
# depends on, linux-image-<abi>-amd64 (signed) or its -unsigned twin.
if [ -s kernel-package ]; then
	pkg=$(cat kernel-package)
else
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	      sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' |
	      head -n 1)
	[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a kernel" \
			     "package (apt-cache depends; run apt-get update?)"
fi
version=${pkg#linux-image-}
version=${version%-unsigned}

dir=linux-$version
vmlinuz=$cache/$dir/vmlinuz
vmlinux=$cache/$dir/vmlinux
initrd=$cache/initrd.cpio
modules=$cache/$dir/modules

# What testsuite/linux/ insmods, by name; their dependencies come along.
# A change to this list makes the next run pick the modules again.
want_modules="virtio_pci virtio_blk virtio_console virtio-rng virtio_net
ext4 button evdev pvpanic-mmio kvm-amd kvm-intel tun bridge veth loop
9pnet_virtio 9p overlay"

if [ ! -s "$vmlinuz" ] ||
   [ "$(cat "$modules/wanted" 2>/dev/null)" != "$want_modules" ]
then
	command -v depmod >/dev/null 2>&1 && command -v modprobe >/dev/null 2>&1 ||
		die "depmod and modprobe (kmod) are needed to pick the modules"
	deb=$(fetch_deb "$pkg") || deb=$(fetch_deb "$pkg-unsigned") ||
		die "cannot download $pkg (or $pkg-unsigned) with apt-get" \
		    "download: no network or no package lists?"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp/deb"
	dpkg-deb -x "$deb" "$dir.tmp/deb" || die "cannot unpack $deb"
	img=$(ls "$dir.tmp"/deb/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$img" ] || die "$deb has no /boot/vmlinuz-*"
	mkdir -p "$dir"
	# Only the modules we load, and what they need, in a tree of their own.
	tree=$dir.tmp/deb
	depmod -b "$tree" "$version" || die "depmod failed on $deb"
	rm -rf "$dir/modules.tmp"
	for m in $want_modules; do
		modprobe -d "$tree" -S "$version" --show-depends "$m" ||
			die "$deb has no module $m"
	done | sed -n 's|^insmod '"$cache/$tree"'/*||p; s|^insmod '"$tree"'/*||p' |
	sort -u | while read -r ko; do
		mkdir -p "$dir/modules.tmp/${ko%/*}"
		cp "$tree/$ko" "$dir/modules.tmp/$ko"
	done
	[ -d "$dir/modules.tmp/lib/modules/$version/kernel" ] ||
		die "no modules were copied out of $deb"
	cp "$tree/lib/modules/$version/modules.order" \
	   "$tree/lib/modules/$version/modules.builtin" \
	   "$tree/lib/modules/$version/modules.builtin.modinfo" \
	   "$dir/modules.tmp/lib/modules/$version/"
	depmod -b "$dir/modules.tmp" "$version" ||
		die "depmod failed on the module subset"
	echo "$want_modules" > "$dir/modules.tmp/wanted"
	rm -rf "$modules"
	mv "$dir/modules.tmp" "$modules"
	cp "$img" "$dir/vmlinuz.tmp"
	mv "$dir/vmlinuz.tmp" "$vmlinuz"
	rm -rf "$dir.tmp"
	rm -f "$deb"	# 70 MB we no longer need
	echo "$pkg" > kernel-package
fi

# Little-endian unsigned integer of $3 bytes at offset $2 of file $1.
le() {
	od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' '
}

# The bzImage's protected-mode part starts after (setup_sects + 1) sectors;
# the setup header says where in it the compressed kernel (payload_offset,
# 0x248) is and how long (payload_length, 0x24c).  The compressor's output
# has the uncompressed size appended as 4 bytes, which no unpacking tool
# wants to see: cut it off and use it to check the result.
if [ ! -s "$vmlinux" ]; then
	[ "$(dd if="$vmlinuz" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ] ||
		die "$vmlinuz is not a bzImage (no HdrS at 0x202)"
	sects=$(le "$vmlinuz" 497 1)
	[ "$sects" -eq 0 ] && sects=4
	off=$(le "$vmlinuz" 584 4)
	len=$(le "$vmlinuz" 588 4)
	start=$(( (sects + 1) * 512 + off ))
	payload=$dir/payload
	tail -c +$((start + 1)) "$vmlinuz" | head -c "$len" > "$payload"
	[ "$(wc -c < "$payload")" -eq "$len" ] ||
		die "$vmlinuz: payload runs past the end of the file"
	want=$(le "$payload" $((len - 4)) 4)
	head -c $((len - 4)) "$payload" > "$payload.z"
	magic=$(od -An -tx1 -N 6 "$payload.z" | tr -d ' \n')
	case $magic in
	fd377a585a00*)	unpack="xz -dc --single-stream" ;;
	28b52ffd*)	unpack="zstd -dcq" ;;
	1f8b*)		unpack="gzip -dc" ;;
	5d0000*)	unpack="xz -dc --format=lzma" ;;
	425a68*)	unpack="bzip2 -dc" ;;
	02214c18*)	unpack="lz4 -dc" ;;
	*)		die "$vmlinuz: payload has unknown magic $magic" ;;
	esac
	command -v "${unpack%% *}" >/dev/null 2>&1 ||
		die "${unpack%% *} not found: it is needed to unpack $vmlinuz"
	$unpack < "$payload.z" > "$vmlinux.tmp" ||
		die "$vmlinuz: cannot unpack the payload with $unpack"
	got=$(wc -c < "$vmlinux.tmp")
	[ "$got" -eq "$want" ] ||
		die "$vmlinuz: payload unpacked to $got bytes, its trailer" \
		    "says $want"
	[ "$(od -An -c -N 4 "$vmlinux.tmp" | tr -d ' ')" = '177ELF' ] ||
		die "$vmlinuz: the unpacked payload is not an ELF file"
	rm -f "$payload" "$payload.z"
	mv "$vmlinux.tmp" "$vmlinux"
fi

# A static busybox, for this initrd and the real-Linux tests' images.
busybox=$cache/busybox
if [ ! -x "$busybox" ]; then
	deb=$(fetch_deb busybox-static) ||
		die "cannot download busybox-static with apt-get download:" \
		    "no network or no package lists?"
	rm -rf busybox.tmp
	dpkg-deb -x "$deb" busybox.tmp || die "cannot unpack $deb"
	[ -x busybox.tmp/bin/busybox ] || die "$deb has no /bin/busybox"
	mv busybox.tmp/bin/busybox "$busybox"
	rm -rf busybox.tmp
fi

# The initrd: busybox and an /init that says it ran and powers off.
if [ ! -s "$initrd" ]; then
	rm -rf initrd.tmp
	mkdir -p initrd.tmp/root/bin initrd.tmp/root/dev \
		 initrd.tmp/root/proc initrd.tmp/root/sys
	cp "$busybox" initrd.tmp/root/bin/busybox
	ln -s busybox initrd.tmp/root/bin/sh
	# The kernel's built-in initramfs already has /dev/console; make one
	# anyway when we can, in case this kernel's has not.
	mknod initrd.tmp/root/dev/console c 5 1 2>/dev/null || true
	cat > initrd.tmp/root/init <<'EOF'
#!/bin/sh
/bin/busybox echo LGUEST-INIT-OK
/bin/busybox poweroff -f
EOF
	chmod 755 initrd.tmp/root/init
	(cd initrd.tmp/root && find . | LC_ALL=C sort |
	 cpio -o -H newc --quiet -R 0:0) > initrd.tmp/initrd.cpio ||
		die "cannot build the initrd with cpio"
	mv initrd.tmp/initrd.cpio "$initrd"
	rm -rf initrd.tmp
fi

echo "version=$version"
echo "vmlinuz=$vmlinuz"
echo "vmlinux=$vmlinux"
echo "initrd=$initrd"
echo "modules=$modules"
echo "busybox=$busybox"
