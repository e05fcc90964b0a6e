#!/bin/sh
# run.sh SRCDIR BUILDDIR [HARNESS...] - build the fuzz harnesses with
# clang and libFuzzer into BUILDDIR/fuzz, run each for $FUZZ_SECONDS
# (default 60), one process at a time, and say PASS or FAIL for each on
# stdout and in BUILDDIR/fuzz/fuzz.sum.  Exit status 1 if any failed.
#
# FUZZ_BUILD_ONLY=1 builds and stops; CLANG names the compiler.

set -u
srcdir=$(cd "$1" && pwd) || exit 1
builddir=$(cd "$2" && pwd) || exit 1
shift 2
seconds=${FUZZ_SECONDS:-60}
out=$builddir/fuzz
sum=$out/fuzz.sum
all="queue pci blk net boot config args"
harnesses=${*:-$all}
packages="clang libclang-rt-14-dev"

mkdir -p "$out/obj" || exit 1
: > "$sum"
failed=0

say() {
	echo "$1"
	echo "$1" >> "$sum"
	case $1 in FAIL*) failed=1 ;; esac
}

# The Launcher's files the harnesses link: every one that has no KVM,
# no thread of its own and no terminal in it.
SRCS="util vm bus iov pci virtio/core virtio/pci virtio/queue virtio/blk
	virtio/blk-aio virtio/net virtio/rng virtio/lgbus host/disk host/aio
	host/tap x86/boot
	x86/boot-cpu x86/image
	handover args config machine rundir"
# What fuzz/support.c stands in for (see there).
WRAPS="malloc_or_die free realloc strdup asprintf inflateInit2_ fopen fclose
	eventfd read poll tap_open tap_set_offload
	err errx verr verrx exit warn warnx vwarn vwarnx"

if [ -z "${CLANG:-}" ]; then
	for c in clang-14 clang; do
		command -v $c >/dev/null 2>&1 && { CLANG=$c; break; }
	done
fi
if [ -z "${CLANG:-}" ]; then
	for h in $harnesses; do
		say "FAIL: fuzz $h: no clang found; install the Debian packages $packages"
	done
	exit 1
fi
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer $SAN -D_GNU_SOURCE
	-DHAVE_CONFIG_H -I$builddir -I$srcdir/src -I$srcdir/fuzz
	-Wall -Wextra -Wno-unused-parameter"
LDWRAP=
for w in $WRAPS; do LDWRAP="$LDWRAP -Wl,--wrap=$w"; done

# Does this clang have libFuzzer at all?
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' \
	> "$out/obj/probe.c"
if ! $CLANG -fsanitize=fuzzer,address,undefined -o "$out/obj/probe" \
	"$out/obj/probe.c" > "$out/obj/probe.log" 2>&1; then
	for h in $harnesses; do
		say "FAIL: fuzz $h: $CLANG cannot link libFuzzer ($(head -1 "$out/obj/probe.log")); install the Debian packages $packages"
	done
	exit 1
fi
if [ ! -f "$builddir/config.h" ]; then
	for h in $harnesses; do
		say "FAIL: fuzz $h: no config.h in $builddir: run configure first"
	done
	exit 1
fi

objs=
build_failed=
for f in $SRCS fuzz/support fuzz/input; do
	case $f in
	fuzz/*) src=$srcdir/$f.c; extra="-Werror" ;;
	# The queue's thread is run in the caller (support.c).
	virtio/queue) src=$srcdir/src/$f.c
		extra="-Dpthread_create=fuzz_pthread_create -Dpthread_join=fuzz_pthread_join" ;;
	# The disks do synchronous I/O: io_uring sleeps in the kernel,
	# where support.c cannot end a queue's loop.  blk_parse(), which
	# both ways share, is what the blk harness reaches.
	host/aio) src=$srcdir/src/$f.c; extra=-DLGUEST_NO_URING ;;
	*) src=$srcdir/src/$f.c; extra= ;;
	esac
	o=$out/obj/$(echo "$f" | tr / _).o
	if ! $CLANG $CFLAGS $extra -fsanitize=fuzzer-no-link -c -o "$o" "$src" \
		> "$o.log" 2>&1; then
		build_failed="$f: $(grep -m1 error "$o.log")"
		break
	fi
	objs="$objs $o"
done

build() {	# build NAME SOURCE EXTRA-FLAGS...
	name=$1 src=$2
	shift 2
	$CLANG $CFLAGS -Werror "$@" -o "$out/$name" "$src" $objs $LDWRAP -lz \
		> "$out/$name.build.log" 2>&1
}

# The regression test for a kernel file rewritten while it loads.
if [ -z "$build_failed" ] && [ -z "${*:-}" ]; then
	if ! build elf-reread "$srcdir/fuzz/elf-reread.c" -Wl,--wrap=pread; then
		say "FAIL: fuzz elf-reread: does not build; see $out/elf-reread.build.log"
	elif [ -z "${FUZZ_BUILD_ONLY:-}" ]; then
		if msg=$("$out/elf-reread" 2>&1); then
			say "PASS: fuzz elf-reread: $msg"
		else
			say "FAIL: fuzz elf-reread: $(echo "$msg" | grep -m1 -E 'ERROR|error|elf-reread') (log: $out/elf-reread.log)"
		fi
		echo "$msg" > "$out/elf-reread.log"
	fi
fi

for h in $harnesses; do
	if [ -n "$build_failed" ]; then
		say "FAIL: fuzz $h: the sources do not build with $CLANG: $build_failed"
		continue
	fi
	if ! build "fuzz-$h" "$srcdir/fuzz/$h.c" -fsanitize=fuzzer; then
		say "FAIL: fuzz $h: does not build; see $out/fuzz-$h.build.log"
		continue
	fi
	[ -n "${FUZZ_BUILD_ONLY:-}" ] && continue

	# New inputs go to the build dir; the seeds in the tree are only read.
	mkdir -p "$out/found/$h"
	rm -f "$out/crash-$h-"*
	opts="-max_total_time=$seconds -timeout=30 -rss_limit_mb=2560
		-print_final_stats=1 -close_fd_mask=3
		-artifact_prefix=$out/crash-$h-"
	[ -f "$srcdir/fuzz/$h.dict" ] && opts="$opts -dict=$srcdir/fuzz/$h.dict"
	start=$(date +%s)
	"$out/fuzz-$h" $opts "$out/found/$h" "$srcdir/fuzz/corpus/$h" \
		< /dev/null > "$out/$h.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$h.log" | tail -1)
	reports=$(grep -c -E '^==[0-9]+==ERROR|runtime error:|deadly signal|ERROR: libFuzzer' "$out/$h.log")
	crash=$(ls "$out/crash-$h-"* 2>/dev/null | head -1)
	if [ $rc -eq 0 ] && [ "$reports" -eq 0 ] && [ -z "$crash" ] && [ -n "$runs" ]; then
		say "PASS: fuzz $h: $runs runs in $secs s, 0 reports"
	else
		what=$(grep -m1 -E 'ERROR|runtime error|deadly signal' "$out/$h.log")
		say "FAIL: fuzz $h: exit $rc, ${runs:-?} runs in $secs s, $reports reports: ${what:-no report} (input: ${crash:-none saved}; log: $out/$h.log)"
	fi
done
exit $failed
