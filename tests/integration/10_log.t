# The JSON log: one object per line, a request event per request, the
# security events, and no secrets.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);
my $mark = $s->log_mark;
my @made;    # [method, path, status] of every request after the mark

sub track {
	my ($method, $path, $r) = @_;
	push @made, [ $method, $path, $r->{status} ];
	return $r;
}

my $admin_email = unique_email('logadmin');
my $admin_pw    = unique_password();
$s->secret($admin_pw);
is(add_user($admin_email, $admin_pw, 1)->{exit}, 0, 'setup: an admin');

my $email = unique_email('log');
my $pw    = unique_password();
my $c = $s->signup($email, $pw);
track(POST => '/signup', $c->res);
is($c->res->{status}, 201, 'signup');
my $uid = $c->res->{json}{user}{id};

my $l = $s->login(" \U$email\E ", $pw);
track(POST => '/login', $l->res);
is($l->res->{status}, 200, 'login (email in capitals)');
my $bad_pw = "$pw-wrong-" . int(rand 1e9);
$s->secret($bad_pw);
track(POST => '/login', $s->login("  \U$email ", $bad_pw)->res);
my $ghost = unique_email('ghost');
track(POST => '/login', $s->login($ghost, $bad_pw)->res);
track(GET => '/me', $c->req(GET => '/me'));
track(POST => '/logout', $l->req(POST => '/logout'));    # no CSRF header: csrf_rejected
track(POST => '/logout', $l->req(POST => '/logout', csrf => 1));
track(GET => '/nowhere', $s->req(GET => '/nowhere'));
track(POST => '/signup', $s->req(POST => '/signup', body => '{', content_type => 'application/json'));

my $admin = $s->login($admin_email, $admin_pw);
track(POST => '/login', $admin->res);
my $aid = $admin->res->{json}{user}{id};
track(DELETE => "/users/$uid", $admin->req(DELETE => "/users/$uid", csrf => 1));
is($made[-1][2], 200, 'the admin deleted the user');

my @lines = $s->wait_log(sub { (grep { ($_->{event} // '') eq 'request' } @_) >= @made }, since => $mark);
my @all = $s->log_lines;

# --- every line
my @invalid = grep { $_->{_invalid} } @all;
ok(!@invalid, 'every log line is one JSON object') or diag explain [ map { $_->{_invalid} } @invalid[ 0 .. ($#invalid < 4 ? $#invalid : 4) ] ];
my @bad = grep {
	!defined $_->{time} || $_->{time} !~ /\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\z/
	  || !defined $_->{level} || ref $_->{level} || $_->{level} eq ''
	  || !defined $_->{event} || ref $_->{event} || $_->{event} eq ''
} grep { !$_->{_invalid} } @all;
ok(!@bad, 'every line has time (RFC 3339 UTC), level and event') or diag explain [ @bad[ 0 .. ($#bad < 4 ? $#bad : 4) ] ];
my $raw = $s->log_raw;
ok($raw =~ /\n\z/, 'the log ends with a newline (whole lines)');

# --- request events
my @req = grep { ($_->{event} // '') eq 'request' } @lines;
is(scalar @req, scalar @made, 'one request event per request made');
my @bad_req = grep {
	!defined $_->{method} || !defined $_->{path} || !defined $_->{status} || $_->{status} !~ /\A\d{3}\z/
	  || !defined $_->{duration} || $_->{duration} !~ /\A\d+(\.\d+)?([eE][-+]?\d+)?\z/
	  || ($_->{ip} // '') ne '127.0.0.1'
} @req;
ok(!@bad_req, 'request events carry method, path, status, duration and ip') or diag explain [ @bad_req[ 0 .. ($#bad_req < 3 ? $#bad_req : 3) ] ];
is_deeply([ sort map { "$_->{method} $_->{path} $_->{status}" } @req ], [ sort map { "@$_" } @made ],
	'the request events match the requests (method, path, status)');

# --- security events
sub events { my ($name) = @_; grep { ($_->{event} // '') eq $name } @lines }

my ($signup) = events('signup');
ok($signup, 'a signup event');
is($signup->{email}, $email, 'signup: email');
is($signup->{userId}, $uid, 'signup: userId');
is($signup->{ip}, '127.0.0.1', 'signup: ip');

my @ok = events('login_success');
is(scalar @ok, 2, 'two login_success events');
ok((grep { ($_->{userId} // '') eq $uid && ($_->{email} // '') eq $email } @ok), 'login_success: userId and the normalised email');

my @failed = events('login_failed');
is(scalar @failed, 2, 'two login_failed events (wrong password, unknown email)');
ok((grep { ($_->{email} // '') eq $email } @failed), 'login_failed for the known user: normalised email');
ok((grep { ($_->{email} // '') eq $ghost } @failed), 'login_failed for the unknown email');
ok(!(grep { !defined $_->{ip} } @failed), 'login_failed: ip');

my @csrf = events('csrf_rejected');
is(scalar @csrf, 1, 'one csrf_rejected event');
is($csrf[0]{ip}, '127.0.0.1', 'csrf_rejected: ip') if @csrf;

my @logout = events('logout');
is(scalar @logout, 1, 'one logout event');
is($logout[0]{userId}, $uid, 'logout: userId') if @logout;

my @del = events('user_deleted');
is(scalar @del, 1, 'one user_deleted event');
ok(@del && (grep { defined $_ && $_ eq $uid } values %{ $del[0] }), 'user_deleted names the deleted user id') or diag explain \@del;

# --- no secrets
$s->secret($c->session, $l->session, $admin->session);
my @hashes = map { $_->[0] } @{ psql('SELECT password_hash FROM bulwark.users WHERE password_hash IS NOT NULL') };
ok(!(grep { index($raw, $_) >= 0 } @hashes), 'no password hash in the log');
ok($raw !~ /"password"|"body"|"cookie"|"x-csrf-token"|"authorization"/i, 'no password, body, cookie or CSRF field in the log');
$s->log_clean_ok('log');

done_testing;
