package BulwarkFcgi;

# A raw FastCGI client for the tests that talk to a worker's socket without
# a web server in between (34_keepalive.t, 35_socket_attacks.t): kept
# connections (FCGI_KEEP_CONN), requests sent whole or in pieces, answers
# read record by record from many connections at once.
#
#   my $c = fcgi_connect($s->{pool}[0]{sock});
#   syswrite($c, fcgi_request_bytes(keep => 1, path => '/health'));
#   my ($r) = fcgi_read_many([$c], 5);   # {status, stdout} | {eof} | {timeout}
#   fcgi_wait_eof($c, 10);               # seconds until the worker closed it

use strict;
use warnings;
use Exporter 'import';
use IO::Socket::UNIX ();
use IO::Select ();
use Time::HiRes qw(time);
use BulwarkTest qw(fcgi_record fcgi_params fcgi_nv_len);

our @EXPORT = qw(fcgi_connect fcgi_begin fcgi_request_bytes fcgi_read_many fcgi_wait_eof);

sub fcgi_connect {
	my ($sock) = @_;
	my $c = IO::Socket::UNIX->new(Peer => $sock) or die "connect $sock: $!";
	${*$c}{fcgi_buf} = '';
	return $c;
}

# BEGIN_REQUEST for request $id, role responder, FCGI_KEEP_CONN when $keep.
sub fcgi_begin {
	my ($id, $keep) = @_;
	return fcgi_record(1, $id // 1, pack('nCx5', 1, $keep ? 1 : 0));
}

# The bytes of a whole request: BEGIN, the CGI parameters, the empty
# PARAMS record, the body as STDIN records and the empty STDIN record.
#   keep => 1, id => 1, method => 'GET', path => '/health', body => $bytes,
#   params => {extra or overriding parameters}
sub fcgi_request_bytes {
	my (%o) = @_;
	my $id   = $o{id} // 1;
	my $body = $o{body} // '';
	my $path = $o{path} // '/health';
	my %p    = (
		REQUEST_METHOD  => $o{method} // 'GET',
		REQUEST_URI     => $path,
		SCRIPT_NAME     => $path,
		PATH_INFO       => '',
		QUERY_STRING    => '',
		REMOTE_ADDR     => '127.0.0.1',
		SERVER_PROTOCOL => 'HTTP/1.1',
		CONTENT_LENGTH  => length $body,
		(length $body ? (CONTENT_TYPE => 'application/json') : ()),
		%{ $o{params} || {} },
	);
	my $b = fcgi_begin($id, $o{keep}) . fcgi_record(4, $id, fcgi_params(%p)) . fcgi_record(4, $id, '');
	$b .= fcgi_record(5, $id, $_) for unpack('(a32768)*', $body);
	return $b . fcgi_record(5, $id, '');
}

# Takes one whole response off the front of $$buf: {status, stdout} once its
# END_REQUEST is there, else undef (the bytes stay).
sub take_response {
	my ($buf) = @_;
	my ($off, $out) = (0, '');
	while (length($$buf) - $off >= 8) {
		my ($v, $type, $id, $len, $pad) = unpack('CCnnC', substr($$buf, $off, 8));
		last if length($$buf) - $off < 8 + $len + $pad;
		$out .= substr($$buf, $off + 8, $len) if $type == 6;
		$off += 8 + $len + $pad;
		if ($type == 3) {
			substr($$buf, 0, $off, '');
			my ($st) = $out =~ /\AStatus: (\d+)/;
			return { status => $st // 200, stdout => $out };
		}
	}
	return undef;
}

# Reads one response from each connection of @$conns, all at once, for at
# most $timeout seconds; returns one result per connection, in order:
# {status, stdout, seconds} or {eof => 1} (closed first) or {timeout => 1}.
sub fcgi_read_many {
	my ($conns, $timeout) = @_;
	my $t0  = time;
	my $end = $t0 + ($timeout // 5);
	my @res = (undef) x @$conns;
	my %open;
	for my $i (0 .. $#$conns) {
		my $c = $conns->[$i];
		if (my $r = take_response(\${*$c}{fcgi_buf})) { $r->{seconds} = 0; $res[$i] = $r }
		else                                           { $open{$i} = 1 }
	}
	while (%open) {
		my $left = $end - time;
		last if $left <= 0;
		my $sel = IO::Select->new(map { $conns->[$_] } keys %open);
		my %idx = map { (fileno($conns->[$_]) => $_) } keys %open;
		for my $c ($sel->can_read($left)) {
			my $i = $idx{ fileno $c };
			my $n = sysread($c, ${*$c}{fcgi_buf}, 65536, length ${*$c}{fcgi_buf});
			if (!$n) { $res[$i] = { eof => 1 }; delete $open{$i}; next }
			if (my $r = take_response(\${*$c}{fcgi_buf})) {
				$r->{seconds} = time - $t0;
				$res[$i] = $r;
				delete $open{$i};
			}
		}
	}
	$res[$_] //= { timeout => 1 } for 0 .. $#$conns;
	return @res;
}

# Seconds until the peer closes $c (what it sends meanwhile is dropped), or
# undef when it is still open after $timeout seconds.
sub fcgi_wait_eof {
	my ($c, $timeout) = @_;
	my $t0  = time;
	my $sel = IO::Select->new($c);
	while ((my $left = $t0 + $timeout - time) > 0) {
		last unless $sel->can_read($left);
		my $buf;
		my $n = sysread($c, $buf, 65536);
		return time - $t0 if !$n;
	}
	return undef;
}

1;
