#!/bin/sh
# check-outer.sh - the testsuite, run in emulated machines with real KVM,
# for a host that has none (make check calls it).
#
#   check-outer.sh BUILD_TESTSUITE_DIR RUNTEST ARG...
#
# Each directory of tests (lguest.boot, lguest.priv, ...) runs in an
# outer machine of its own (outer.sh), booted for it: KVM nested in QEMU's
# TCG now and then stalls for good, and a stall must cost one directory,
# not the whole run.  lguest.linux runs here: its run.sh boots a machine
# for each scenario.  Each directory has a time limit; one whose machine
# stalled runs once more in a new one (a NOTE in the summary says so), and
# one that did not finish then is a FAIL, with where its console log is.  The
# summaries and logs are joined into lguest.sum and lguest.log, as one
# runtest would have written them.  Exit status 0 when every directory's
# runtest exited 0.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/.." && pwd)
dir=$(cd "$1" && pwd)
shift
parts=$dir/outer-parts
rm -rf "$parts" "$dir/outer-retries"
mkdir -p "$parts"
status=0

for d in "$srcdir"/lguest.*/; do
	d=$(basename "$d")
	# Minutes: the real-Linux scenarios and the system test take longest.
	case $d in
	lguest.linux) limit=1800 ;;
	lguest.system) limit=1200 ;;
	*) limit=600 ;;
	esac
	for try in 1 2; do
		echo "check-outer: $d (at most $limit s)"
		rm -rf "$parts/$d"
		mkdir -p "$parts/$d"
		if [ "$d" = lguest.linux ]; then
			# Here: run.sh boots a machine for each scenario.
			(cd "$dir" && timeout -k 10 "$limit" "$@" \
				--outdir "$parts/$d" --directory "$d")
			st=$?
		else
			sh "$here/outer.sh" -t "$limit" "$dir" "$@" \
				--outdir "$parts/$d" --directory "$d"
			st=$?
		fi
		[ -f "$dir/outer.log" ] &&
			mv "$dir/outer.log" "$parts/$d.console.$try.log"
		# A machine that stalled (ran out of time) gets one more go,
		# said in the log; a finished run stands, failures and all.
		[ $st -eq 124 ] && [ $try = 1 ] || break
		echo "check-outer: $d: the emulated machine stalled; once more"
		echo "NOTE: $d: the first emulated machine stalled (console:" \
		     "$parts/$d.console.1.log); run again" >> "$dir/outer-retries"
	done
	if [ ! -f "$parts/$d/lguest.sum" ] || [ $st -eq 124 ]; then
		echo "FAIL: $d: the emulated machine did not finish within" \
		     "$limit s (its console: $parts/$d.console.$try.log)" \
			>> "$parts/$d/lguest.sum"
		status=1
	elif [ $st -ne 0 ]; then
		status=1
	fi
done

cat "$parts"/*/lguest.sum > "$dir/lguest.sum"
[ -f "$dir/outer-retries" ] && cat "$dir/outer-retries" >> "$dir/lguest.sum"
cat "$parts"/*/lguest.log > "$dir/lguest.log" 2>/dev/null
grep -h '^# of' "$dir/lguest.sum" | sort | uniq -c
exit $status
