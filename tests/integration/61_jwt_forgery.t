# Forged, tampered and malformed access tokens (API.md "Tokens"): every one is
# 401 {"error":"Unauthorized"} with WWW-Authenticate: Bearer realm="bulwark",
# error="invalid_token" (RFC 6750), never a 500 or a dead worker. Most
# forgeries are signed here with the server's own secret (test_secret), so
# each is refused for its one defect, not for its signature; the controls at
# the top show that a token made here with the right secret is accepted.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(hmac_sha256 hmac_sha512);
use IO::Socket::UNIX ();
use IO::Select ();
use Time::HiRes qw(time);
use BulwarkTest;

my $S     = test_secret();
my $OTHER = 'another-secret-that-is-long-enough-0123456789';
my $s = start_stack(workers => 4);
my @workers = $s->worker_pids;
is(scalar @workers, 4, 'four workers');

my ($email, $pw, $uid) = $s->new_user('forge');
my ($admin_email, $admin_pw) = (unique_email('forgeadmin'), unique_password());
$s->secret($admin_pw);
is(add_user($admin_email, $admin_pw, 1)->{exit}, 0, 'setup: an admin');
my $admin_id = psql_one('SELECT id FROM bulwark.users WHERE email = ' . q_lit($admin_email));

my $T = $s->token_pair($email, $pw, 'user')->{accessToken};
my $J = jwt_decode($T) or die "the access token is not a JWT\n";
my %P = %{ $J->{payload} || {} };
ok(%P && $P{sub} eq $uid, 'setup: the token names the user') or die "unexpected claims\n";
$P{$_} += 0 for grep { defined $P{$_} } qw(iat exp);    # numbers stay JSON numbers
my %H = (alg => 'HS256', typ => 'JWT', kid => 'default');
my $now = int(time);

sub me { $s->req(GET => '/token/me', bearer => $_[0]) }
sub refused { my ($t, $name) = @_; bearer_401_ok(me($t), $name, 1) }
sub with { my ($base, %kv) = @_; my %h = (%$base, %kv); delete $h{$_} for grep { !defined $h{$_} } keys %h; \%h }
sub payload_part { b64url(ref $_[0] ? JSON::PP->new->canonical->encode($_[0]) : $_[0]) }

# --- controls: made here with the right secret, accepted
my $r = me($T);
is($r->{status}, 200, 'control: the issued token works');
is(me(jwt_make(\%H, \%P, $S))->{status}, 200, 'control: the same claims re-encoded and signed here with the secret: 200');
# Our jti carries the issue time in microseconds (README, "the revocation
# mark is exact"), and it must agree with iat: move both.
my @jti = split /\./, $P{jti};
is(scalar @jti, 3, 'the jti is <family>.<issued microseconds>.<tag>');
is(int($jti[1] / 1000000), $P{iat}, "the jti's issue time is iat's second");
is(me(jwt_make(\%H, with(\%P, iat => $now + 20, exp => $now + 900, jti => join('.', $jti[0], ($now + 20) * 1000000, $jti[2])), $S))->{status}, 200,
	'control: iat 20 s ahead (clock skew), the jti with it: 200');
bearer_401_ok(me(jwt_make(\%H, with(\%P, iat => $now + 20, exp => $now + 900), $S)), 'iat moved without the jti (made with the key, not by us)', 1);

# claims are not trusted beyond sub: a correctly signed token claiming admin
# for a user is still that user, with the stored role and email
my $liar = jwt_make(\%H, with(\%P, role => 'admin', email => $admin_email), $S);
$r = me($liar);
is($r->{status}, 200, 'a signed token claiming role admin and another email: authenticates its sub');
is($r->{json}{user}{role}, 'user', '... with the stored role');
is($r->{json}{user}{email}, $email, '... and the stored email');
error_is($s->req(GET => '/users', bearer => $liar), 403, 'Forbidden', 'GET /users with the role claim forged (signed): 403');

