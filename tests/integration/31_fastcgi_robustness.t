# Malformed and truncated FastCGI traffic straight to the workers' socket:
# the accept loop survives, nobody crashes or hangs.
use strict;
use warnings;
use Test::More;
use IO::Socket::UNIX ();
use IO::Select ();
use Time::HiRes qw(time);
use BulwarkTest;

my $s = start_stack(workers => 2);
my $sock = $s->{pool}[0]{sock};
my @workers = $s->worker_pids;
is(scalar @workers, 2, 'two workers');

sub rec    { fcgi_record(@_) }
sub params { fcgi_params(@_) }
sub nv_len { fcgi_nv_len(@_) }
sub begin { rec(1, $_[0] // 1, pack('nCx5', 1, 0)) }

# Sends raw bytes; returns what came back before EOF or the timeout.
sub raw {
	my ($bytes, %o) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $c = IO::Socket::UNIX->new(Peer => $sock) or die "connect $sock: $!";
	syswrite($c, $bytes) if length $bytes;
	shutdown($c, 1) if $o{half_close};
	my $sel = IO::Select->new($c);
	my $buf = '';
	my $end = time + ($o{timeout} // 5);
	while (time < $end && $sel->can_read($end - time)) {
		my $n = sysread($c, $buf, 65536, length $buf);
		last unless $n;
	}
	close $c;
	return $buf;
}

# The STDOUT stream of a response.
sub stdout_of {
	my ($buf) = @_;
	my $out = '';
	while (length $buf >= 8) {
		my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
		last if length $buf < 8 + $len + $pad;
		$out .= substr($buf, 8, $len) if $type == 6;
		substr($buf, 0, 8 + $len + $pad, '');
	}
	return $out;
}

sub std_params {
	my (%extra) = @_;
	return params(
		REQUEST_METHOD  => 'POST',
		REQUEST_URI     => '/login',
		SCRIPT_NAME     => '/login',
		PATH_INFO       => '',
		QUERY_STRING    => '',
		REMOTE_ADDR     => '127.0.0.1',
		SERVER_PROTOCOL => 'HTTP/1.1',
		CONTENT_TYPE    => 'application/json',
		CONTENT_LENGTH  => 2,
		%extra
	);
}

sub survived {
	my ($name) = @_;
	my $r;
	my $ok = wait_until(sub { $r = $s->req(GET => '/health'); $r->{status} == 200 }, 5);
	ok($ok, "$name: the stack still answers");
	is_deeply([ $s->worker_pids ], \@workers, "$name: no worker died");
}

# A well-formed request through the socket, to know the helpers work.
my $out = stdout_of(raw(begin(1) . rec(4, 1, std_params(REQUEST_METHOD => 'GET', REQUEST_URI => '/health', SCRIPT_NAME => '/health', CONTENT_LENGTH => 0)) . rec(4, 1, '') . rec(5, 1, '')));
like($out, qr/\A(Status: 200|Content-Type)/m, 'a hand-made FastCGI request gets an answer') or diag $out;
like($out, qr/\{"status":"ok"\}/, 'the health answer');

raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout => 1);
survived('HTTP spoken to the FastCGI socket');

raw(join('', map { chr int rand 256 } 1 .. 4096), timeout => 1);
survived('4 KiB of random bytes');

raw(rec(99, 0, 'x' x 8), timeout => 1);
survived('an unknown management record type');

raw(begin(1) . substr(rec(4, 1, std_params()), 0, 20), timeout => 1);
survived('a request cut off inside its params');

raw(begin(1) . rec(4, 1, std_params()) . rec(4, 1, ''), timeout => 1);
survived('a request that never sends its body');

raw(begin(1) . rec(4, 1, nv_len(0x7ffffff0) . nv_len(5) . 'abc'), timeout => 1);
survived('a param claiming a 2 GiB name');

# Short body: CONTENT_LENGTH says 1000, 10 bytes arrive.
$out = stdout_of(raw(begin(1) . rec(4, 1, std_params(CONTENT_LENGTH => 1000)) . rec(4, 1, '') . rec(5, 1, '{"email":1') . rec(5, 1, '')));
like($out, qr/\AStatus: 4\d\d/m, 'a body shorter than CONTENT_LENGTH: a 4xx answer') or diag $out;
survived('a short body');

for my $cl ('-1', 'abc', '99999999999999999999999', '1e3', ' 2') {
	$out = stdout_of(raw(begin(1) . rec(4, 1, std_params(CONTENT_LENGTH => $cl)) . rec(4, 1, '') . rec(5, 1, '{}') . rec(5, 1, '')));
	like($out, qr/\AStatus: (4\d\d)/m, "CONTENT_LENGTH '$cl': a 4xx answer") or diag $out;
}
survived('odd CONTENT_LENGTH values');

# Past a long is too large (413), not malformed; a sign, a space or junk is
# malformed (400 "Invalid Content-Length").
for my $c ([ '99999999999999999999' => 413, 'Request body too large' ], map { [ $_ => 400, 'Invalid Content-Length' ] } '+12', ' 12', '12x') {
	my ($cl, $want, $msg) = @$c;
	$out = stdout_of(raw(begin(1) . rec(4, 1, std_params(CONTENT_LENGTH => $cl)) . rec(4, 1, '') . rec(5, 1, '{}') . rec(5, 1, '')));
	like($out, qr/\AStatus: $want\b/m, "CONTENT_LENGTH '$cl': $want") or diag $out;
	like($out, qr/\{"error":"\Q$msg\E"\}/, "CONTENT_LENGTH '$cl': $msg") or diag $out;
}
survived('CONTENT_LENGTH past a long');

# No REQUEST_METHOD, no REQUEST_URI
$out = stdout_of(raw(begin(1) . rec(4, 1, params(REMOTE_ADDR => '127.0.0.1')) . rec(4, 1, '') . rec(5, 1, '')));
like($out, qr/\AStatus: [45]\d\d/m, 'a request without method or URI: an error answer') or diag $out;
like($out, qr/\r\n\r\n\{"error":/, 'with a JSON error body');
survived('missing CGI variables');

# Many params (a header flood)
my %many = map { ("HTTP_X_FLOOD_$_" => 'y' x 100) } 1 .. 500;
$out = stdout_of(raw(begin(1) . join('', map { rec(4, 1, $_) } unpack('(a60000)*', std_params(REQUEST_METHOD => 'GET', REQUEST_URI => '/health', CONTENT_LENGTH => 0, %many))) . rec(4, 1, '') . rec(5, 1, ''), timeout => 5));
like($out, qr/\AStatus: \d\d\d|\AContent-Type/m, '500 request headers: an answer');
survived('a header flood');

done_testing;
