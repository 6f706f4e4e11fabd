#!/bin/sh
# tests/memcheck/run.sh BULWARK_BIN [TEST.t ...] -- the integration tests
# with every Bulwark process (workers, pools, migrate, user add) under
# valgrind memcheck, then one verdict over all their logs: 0 errors
# (invalid reads and writes, uses of uninitialised values, bad frees), 0
# bytes definitely lost.  `make memcheck` runs it; not part of make test
# (each request is some 30 times slower).
#
# Without TEST arguments it runs the suite minus the files that measure
# time or load (54_timing, 45/52/57/63 concurrency, 90/91/92 outages and
# faults, 30-33 pool restarts and reloads, 95_install), where valgrind's
# slowness, not the program, would fail them, and 93_least_privilege, which
# checks the seccomp filter valgrind cannot run under.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$1
shift
case $bin in /*) ;; *) bin=$here/$bin ;; esac
out=$here/build/memcheck
logs=$out/logs
rm -rf "$logs"
mkdir -p "$logs"
chmod 777 "$logs"
# The wrapper the tests start as BULWARK_BIN: exec keeps the pid and the
# environment the tests find their processes by.  Children forked by a
# pool stay under valgrind; programs exec'd (sendmail) are not followed.
# valgrind makes its own system calls inside the process and has no seccomp
# (syscall 317 is "unhandled"): the workers run without their filter here.
cat >"$out/bulwark" <<WRAP
#!/bin/sh
BULWARK_SECCOMP=0 exec valgrind --tool=memcheck --leak-check=full \\
    --show-leak-kinds=definite --errors-for-leak-kinds=definite \\
    --error-exitcode=99 --trace-children=no --num-callers=30 \\
    --suppressions=$here/tests/memcheck/bulwark.supp \\
    --log-file=$logs/vg.%p.log "$bin" "\$@"
WRAP
chmod 755 "$out/bulwark"

if [ $# -eq 0 ]; then
	set -- $(ls "$here"/tests/integration/*.t | grep -Ev \
	    '/(30|31|32|33|45|52|54|57|63|90|91|92|93|95)_[^/]*\.t$')
fi
start=$(date +%s)
BULWARK_BIN=$out/bulwark "$here/tests/run.sh" "$@"
tests_rc=$?
end=$(date +%s)

# One verdict over every process's log.
perl -e '
	my ($procs, $errors, $lost, $invalid, $checked, $execd) = (0, 0, 0, 0, 0, 0);
	my (@bad, @unchecked, %has_log, %parent_of);
	for my $f (@ARGV) {
		$has_log{$1} = 1 if $f =~ /vg\.(\d+)\.log\z/;
	}
	for my $f (@ARGV) {
		open(my $fh, "<", $f) or next;
		local $/;
		my $t = <$fh>;
		$procs++;
		my $e = () = $t =~ /^==\d+== (?:Invalid (?:read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap)/mg;
		my $inv = () = $t =~ /^==\d+== Invalid (?:read|write)/mg;
		my $l = 0;
		$l += $1 =~ s/,//gr while $t =~ /definitely lost: ([\d,]+) bytes/g;
		$errors += $e;
		$invalid += $inv;
		$lost += $l;
		push @bad, $f if $e || $l;
		if ($t =~ /HEAP SUMMARY/) { $checked++ }
		# No leak check: a child a Bulwark process forked that then
		# exec-ed another program (the sendmail transport; valgrind does
		# not follow exec), or a process killed before it could exit.
		elsif ($t =~ /Parent PID: (\d+)/ && $has_log{$1}) { $execd++ }
		else { push @unchecked, $f }
	}
	printf "memcheck: %d processes: %d ran their leak check at exit, %d were forked children that exec-ed a program, %d ended without one\n",
	    $procs, $checked, $execd, scalar @unchecked;
	printf "memcheck: %d errors (%d invalid reads or writes), %d bytes definitely lost\n", $errors, $invalid, $lost;
	print "  see $_\n" for @bad;
	print "  no leak check: $_\n" for @unchecked;
	exit(($errors || $lost || !$checked) ? 1 : 0);
' "$logs"/vg.*.log
vg_rc=$?
echo "memcheck: $# test files in $((end - start)) s, tests $( [ $tests_rc = 0 ] && echo passed || echo FAILED )"
[ $tests_rc = 0 ] && [ $vg_rc = 0 ]
