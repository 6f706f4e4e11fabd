#!/bin/sh
# tests/fuzz/run.sh BUILD SECONDS DRIVER... -- runs each libFuzzer driver
# BUILD/fuzz/DRIVER for SECONDS on a copy of its seed corpus
# (tests/fuzz/corpus/DRIVER, never written to), then prints one line per
# driver: seconds, executions, corpus size, crashes.  Exit 1 when any
# driver crashed; its input is in BUILD/crash/DRIVER/.
set -u
build=$1 secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
work=$build/fuzz-work
rc=0
summary=""
for d in "$@"; do
	mkdir -p "$work/$d" "$build/crash/$d"
	log=$work/$d.log
	start=$(date +%s)
	# -timeout: a single input over 10 s is a hang, a crash here too.
	"$build/fuzz/$d" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$build/crash/$d/" \
	    "$work/$d" "$here/corpus/$d" </dev/null >"$log" 2>&1
	st=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	ncorp=$(ls "$work/$d" | wc -l)
	crashes=$(ls "$build/crash/$d" | wc -l)
	if [ "$st" != 0 ]; then
		rc=1
		echo "fuzz $d: CRASH (exit $st), see $log:" >&2
		grep -E 'ERROR|SUMMARY|oracle|runtime error' "$log" | head -5 >&2
	fi
	summary="$summary$(printf '%-8s %5ss %12s execs %6s corpus  %s crashes' \
	    "$d" "$((end - start))" "${execs:-?}" "$ncorp" "$crashes")
"
done
printf 'fuzz summary (FUZZ_SECONDS=%s):\n%s' "$secs" "$summary"
exit $rc