# --- algorithms
my $none_h = b64url(JSON::PP->new->canonical->encode(with(\%H, alg => 'none')));
my $pp = payload_part(\%P);
refused("$none_h.$pp.", 'alg none, empty signature');
refused("$none_h.$pp", 'alg none, no signature part');
refused(jwt_make(with(\%H, alg => 'none'), \%P, $S), 'alg none with a valid HS256 signature');
refused(jwt_make(with(\%H, alg => 'None'), \%P, undef), 'alg None, empty signature');
refused(jwt_make(with(\%H, alg => 'HS512'), \%P, $S, hmac => \&hmac_sha512), 'alg HS512 signed HMAC-SHA512 with the secret');
refused(jwt_make(with(\%H, alg => 'HS512'), \%P, $S), 'alg HS512 with an HS256 signature');
refused(jwt_make(with(\%H, alg => 'RS256'), \%P, $S), 'alg RS256 with an HMAC signature (key confusion)');
refused(jwt_make(with(\%H, alg => 'hs256'), \%P, $S), 'alg hs256 (case)');
refused(jwt_make(with(\%H, alg => 'HS256 '), \%P, $S), "alg 'HS256 ' (trailing space)");
refused(jwt_make(with(\%H, alg => undef), \%P, $S), 'no alg');
refused(jwt_make('{"alg":null,"typ":"JWT","kid":"default"}', \%P, $S), 'alg null');
refused(jwt_make('{"alg":["HS256"],"typ":"JWT","kid":"default"}', \%P, $S), 'alg an array');

# --- signatures
my ($h64, $p64, $sig) = @{ $J->{parts} };
my $flip = substr($sig, 0, 1) eq 'A' ? 'B' : 'A';
refused("$h64.$p64.$flip" . substr($sig, 1), 'one character of the signature changed');
refused("$h64.$p64." . b64url("\0" x 32), 'a signature of zeros');
refused("$h64.$p64." . substr($sig, 0, 42), 'the signature cut short');
refused("$h64.$p64.${sig}=", 'the signature with base64 padding');
refused("$h64.$p64.${sig}AA", 'the signature with bytes added');
refused(jwt_make(\%H, \%P, $OTHER), 'signed with another key');
refused(jwt_make(\%H, \%P, substr($S, 0, 32)), 'signed with the first 32 bytes of the secret');
refused(jwt_make(\%H, \%P, "${S}x"), 'signed with the secret and one more byte');
refused("$h64.$p64.$p64", 'the payload as the signature');

# --- tampered claims
refused("$h64." . payload_part(with(\%P, role => 'admin')) . ".$sig", 'role changed to admin, old signature');
bearer_401_ok($s->req(GET => '/users', bearer => "$h64." . payload_part(with(\%P, role => 'admin')) . ".$sig"),
	'GET /users with role changed to admin, old signature', 1);
bearer_401_ok($s->req(GET => '/users', bearer => jwt_make(\%H, with(\%P, role => 'admin'), $OTHER)),
	'GET /users with role changed to admin, re-signed with a wrong key', 1);
refused("$h64." . payload_part(with(\%P, sub => $admin_id)) . ".$sig", "sub changed to the admin's id, old signature");
bearer_401_ok($s->req(GET => '/users', bearer => jwt_make(\%H, with(\%P, sub => $admin_id, role => 'admin'), $OTHER)),
	"GET /users as the admin's id, signed with a wrong key", 1);
refused("$h64." . payload_part(with(\%P, exp => $P{exp} + 86400)) . ".$sig", 'exp extended, old signature');
refused(b64url(JSON::PP->new->canonical->encode(\%H)) . ".$p64.$sig", 'the header re-encoded (other bytes), old signature');

# --- kid
refused(jwt_make(with(\%H, kid => 'other'), \%P, $S), 'unknown kid');
refused(jwt_make(with(\%H, kid => undef), \%P, $S), 'no kid');
refused(jwt_make(with(\%H, kid => ''), \%P, $S), 'empty kid');
refused(jwt_make(with(\%H, kid => 'DEFAULT'), \%P, $S), 'kid DEFAULT (case)');
refused(jwt_make(with(\%H, kid => '../default'), \%P, $S), 'kid ../default');
refused(jwt_make('{"alg":"HS256","typ":"JWT","kid":7}', \%P, $S), 'kid a number');
refused(jwt_make(with(\%H, jku => 'https://attacker.example/jwks.json'), \%P, $S), 'a jku member in the header');

