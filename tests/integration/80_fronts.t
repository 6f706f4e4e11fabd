# Every way Bulwark is mounted (issue #10), each started with its shipped
# deploy/ file: the route reaches the program as PATH_INFO under the mount's
# prefix, REMOTE_ADDR is the client and not the web server, Authorization
# reaches the program, and the worker processes are what the front should
# start. tests/run.sh runs the whole set of route tests through each front
# too; this file checks what is particular to the front.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

# The client connects from 127.0.0.2 (any 127/8 address is this machine), so
# an address that is the web server's (127.0.0.1) cannot pass for it.
my $CLIENT = '127.0.0.2';

for my $front (qw(lighttpd lighttpd-binpath apache apache-auth shared-hosting nginx nginx-nokeep)) {
	my $s = start_stack(front => $front, workers => 2);
	my $mark = $s->log_mark;
	my $r = $s->req(GET => '/health', local_addr => $CLIENT);
	is($r->{status}, 200, "$front: GET " . $s->prefix . '/health');
	common_ok($r, "$front: /health");
	my @l = $s->wait_log(sub { grep { ($_->{event} // '') eq 'request' } @_ }, since => $mark);
	my ($line) = grep { ($_->{event} // '') eq 'request' } @l;
	is($line->{path}, '/health', "$front: the program sees the route /health (PATH_INFO), not the prefix");
	is($line->{ip}, $CLIENT, "$front: REMOTE_ADDR is the client ($CLIENT), not the web server");

	# Authorization: a token presented is seen (invalid_token), none is not.
	bearer_401_ok($s->req(GET => '/token/me', bearer => 'not-a-token'), "$front: a bad bearer token", 1);
	bearer_401_ok($s->req(GET => '/token/me'), "$front: no Authorization", 0);
	my ($e, $pw) = ($s->new_user("front-$front"))[ 0, 1 ];
	my $pair = $s->token_pair($e, $pw, $front);
	$r = $s->req(GET => '/token/me', bearer => $pair->{accessToken});
	is($r->{status}, 200, "$front: GET /token/me with the access token (Authorization reached the program)");
	is(ref $r->{json} eq 'HASH' && $r->{json}{user}{email}, $e, "$front: as that user");

	if (length $s->prefix) {
		$r = BulwarkTest::http(port => $s->port, method => 'GET', path => '/health');
		isnt($r->{headers}{'content-security-policy'}, "default-src 'none'; frame-ancestors 'none'",
			"$front: outside " . $s->prefix . ' the program is not reached');
	}

	# The workers: where the web server starts them, each has the
	# listening socket on fd 0, and there are as many as configured.
	my @w = $s->worker_pids;
	is(scalar @w, 2, "$front: two worker processes");
	if ($s->{managed}) {
		my @fd0 = map { readlink("/proc/$_/fd/0") // 'none' } @w;
		ok(@fd0 && !(grep { !/^socket:/ } @fd0), "$front: each worker has its socket on fd 0") or diag "@fd0";
	}
	$s->log_clean_ok($front);
	$s->stop;
}

done_testing;
