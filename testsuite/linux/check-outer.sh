#!/bin/sh
# check-outer.sh - the testsuite, run in emulated machines with real KVM,
# for a host that has none (make check calls it).
#
#   check-outer.sh BUILD_TESTSUITE_DIR RUNTEST ARG...
#
# The directories of tests (lguest.boot, lguest.priv, ...) run one after
# the other in one outer machine (outer.sh), each with a time limit of its
# own; the test files in which something failed run once more, and their
# second run stands (the first run's failures are NOTE lines in the
# summary: merge-sum.awk).  KVM nested in QEMU's TCG now and then stalls for good: outer.sh
# stops a machine whose tests have written nothing for four minutes, and
# a new machine goes on from the directory that was running, which runs
# once more (a NOTE in the summary says so); the second time it is a
# FAIL, with where the console log is.  The system test, silent for
# minutes at a time, has a machine of its own and only its time limit.
# lguest.linux runs here: its run.sh boots the machines it needs; so does
# lguest.lgmodel, which needs no KVM at all.  The summaries and logs are
# joined into lguest.sum and lguest.log, as one runtest would have
# written them.  Exit status 0 when every directory's runtest exited 0.
#
# In the outer machine it runs as
#   check-outer.sh --inside PARTS DIR,DIR,... RUNTEST ARG...
# and leaves for each directory PARTS/DIR/started, then PARTS/DIR/done
# with runtest's status and the seconds it took.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)

# Seconds a directory may take.  Emulated machines differ in speed by
# half again and more (lguest.virtio took 530 s on one and over 600 on
# another), so the limits are generous: a stall is the watchdog's to catch.
limit_of() {
	case $1 in
	lguest.linux) echo 3600 ;;
	lguest.virtio) echo 1800 ;;
	lguest.soak) echo 3000 ;;
	*) echo 1200 ;;
	esac
}

# The test files of a summary with a failure in them.
failed_files() {
	awk '/^Running .* \.\.\.$/ { f = $2; sub(/.*\//, "", f) }
	     /^(FAIL|UNRESOLVED|ERROR):/ && f != "" && !(f in seen) {
		seen[f] = 1; print f }' "$1"
}

if [ "${1:-}" = --inside ]; then
	parts=$2
	dirs=$3
	shift 3
	for d in $(echo "$dirs" | tr , ' '); do
		mkdir -p "$parts/$d"
		: > "$parts/$d/started"
		t0=$(date +%s)
		timeout -k 10 "$(limit_of "$d")" "$@" \
			--outdir "$parts/$d" --directory "$d"
		st=$?
		# A guest here now and then stalls for good, and a test that
		# waited for it fails: the test files with failures run once
		# more, and their second run stands; the first run's failures
		# stay in the summary as NOTE lines.
		files=
		[ $st = 0 ] || [ $st = 124 ] || files=$(failed_files "$parts/$d/lguest.sum")
		if [ -n "$files" ]; then
			again=$parts/$d/again
			mkdir -p "$again"
			# shellcheck disable=SC2086
			timeout -k 10 "$(limit_of "$d")" "$@" \
				--outdir "$again" --directory "$d" $files
			st=$?
			awk -v dir="$d" -f "$here/merge-sum.awk" "$again/lguest.sum" \
				"$parts/$d/lguest.sum" > "$again/merged.sum" &&
				mv "$again/merged.sum" "$parts/$d/lguest.sum"
			cat "$again/lguest.log" >> "$parts/$d/lguest.log"
		fi
		echo "$st $(($(date +%s) - t0))" > "$parts/$d/done"
	done
	exit 0
fi

dir=$(cd "$1" && pwd)
shift
parts=$dir/outer-parts
rm -rf "$parts" "$dir/outer-retries"
mkdir -p "$parts"
status=0
machine=0

# failed DIR WHY: DIR's summary says it failed, and why.
failed() {
	mkdir -p "$parts/$1"
	echo "FAIL: $1: $2" >> "$parts/$1/lguest.sum"
	echo "check-outer: $1: $2"
	status=1
}