# --- duplicate members (signed with the right secret)
refused(jwt_make('{"alg":"HS256","alg":"none","typ":"JWT","kid":"default"}', \%P, $S), 'header {"alg":"HS256","alg":"none"}');
refused(jwt_make('{"alg":"none","alg":"HS256","typ":"JWT","kid":"default"}', \%P, $S), 'header {"alg":"none","alg":"HS256"}');
refused(jwt_make('{"alg":"HS256","\u0061lg":"none","typ":"JWT","kid":"default"}', \%P, $S), 'header alg twice, once escaped (\u0061lg)');
refused(jwt_make('{"alg":"HS256","typ":"JWT","kid":"default","kid":"other"}', \%P, $S), 'header kid twice');
{
	my $base = JSON::PP->new->canonical->encode(\%P);
	(my $two_roles = $base) =~ s/"role":"user"/"role":"user","role":"admin"/;
	(my $two_subs  = $base) =~ s/"sub":"\Q$uid\E"/"sub":"$uid","sub":"$admin_id"/;
	ok($two_roles ne $base && $two_subs ne $base, 'setup: payloads with a duplicate role and a duplicate sub');
	refused(jwt_make(\%H, $two_roles, $S), 'payload {"role":"user","role":"admin"}');
	refused(jwt_make(\%H, $two_subs, $S), 'payload with sub twice (user, then admin)');
	bearer_401_ok($s->req(GET => '/users', bearer => jwt_make(\%H, $two_roles, $S)), 'GET /users with a duplicate role claim', 1);
}

# --- not JSON objects
refused(jwt_make('["HS256"]', \%P, $S), 'header an array');
refused(jwt_make('"HS256"', \%P, $S), 'header a string');
refused(jwt_make('null', \%P, $S), 'header null');
refused(jwt_make('{"alg":"HS256","typ":"JWT","kid":"default"}x', \%P, $S), 'header with trailing bytes');
refused(jwt_make('{"alg":"HS256","typ":"JWT","kid":"default"', \%P, $S), 'header cut short');
refused(jwt_make('', \%P, $S), 'empty header part');
refused(jwt_make(\%H, '[]', $S), 'payload an array');
refused(jwt_make(\%H, '"x"', $S), 'payload a string');
refused(jwt_make(\%H, '42', $S), 'payload a number');
refused(jwt_make(\%H, '', $S), 'empty payload part');
refused(jwt_make(\%H, "\xff\xfe{}", $S), 'payload not UTF-8');
refused("$h64!.$p64.$sig", 'a header part with a non-base64url character');

# --- time and issuer (signed with the right secret)
refused(jwt_make(\%H, with(\%P, iat => $now - 1000, exp => $now - 10), $S), 'expired 10 s ago');
refused(jwt_make(\%H, with(\%P, iat => $now - 1000, exp => $now - 86400 * 365), $S), 'exp before iat');
refused(jwt_make(\%H, with(\%P, exp => undef), $S), 'no exp (a token that never expires)');
refused(jwt_make(\%H, with(\%P, exp => '' . ($now + 900)), $S), 'exp a string');
refused(jwt_make(\%H, with(\%P, iat => $now + 3600, exp => $now + 4500), $S), 'iat an hour ahead');
refused(jwt_make(\%H, with(\%P, iat => $now + 120, exp => $now + 1020), $S), 'iat 120 s ahead (beyond 60 s of skew)');
refused(jwt_make(\%H, with(\%P, iat => undef), $S), 'no iat');
refused(jwt_make(\%H, with(\%P, iss => 'evil'), $S), 'iss evil');
refused(jwt_make(\%H, with(\%P, iss => 'Bulwark'), $S), 'iss Bulwark (case)');
refused(jwt_make(\%H, with(\%P, iss => undef), $S), 'no iss');
refused(jwt_make(\%H, with(\%P, sub => '00000000-0000-4000-8000-000000000000'), $S), 'sub of no user');
refused(jwt_make(\%H, with(\%P, sub => 'admin'), $S), 'sub not a UUID');
refused(jwt_make(\%H, with(\%P, sub => undef), $S), 'no sub');
refused(jwt_make(\%H, with(\%P, jti => undef), $S), 'no jti');

