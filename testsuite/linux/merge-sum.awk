# merge-sum.awk - one DejaGnu summary from a run and a second run of some
# of its test files (check-outer.sh: the files that failed in an emulated
# machine run once more).
#
#   awk -v dir=DIR -f merge-sum.awk AGAIN.sum FIRST.sum
#
# FIRST's sections ("Running FILE ..." up to the next one) for the files
# that AGAIN ran are replaced by AGAIN's; each failure of the first run
# stays, as a NOTE line at the end; the counts are made anew.

function base(line,    a, n) {
	sub(/^Running /, "", line)
	sub(/ \.\.\.$/, "", line)
	n = split(line, a, "/")
	return a[n]
}

function emit(line,    kind) {
	print line
	kind = line
	sub(/:.*/, "", kind)
	count[kind]++
}

# AGAIN: its sections, by file.
NR == FNR {
	if (/^Running .* \.\.\.$/) {
		cur = base($0)
		again[cur] = $0
		next
	}
	if (/=== lguest Summary ===/)
		cur = ""
	if (cur != "")
		again[cur] = again[cur] "\n" $0
	next
}

# FIRST, with AGAIN's sections in place of its own.
/^Running .* \.\.\.$/ {
	cur = base($0)
	skip = cur in again
	if (skip) {
		n = split(again[cur], lines, "\n")
		for (i = 1; i <= n; i++)
			emit(lines[i])
	} else {
		print
	}
	next
}
/=== lguest Summary ===/ {
	done = 1
}
done {
	next
}
skip {
	if (/^(FAIL|UNRESOLVED|ERROR|XPASS|UNSUPPORTED):/)
		notes = notes "NOTE: " dir "/" cur " ran again (under emulation a" \
			" guest now and then stalls); its first run said: " $0 "\n"
	next
}
{
	emit($0)
}

END {
	printf "%s", notes
	printf "\n\t\t=== lguest Summary ===\n\n"
	split("PASS FAIL XPASS XFAIL UNRESOLVED UNTESTED UNSUPPORTED ERROR", kinds, " ")
	names["PASS"] = "expected passes\t\t"
	names["FAIL"] = "unexpected failures\t"
	names["XPASS"] = "unexpected successes\t"
	names["XFAIL"] = "expected failures\t\t"
	names["UNRESOLVED"] = "unresolved testcases\t"
	names["UNTESTED"] = "untested testcases\t\t"
	names["UNSUPPORTED"] = "unsupported tests\t\t"
	names["ERROR"] = "errors\t\t\t"
	for (i = 1; i <= 8; i++)
		if (count[kinds[i]])
			printf "# of %s%d\n", names[kinds[i]], count[kinds[i]]
}
