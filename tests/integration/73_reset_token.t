# The reset token (API.md "Password reset": at least 128 bits, stored as
# SHA-256 only, expires after BULWARK_RESET_TTL, single use): every
# alteration of a valid token is refused with the one error and leaves the
# token usable (one character changed, a non-canonical encoding of the same
# bytes, the other base64 alphabet, padding, spaces, case, percent-encoding,
# the stored hash itself); the token works once; it dies after its TTL; and
# of 20 concurrent uses exactly one wins.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use Digest::SHA ();
use JSON::PP ();
use MIME::Base64 ();
use BulwarkTest;

my $OK_RESET  = 'Password has been reset.';
my $BAD_TOKEN = 'Invalid or expired reset token';
my $B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

my $s = start_stack(workers => 4);
reset_counters();
my @workers = $s->worker_pids;

sub unused { psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE used_at IS NULL AND user_id = ' . q_lit($_[0])) }
sub flip1 { my ($t, $i) = @_; my $c = substr($t, $i, 1); substr($t, $i, 1) = $c eq 'A' ? 'B' : 'A'; $t }

# --- alterations of a valid token
my ($email, $pw, $uid) = $s->new_user('token');
# A token with '-' or '_' in it, so that the standard-alphabet spelling of
# its bytes differs from it (3 in 4 tokens have one; a few tries suffice).
my ($tok, $tries);
for (1 .. 8) {
	$tok = $s->reset_token($email, "(try $_)");
	$tries = $_;
	last if $tok =~ /[-_]/;
}
like($tok, qr/[-_]/, "setup: a token with '-' or '_' ($tries requests)");
my $n_unused = unused($uid);
my $bytes = unb64url($tok);
my $last = index($B64, substr($tok, -1));
ok($last >= 0 && ($last & 3) == 0, 'setup: the last character of a 43-character token carries 2 zero bits');
my $twin = substr($tok, 0, 42) . substr($B64, $last | 1, 1);    # other padding bits, the same 32 bytes to a lax decoder
is(MIME::Base64::decode_base64url($twin), $bytes, 'setup: the twin decodes to the same bytes (for a lax decoder)');
my $std = MIME::Base64::encode_base64($bytes, '') =~ s/=+\z//r;
my $c0  = substr($tok, 0, 1);
my @bad = (
	[ flip1($tok, 0)                               => 'the first character changed' ],
	[ flip1($tok, 21)                              => 'a middle character changed' ],
	[ flip1($tok, 42)                              => 'the last character changed' ],
	[ $twin                                        => 'the last character changed in its padding bits (the same bytes)' ],
	[ b64url(join '', map { chr int rand 256 } 1 .. 32) => 'a well-formed, different 43-character token' ],
	[ $std                                         => 'the same bytes in the standard base64 alphabet' ],
	[ "$std="                                      => 'the same bytes in standard base64, padded' ],
	[ "$tok="                                      => "the token with '=' padding" ],
	[ "$tok=="                                     => "the token with '==' padding" ],
	[ substr($tok, 0, 42)                          => 'the token cut short (42 characters)' ],
	[ substr($tok, 0, 22)                          => 'the first half of the token' ],
	[ "${tok}A"                                    => 'the token with a character added' ],
	[ "$tok$tok"                                   => 'the token twice' ],
	[ " $tok"                                      => 'a leading space' ],
	[ "$tok "                                      => 'a trailing space' ],
	[ "$tok\n"                                     => 'a trailing newline' ],
	[ substr($tok, 0, 21) . ' ' . substr($tok, 22) => 'a space in place of a character' ],
	[ substr($tok, 0, 21) . ' ' . substr($tok, 21) => 'a space inserted' ],
	[ (lc($tok) ne $tok ? lc($tok) : uc($tok))     => 'the token in another case' ],
	[ sprintf('%%%02X', ord $c0) . substr($tok, 1) => 'the first character percent-encoded' ],
	[ sha256_hex($tok)                             => "the token's SHA-256 (hex), what the database keeps" ],
	[ b64url(Digest::SHA::sha256($tok))            => "the token's SHA-256 as 43 base64url characters" ],
	[ unpack('H*', $bytes)                         => "the token's bytes in hex" ],
	[ "https://localhost/reset-password?token=$tok" => 'the whole link' ],
	[ "token=$tok"                                 => "'token=' and the token" ],
	[ 'abc'                                        => 'abc' ],
	[ '=' x 43                                     => "43 '='" ],
	[ "\x{e9}" x 43                                => '43 non-ASCII characters' ],
);
my $mark = $s->log_mark;
for my $b (@bad) {
	next if $b->[0] eq $tok;
	error_is($s->reset_password($b->[0], unique_password()), 400, $BAD_TOKEN, "reset with $b->[1]");
}
for my $odd ([ '' => 'an empty token' ], [ 'x' x 5000 => 'a 5000-character token' ]) {
	my $r = $s->reset_password($odd->[0], unique_password());
	is($r->{status}, 400, "reset with $odd->[1]: 400");
	common_ok($r, "reset with $odd->[1]");
}
for my $typed ([ 12345 => 'a number' ], [ [$tok] => 'an array holding the token' ], [ { token => $tok } => 'an object' ],
	[ JSON::PP::true => 'true' ], [ undef => 'null' ])
{
	my $r = $s->req(POST => '/reset-password', body => { token => $typed->[0], newPassword => unique_password() });
	is($r->{status}, 400, "reset with the token $typed->[1]: 400");
}
is(unused($uid), $n_unused, 'none of that spent a token of the user');
is(scalar($s->events($mark, 'password_reset')), 0, 'no password_reset logged');
is($s->login($email, $pw)->res->{status}, 200, 'the password is unchanged');

# --- the token works, once
my $np = unique_password();
my $r = $s->reset_password($tok, $np);
is($r->{status}, 200, 'the token itself, after all that: 200');
is_deeply($r->{json}, { message => $OK_RESET }, '... Password has been reset.');
my $np2 = unique_password();
error_is($s->reset_password($tok, $np2), 400, $BAD_TOKEN, 'the token a second time');
is($s->login($email, $np)->res->{status}, 200, 'the first reset\'s password logs in');
is($s->login($email, $np2)->res->{status}, 401, 'the second attempt\'s password does not');

# --- 20 concurrent uses of one token: exactly one wins. Three rounds, each
# with a fresh user: a race that a lookup-then-update implementation loses
# only now and then still shows.
for my $round (1 .. 3) {
	my ($ce, $cp, $cid) = $s->new_user("tokenrace$round");
	my $ct = $s->reset_token($ce, "for race $round");
	my @pws = map { unique_password() } 0 .. 19;
	$s->secret(@pws);
	$mark = $s->log_mark;
	my @res = parallel_barrier(20, sub {
		my ($i, $ready) = @_;
		my $x = $s->req(POST => '/reset-password', body => { token => $ct, newPassword => $pws[$i] }, before_last_byte => $ready, timeout => 30);
		return "$x->{status} $x->{body}";
	});
	my @won = grep { $res[$_] =~ /\A200 / } 0 .. 19;
	is(scalar @won, 1, "race $round: 20 concurrent uses of one token (4 workers): exactly one 200")
	  or diag join ' ', map { (split / /, $_)[0] } @res;
	is(scalar(grep { /\A400 (.*)\z/s && ((eval { JSON::PP->new->decode($1) } || {})->{error} // '') eq $BAD_TOKEN } @res), 19,
		"race $round: the other 19: 400 Invalid or expired reset token") or diag join "\n", @res;
	my $w = $won[0] // 0;
	is($s->login($ce, $pws[$w])->res->{status}, 200, "race $round: the winner's password logs in");
	my @losers = grep { $_ != $w } 0 .. 19;
	is(join(' ', map { $s->login($ce, $pws[$_])->res->{status} } @losers[ 0 .. 2 ]), '401 401 401', "race $round: losers' passwords do not");
	my @pr = $s->wait_log(sub { grep { ($_->{event} // '') eq 'password_reset' } @_ }, since => $mark);
	is(scalar(grep { ($_->{event} // '') eq 'password_reset' && ($_->{userId} // '') eq $cid } @pr), 1, "race $round: one password_reset logged");
}
is_deeply([ $s->worker_pids ], \@workers, 'no worker died');
$s->log_clean_ok('reset tokens');
$s->stop;

# --- expiry: BULWARK_RESET_TTL=2
my $t = start_stack(workers => 2, env => { BULWARK_RESET_TTL => 2 });
my ($xe, $xp, $xid) = $t->new_user('expire');
my ($ye, $yp, $yid) = $t->new_user('expire-fresh');
my $t0 = time;
my $xt = $t->reset_token($xe, 'that will expire');
my $yt = $t->reset_token($ye, 'used at once');
my $ttl = psql_one('SELECT extract(epoch FROM expires_at - created_at) FROM bulwark.reset_tokens WHERE user_id = ' . q_lit($xid));
ok(defined $ttl && abs($ttl - 2) < 0.5, 'bulwark.reset_tokens: expires_at is 2 s after created_at') or diag 'ttl ' . ($ttl // 'undef');
$r = $t->reset_password($yt, unique_password());
is($r->{status}, 200, 'a token used within its 2 s: 200');
sleep($t0 + 3 - time) if $t0 + 3 > time;
my $xnp = unique_password();
error_is($t->reset_password($xt, $xnp), 400, $BAD_TOKEN, 'a token 3 s old (TTL 2 s)');
is($t->login($xe, $xp)->res->{status}, 200, 'the old password still logs in');
is($t->login($xe, $xnp)->res->{status}, 401, 'the password offered with the expired token does not');
my $fresh = $t->reset_token($xe, 'a new request after the expiry');
is($t->reset_password($fresh, unique_password())->{status}, 200, 'a new token works');
$t->log_clean_ok('reset token expiry');
done_testing;