# --- garbage and the Authorization header itself
refused($_->[0], "garbage: $_->[1]") for [ 'abc', 'abc' ], [ 'a.b.c', 'a.b.c' ], [ '...', '...' ], [ '..', '..' ], [ '.', '.' ],
  [ "$T.", 'the token and a dot' ], [ "$T.x", 'the token and a fourth part' ], [ ".$T", 'a dot and the token' ],
  [ lc($T), 'the token lower-cased' ], [ 'eyJhbGciOiJIUzI1NiJ9', 'a header alone' ];
refused("$h64 .$p64.$sig", 'a space inside the token');
sub auth { $s->req(GET => '/token/me', headers => { Authorization => $_[0] }) }
bearer_401_ok(auth('Bearer '), 'Authorization: Bearer (empty)', undef);
bearer_401_ok(auth('Bearer'), 'Authorization: Bearer (no token)', undef);
bearer_401_ok(auth("Bearer $T $T"), 'Authorization: Bearer with two tokens', 1);
bearer_401_ok(auth("Bearer $T, Bearer $T"), 'Authorization: two Bearer credentials', 1);
bearer_401_ok(auth("Basic dXNlcjpwYXNzd29yZA=="), 'Authorization: Basic', undef);
bearer_401_ok(auth("Token $T"), 'Authorization: Token <valid token>', undef);
bearer_401_ok(auth("$T"), 'Authorization: <valid token> without a scheme', undef);
bearer_401_ok($s->req(GET => "/token/me?access_token=$T"), 'the token in the query string is not accepted', 0);

# --- huge tokens
refused($T . ('A' x 5000), 'a 5 KB token');
$r = auth('Bearer ' . ('A' x 8192));
ok($r->{status} == 401 || $r->{status} == 431 || $r->{status} == 400, 'an 8 KB Authorization header: 401 (or the web server\'s own 4xx), not 500')
  or diag "status $r->{status}";
bearer_401_ok($r, 'an 8 KB Authorization header (answered by Bulwark)', 1) if ref $r->{json} eq 'HASH';

# 64 KB straight to a worker over FastCGI, past the web server's limits
{
	my $sock = $s->{pool}[0]{sock};
	my $stream = fcgi_params(
		REQUEST_METHOD     => 'GET',
		REQUEST_URI        => '/token/me',
		SCRIPT_NAME        => '/token/me',
		PATH_INFO          => '',
		QUERY_STRING       => '',
		REMOTE_ADDR        => '127.0.0.1',
		SERVER_PROTOCOL    => 'HTTP/1.1',
		HTTP_AUTHORIZATION => 'Bearer ' . $T . ('A' x 65536),
	);
	my $req = fcgi_record(1, 1, pack('nCx5', 1, 0));
	$req .= fcgi_record(4, 1, substr($stream, $_ * 32768, 32768)) for 0 .. int((length($stream) - 1) / 32768);
	$req .= fcgi_record(4, 1, '') . fcgi_record(5, 1, '');
	local $SIG{PIPE} = 'IGNORE';
	my $c = IO::Socket::UNIX->new(Peer => $sock) or die "connect $sock: $!";
	syswrite($c, $req);
	my $sel = IO::Select->new($c);
	my ($buf, $end) = ('', time + 10);
	while (time < $end && $sel->can_read($end - time)) { last unless sysread($c, $buf, 65536, length $buf) }
	close $c;
	my $out = '';
	while (length $buf >= 8) {
		my (undef, $type, undef, $len, $pad) = unpack('CCnnC', $buf);
		last if length $buf < 8 + $len + $pad;
		$out .= substr($buf, 8, $len) if $type == 6;
		substr($buf, 0, 8 + $len + $pad, '');
	}
	like($out, qr/^Status: 401\b/m, 'a 64 KB Authorization straight over FastCGI: 401') or diag substr($out, 0, 300);
	like($out, qr/^WWW-Authenticate: Bearer realm="bulwark", error="invalid_token"\r?$/mi, '... with error="invalid_token"');
}

# --- nothing broke
is(me($T)->{status}, 200, 'the real token still works after all of it');
is_deeply([ $s->worker_pids ], \@workers, 'no worker died');
my @ie = $s->events(0, 'internal_error');
ok(!@ie, 'no internal_error logged') or diag explain \@ie;
$s->log_clean_ok('forgery');
done_testing;