# group WATCH "DIR..." RUNTEST...: run the directories in outer machines,
# one after the other, a new machine going on where a stalled one stopped.
group() {
	watch=$1
	remaining=$(echo $2)
	shift 2
	retried=
	idle=0
	while [ -n "$remaining" ]; do
		machine=$((machine + 1))
		limit=0
		for d in $remaining; do
			limit=$((limit + $(limit_of "$d")))
			rm -rf "${parts:?}/$d"
		done
		echo "check-outer: machine $machine: $remaining"
		sh "$here/outer.sh" -t "$limit" -w "$watch" "$dir" \
			sh "$here/check-outer.sh" --inside "$parts" \
			"$(echo $remaining | tr ' ' ,)" "$@"
		st=$?
		console=$parts/machine-$machine.console.log
		[ -f "$dir/outer.log" ] && mv "$dir/outer.log" "$console"
		[ -f "$dir/outer-watch.log" ] &&
			mv "$dir/outer-watch.log" "$parts/machine-$machine.watch.log"
		left=
		moved=0
		for d in $remaining; do
			[ -f "$parts/$d/started" ] && moved=1
			if [ -f "$parts/$d/done" ]; then
				read -r rst secs < "$parts/$d/done"
				echo "check-outer: $d: status $rst after $secs s"
				if [ "$rst" = 124 ]; then
					failed "$d" "did not finish within $(limit_of "$d") s"
				elif [ "$rst" != 0 ] || [ ! -f "$parts/$d/lguest.sum" ]; then
					status=1
				fi
			elif [ -f "$parts/$d/started" ]; then
				# The directory the machine stopped in.
				case " $retried " in
				*" $d "*)
					failed "$d" "its emulated machine stalled twice (console: $console)"
					;;
				*)
					echo "check-outer: $d: the emulated machine stalled (status $st); once more"
					echo "NOTE: $d: the emulated machine stalled (console: $console); run again in a new one" \
						>> "$dir/outer-retries"
					retried="$retried $d"
					left="$left $d"
					;;
				esac
			elif [ -z "$left" ] && [ $st -ne 124 ]; then
				# The machine never got to run it.
				failed "$d" "the emulated machine failed (status $st, console: $console)"
			else
				left="$left $d"
			fi
		done
		remaining=${left# }
		# Two machines in a row that never got to a test: give up.
		[ $moved = 1 ] && idle=0 || idle=$((idle + 1))
		if [ $idle -ge 2 ]; then
			for d in $remaining; do
				failed "$d" "two emulated machines in a row ran nothing (console: $console)"
			done
			remaining=
		fi
	done
}

# The system test's container is made on the host (the outer machine has
# no network); the test is silent for minutes, so it has its own machine
# and no watchdog, unless it is to be skipped anyway.
# LGUEST_OUTER_DIRS="lguest.virtio lguest.hostile" runs just those
# directories (for work on one area); make check runs them all but the
# soak tests, which are make soak's.
only=${LGUEST_OUTER_DIRS:-}
wanted() {
	case " $only " in *" $1 "*) return 0 ;; esac
	[ -z "$only" ] && [ "$1" != lguest.soak ]
}
# lguest.lgmodel needs no KVM (testsuite/lgmodel plays /dev/lguest in
# the Launcher's own process), so it runs on this host, unless this host
# cannot run the Launcher that was built (an i686 one on a kernel without
# 32-bit support): then it goes into the outer machine with the rest.
lguest_bin=
for a in "$@"; do
	case $a in LGUEST=*) lguest_bin=${a#LGUEST=} ;; esac
done
runs_here() {
	[ -n "$lguest_bin" ] && "$lguest_bin" --version >/dev/null 2>&1
}
shared=
on_host=
for d in "$srcdir"/lguest.*/; do
	d=$(basename "$d")
	wanted "$d" || continue
	case $d in
	lguest.linux) ;;
	lguest.lgmodel) if runs_here; then on_host="$on_host $d"; else shared="$shared $d"; fi ;;
	lguest.system) [ "${LGUEST_SKIP_SYSTEM_TEST:-}" = 1 ] && shared="$shared $d" ;;
	*) shared="$shared $d" ;;
	esac
done
[ -z "$shared" ] || group 240 "$shared" "$@"
[ "${LGUEST_SKIP_SYSTEM_TEST:-}" = 1 ] || ! wanted lguest.system ||
	group 0 lguest.system "$@"

# The summaries and logs joined, as one runtest would have written them.
finish() {
	cat "$parts"/*/lguest.sum > "$dir/lguest.sum"
	[ -f "$dir/outer-retries" ] && cat "$dir/outer-retries" >> "$dir/lguest.sum"
	cat "$parts"/*/lguest.log > "$dir/lguest.log" 2>/dev/null
	grep -h '^# of' "$dir/lguest.sum" | sort | uniq -c
	exit $status
}
# run_here DIR RUNTEST...: DIR's tests on this host.
run_here() {
	d=$1
	shift
	echo "check-outer: $d"
	mkdir -p "$parts/$d"
	t0=$(date +%s)
	(cd "$dir" && timeout -k 10 "$(limit_of "$d")" "$@" \
		--outdir "$parts/$d" --directory "$d")
	st=$?
	echo "check-outer: $d: status $st after $(($(date +%s) - t0)) s"
	if [ $st -eq 124 ]; then
		failed "$d" "did not finish within $(limit_of "$d") s"
	elif [ $st -ne 0 ]; then
		status=1
	fi
}
for d in $on_host; do
	run_here "$d" "$@"
done
wanted lguest.linux || finish

# Here too: run.sh boots a machine for each scenario.
run_here lguest.linux "$@"
finish
