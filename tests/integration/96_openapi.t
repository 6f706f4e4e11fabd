# The contract in the repository matches the program: every route of the
# route table (fcgi/routes/table.c) is in docs/openapi.json and in the route
# table of docs/API.md, and nothing is documented that the router does not
# have; then real responses, through lighttpd and the workers, are
# validated against the document's schemas with JSON Schema 2020-12
# (/usr/bin/python3 with Debian's python3-jsonschema): a status the
# document does not list for the operation fails too.
use strict;
use warnings;
use Test::More;
use Cwd ();
use JSON::PP ();
use BulwarkTest;

my $root = Cwd::getcwd();
my $json = JSON::PP->new->canonical;
sub slurp { my ($f) = @_; open(my $fh, '<', $f) or die "$f: $!"; local $/; <$fh> }

# --- the route table, the OpenAPI document and API.md name the same routes
my %router;
my $table = slurp("$root/fcgi/routes/table.c");
$router{"$1 $2"} = 1 while $table =~ /\{\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(\/[^"]*)"/g;
ok(keys(%router) >= 15, scalar(keys %router) . ' routes in fcgi/routes/table.c');

my $doc = $json->decode(slurp("$root/docs/openapi.json"));
is($doc->{openapi}, '3.1.0', 'docs/openapi.json is OpenAPI 3.1');
my %documented;
for my $p (keys %{ $doc->{paths} }) {
	(my $route = $p) =~ s/\{(\w+)\}/:$1/g;
	for my $m (grep { /^(get|post|put|patch|delete)$/ } keys %{ $doc->{paths}{$p} }) {
		$documented{ uc($m) . " $route" } = 1;
	}
}
my %api_md;
for my $line (split /\n/, slurp("$root/docs/API.md")) {
	next unless $line =~ /^\|\s*((?:GET|POST|PUT|PATCH|DELETE)(?:\s+or\s+(?:GET|POST|PUT|PATCH|DELETE))*)\s*\|\s*`?(\/[^\s|`]*)`?\s*\|/;
	my $path = $2;
	$api_md{"$_ $path"} = 1 for split /\s+or\s+/, $1;
}
for my $r (sort keys %router) {
	ok($documented{$r}, "the router's $r is in docs/openapi.json");
	ok($api_md{$r}, "the router's $r is in docs/API.md's route table");
}
for my $r (sort keys %documented) {
	ok($router{$r}, "docs/openapi.json's $r is a route of the router");
}
for my $r (sort keys %api_md) {
	ok($router{$r}, "docs/API.md's $r is a route of the router");
}

# every $ref resolves
my @refs = (slurp("$root/docs/openapi.json") =~ /"\$ref":\s*"#\/components\/schemas\/(\w+)"/g);
my %missing = map { $_ => 1 } grep { !$doc->{components}{schemas}{$_} } @refs;
is_deeply([ sort keys %missing ], [], 'every schema $ref resolves');

# --- real responses against the schemas
my $s = start_stack(workers => 2, env => { BULWARK_PUBLIC_URL => 'http://localhost:3000' });
my @samples;
sub sample {
	my ($r, $method, $path, $name) = @_;
	if (ref $r->{json} ne 'HASH') {
		fail("$name: a JSON object body") or diag substr($r->{body} // '', 0, 200);
		return $r;
	}
	push @samples, { method => $method, path => $path, status => $r->{status}, body => $r->{json}, name => $name };
	return $r;
}

my ($email, $pw) = (unique_email('oas'), unique_password());
my $c = $s->client;
sample($s->req(GET => '/health'), GET => '/health', 'health');
sample($c->req(POST => '/signup', body => { email => $email, password => $pw }), POST => '/signup', 'signup 201');
$s->secret($pw);
sample($s->req(POST => '/signup', body => { email => $email, password => $pw }), POST => '/signup', 'signup 409');
sample($s->req(POST => '/signup', body => { email => 'nope', password => 'x' }), POST => '/signup', 'signup 400');
sample($s->req(POST => '/signup', body => '{"email":', content_type => 'application/json'), POST => '/signup', 'signup 400 malformed');
sample($s->req(POST => '/signup', body => 'a=b', content_type => 'text/plain'), POST => '/signup', 'signup 415');
sample($s->req(POST => '/signup', body => 'x' x 70000), POST => '/signup', 'signup 413');
sample($c->req(GET => '/me'), GET => '/me', 'me 200');
sample($s->req(GET => '/me'), GET => '/me', 'me 401');
sample($c->req(POST => '/logout', csrf => 0), POST => '/logout', 'logout 403 csrf');
sample($c->req(POST => '/logout', csrf => 1, headers => { Origin => 'http://evil.example' }), POST => '/logout', 'logout 403 origin');
sample($c->req(POST => '/logout', csrf => 1), POST => '/logout', 'logout 200');
sample($s->req(POST => '/logout'), POST => '/logout', 'logout 401');
my $l = $s->login($email, $pw);
my $uid = $l->res->{json}{user}{id};
sample($l->res, POST => '/login', 'login 200');
sample($s->req(POST => '/login', body => { email => $email, password => 'wrong-password' }), POST => '/login', 'login 401');
sample($s->req(POST => '/login', body => { email => $email }), POST => '/login', 'login 400');
sample($l->req(GET => '/users'), GET => '/users', 'users 403');

my ($aemail, $apw) = (unique_email('oasadm'), unique_password());
$s->secret($apw);
add_user($aemail, $apw, 1);
my $admin = $s->login($aemail, $apw);
sample($admin->req(GET => '/users'), GET => '/users', 'users 200');
sample($admin->req(POST => "/users/$uid/unlock", csrf => 1), POST => '/users/{id}/unlock', 'unlock 200');
sample($admin->req(DELETE => '/users/not-a-uuid', csrf => 1), DELETE => '/users/{id}', 'delete 404');

my $t = $s->token_login($email, $pw);
sample($t, POST => '/token/login', 'token/login 200');
my $pair = $t->{json};
sample($s->token_login($email, 'wrong-password'), POST => '/token/login', 'token/login 401');
sample($s->req(GET => '/token/me', bearer => $pair->{accessToken}), GET => '/token/me', 'token/me 200');
sample($s->req(GET => '/token/me', bearer => 'garbage'), GET => '/token/me', 'token/me 401');
my $rf = $s->refresh($pair->{refreshToken});
sample($rf, POST => '/token/refresh', 'token/refresh 200');
sample($s->refresh($pair->{refreshToken}), POST => '/token/refresh', 'token/refresh 401 reuse');
$pair = $rf->{json};
sample($s->req(POST => '/token/logout', bearer => $pair->{accessToken}), POST => '/token/logout', 'token/logout 200');
sample($s->req(POST => '/token/logout'), POST => '/token/logout', 'token/logout 401');

sample($s->req(POST => '/forgot-password', body => { email => $email }), POST => '/forgot-password', 'forgot 200');
sample($s->req(POST => '/forgot-password', body => { email => 'x' }), POST => '/forgot-password', 'forgot 400');
sample($s->req(POST => '/reset-password', body => { token => 'nope', newPassword => unique_password() }), POST => '/reset-password', 'reset 400 token');
sample($s->req(POST => '/reset-password', body => { token => 'nope' }), POST => '/reset-password', 'reset 400 body');
my $tok = $s->reset_token($email, 'for the 200');
my $pw2 = unique_password();
$s->secret($pw2);
sample($s->req(POST => '/reset-password', body => { token => $tok, newPassword => $pw2 }), POST => '/reset-password', 'reset 200');

my $l2 = $s->login($email, $pw2);
sample($l2->change_password('wrong-password', unique_password()), POST => '/me/password', 'me/password 401');
my $pw3 = unique_password();
sample($l2->change_password($pw2, $pw3), POST => '/me/password', 'me/password 200 session');
my $p3 = $s->token_pair($email, $pw3, 'for /me/password');
$s->secret(my $pw4 = unique_password());
sample($s->req(POST => '/me/password', bearer => $p3->{accessToken}, body => { currentPassword => $pw3, newPassword => $pw4 }),
	POST => '/me/password', 'me/password 200 bearer');

# The routes of two-factor, email verification and sessions, once the router
# has them: what the contract itself says they answer.
my $nine = $s->signup(unique_email("oas9"), unique_password());
if ($router{'POST /me/2fa/enable'}) {
	sample($nine->req(POST => '/me/2fa/enable', csrf => 1), POST => '/me/2fa/enable', '2fa/enable (no data key: 503)');
}
if ($router{'POST /me/2fa/verify'}) {
	sample($nine->req(POST => '/me/2fa/verify', csrf => 1, body => { code => '000000' }), POST => '/me/2fa/verify', '2fa/verify wrong code');
}
if ($router{'POST /me/2fa/disable'}) {
	sample($nine->req(POST => '/me/2fa/disable', csrf => 1, body => { password => 'wrong-password', code => '000000' }), POST => '/me/2fa/disable',
		'2fa/disable wrong password');
}
if ($router{'GET /verify-email'}) {
	sample($s->req(GET => '/verify-email?token=nope'), GET => '/verify-email', 'verify-email GET bad token');
}
if ($router{'POST /verify-email'}) {
	sample($s->req(POST => '/verify-email', body => { token => 'nope' }), POST => '/verify-email', 'verify-email POST bad token');
}
if ($router{'POST /verify-email/resend'}) {
	sample($nine->req(POST => '/verify-email/resend', csrf => 1), POST => '/verify-email/resend', 'verify-email/resend');
}
if ($router{'GET /me/sessions'}) {
	sample($nine->req(GET => '/me/sessions'), GET => '/me/sessions', 'me/sessions');
}
if ($router{'DELETE /me/sessions/:id'}) {
	sample($nine->req(DELETE => '/me/sessions/0d7a4c4e-0000-4000-8000-000000000000', csrf => 1), DELETE => '/me/sessions/{id}', 'me/sessions/:id unknown');
}
sample($admin->req(DELETE => "/users/$uid", csrf => 1), DELETE => '/users/{id}', 'delete 200');

# the shared answers: 404 and 405 against the Error schema
for my $x ([ GET => '/nowhere', 404 ], [ GET => '/logout', 405 ]) {
	my $r = $s->req($x->[0] => $x->[1]);
	is($r->{status}, $x->[2], "$x->[0] $x->[1]: $x->[2]");
	is_deeply([ sort keys %{ $r->{json} || {} } ], ['error'], '  {"error": ...}, as components/schemas/Error');
}

# every route of the router got at least one sample
my %sampled = map { my $p = $_->{path} =~ s/\{(\w+)\}/:$1/gr; ("$_->{method} $p" => 1) } @samples;
for my $r (sort keys %router) {
	ok($sampled{$r}, "a real response of $r is validated");
}

my $file = $s->dir . '/samples.jsonl';
write_file($file, join('', map { my %x = %$_; delete $x{name}; $json->encode(\%x) . "\n" } @samples), 0644);
my $v = run_cmd(cmd => [ '/usr/bin/python3', "$root/tests/lib/openapi_validate.py", "$root/docs/openapi.json", $file ], timeout => 60);
is($v->{exit}, 0, 'the validator ran') or diag $v->{err};
my @res = map { $json->decode($_) } grep { /\S/ } split /\n/, $v->{out} // '';
is(scalar @res, scalar @samples, 'one verdict per sample');
for my $x (@res) {
	my $smp = $samples[ $x->{i} ];
	ok($x->{ok}, "$smp->{name}: $smp->{method} $smp->{path} $smp->{status} matches docs/openapi.json") or diag $x->{why} . " body: " . $json->encode($smp->{body});
}
# the validator is not a rubber stamp
write_file($file, $json->encode({ method => 'GET', path => '/me', status => 200, body => { user => { id => 'x' } } }) . "\n"
	  . $json->encode({ method => 'GET', path => '/me', status => 418, body => { error => 'x' } }) . "\n", 0644);
$v = run_cmd(cmd => [ '/usr/bin/python3', "$root/tests/lib/openapi_validate.py", "$root/docs/openapi.json", $file ], timeout => 60);
@res = map { $json->decode($_) } grep { /\S/ } split /\n/, $v->{out} // '';
ok(@res == 2 && !$res[0]{ok} && !$res[1]{ok}, 'a wrong body and an undocumented status are both refused') or diag $v->{out};

$s->log_clean_ok;
done_testing;
