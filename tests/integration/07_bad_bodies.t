# Hostile bodies: size, content type, JSON syntax and shape, NUL bytes, UTF-8.
# Each one is refused, changes nothing and kills no worker.
use strict;
use warnings;
use Test::More;
use BulwarkTest;

my $s = start_stack(workers => 2);
my @workers = $s->worker_pids;
is(scalar @workers, 2, 'two workers') or diag "@workers";

my $users_before = psql_one('SELECT count(*) FROM bulwark.users');
my $pw = unique_password();

sub email_count { psql_one('SELECT count(*) FROM bulwark.users WHERE email = ' . q_lit($_[0])) }
sub json_body {
	my ($e, $p, $extra) = @_;
	return JSON::PP->new->canonical->utf8->encode({ email => $e, password => $p, %{ $extra || {} } });
}

sub refused {
	my ($r, $status, $name) = @_;
	is($r->{status}, $status, "$name: $status") or diag substr($r->{body} // '', 0, 200);
	ok(ref $r->{json} eq 'HASH' && defined $r->{json}{error} && !ref $r->{json}{error}, "$name: an error message");
	ok(!$r->{cookies}{session}, "$name: no session cookie");
	common_ok($r, $name);
}

# --- size: the app, not lighttpd, answers 413
my $e = unique_email('big');
my $big = json_body($e, $pw, { pad => 'x' x (100 * 1024) });
refused($s->req(POST => '/signup', body => $big), 413, 'signup, 100 KiB body');
refused($s->req(POST => '/signup', body => $big, chunked => 1), 413, 'signup, 100 KiB chunked body');
refused($s->req(POST => '/login', body => json_body($e, 'p' x (100 * 1024))), 413, 'login, 100 KiB body');
is(email_count($e), 0, 'nothing created by the large bodies');

# --- content types
my $ce = unique_email('ctype');
my $ok_body = json_body($ce, $pw);
for my $ct ('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'application/jsonx',
	'application/json-patch+json', 'text/json', 'application', '')
{
	refused($s->req(POST => '/signup', body => $ok_body, content_type => $ct), 415, "signup, Content-Type '$ct'");
}
refused($s->req(POST => '/signup', body => $ok_body, content_type => undef), 415, 'signup, no Content-Type');
refused($s->req(POST => '/login', body => $ok_body, content_type => undef), 415, 'login, no Content-Type');
refused($s->req(POST => '/login', body => "email=$ce&password=$pw", content_type => 'application/x-www-form-urlencoded'), 415, 'login, a form');
is(email_count($ce), 0, 'nothing created by the wrong content types');

for my $ct ('application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON') {
	my $ok = unique_email('ctok');
	my $r = $s->req(POST => '/signup', body => json_body($ok, $pw), content_type => $ct);
	is($r->{status}, 201, "signup, Content-Type '$ct': accepted") or diag $r->{body};
}

# --- JSON syntax and shape (each case with its own email, so that one
# wrongly accepted body does not hide the next)
my @bad_json = (
	[ sub { '' },                                     'an empty body' ],
	[ sub { ' ' },                                    'only whitespace' ],
	[ sub { '{' },                                    'an unclosed object' ],
	[ sub { qq({"email":"$_[0]","password":"$pw") },      'a missing brace' ],
	[ sub { qq({"email":"$_[0]","password":"$pw",}) },    'a trailing comma' ],
	[ sub { qq({'email':'$_[0]','password':'$pw'}) },     'single quotes' ],
	[ sub { qq({email:"$_[0]",password:"$pw"}) },         'unquoted keys' ],
	[ sub { qq({"email":"$_[0]","password":"$pw"} x) },   'trailing garbage' ],
	[ sub { qq({"email":"$_[0]","password":"$pw"}{}) },   'two objects' ],
	[ sub { qq({"email":"$_[0]","password":"$pw\x01"}) }, 'a raw control character (0x01) in a string' ],
	[ sub { qq({"email":"$_[0]","password":"$pw\t"}) },   'a raw tab in a string' ],
	[ sub { qq({"email":"$_[0]","password":"$pw\n"}) },   'a raw newline in a string' ],
	[ sub { '[]' },                                   'an array' ],
	[ sub { qq(["$_[0]","$pw"]) },                    'an array of strings' ],
	[ sub { qq("$_[0]") },                            'a string' ],
	[ sub { '42' },                                   'a number' ],
	[ sub { 'null' },                                 'null' ],
	[ sub { 'true' },                                 'true' ],
	[ sub { ('[' x 30000) . (']' x 30000) },          '30000 nested arrays' ],
	[ sub { ('{"a":' x 10000) . '1' . ('}' x 10000) }, '10000 nested objects' ],
	[ sub { qq({"email":"$_[0]","password":"$pw","x":) . ('[' x 20000) . (']' x 20000) . '}' }, 'deep nesting in an extra field' ],
	[ sub { qq({"email":"$_[0]","password":"\\x41$pw"}) }, 'an invalid escape' ],
	[ sub { qq({"email":"$_[0]","password":"\\u12"}) },   'a short \\u escape' ],
);
my @json_emails;
for my $case (@bad_json) {
	my ($make, $what) = @$case;
	my $je = unique_email('json');
	push @json_emails, $je;
	refused($s->req(POST => '/signup', body => $make->($je)), 400, "signup, $what");
}
is(psql_one('SELECT count(*) FROM bulwark.users WHERE email IN (' . join(',', map { q_lit($_) } @json_emails) . ')'), 0,
	'nothing created by the malformed JSON');
refused($s->req(POST => '/login', body => '{'), 400, 'login, malformed JSON');
refused($s->req(POST => '/login', body => '[]'), 400, 'login, an array');

# --- NUL bytes and invalid UTF-8
my $ne = unique_email('nul');
(my $ne_local = $ne) =~ s/\@.*//;
my @bad_bytes = (
	[ qq({"email":"$ne_local\0x\@example.com","password":"$pw"}), 'a raw NUL in the email' ],
	[ qq({"email":"$ne","password":"$pw\0tail"}),                 'a raw NUL in the password' ],
	[ qq({"email":"$ne","password":"$pw"}\0),                     'a raw NUL after the object' ],
	[ qq({"email":"$ne","password":"$pw"}\0{"email":"x"}),        'a NUL then more JSON' ],
	[ qq({"email":"$ne_local\\u0000\@example.com","password":"$pw"}), '\\u0000 in the email' ],
	[ qq({"email":"$ne","password":"$pw\\u0000tail"}),            '\\u0000 in the password' ],
	[ qq({"email":"$ne_local\xff\@example.com","password":"$pw"}), 'byte 0xff in the email' ],
	[ qq({"email":"$ne","password":"$pw\xc0\xaf"}),               'an overlong encoding in the password' ],
	[ qq({"email":"$ne","password":"$pw\xed\xa0\x80"}),           'an encoded surrogate in the password' ],
	[ qq({"email":"$ne","password":"$pw\xe2\x82"}),               'a truncated sequence in the password' ],
	[ qq({"email":"$ne","password":"$pw\xf8\x88\x80\x80\x80"}),   'a 5-byte sequence in the password' ],
	[ qq({"email":"$ne","password":"$pw\xf4\x90\x80\x80"}),       'a code point above U+10FFFF' ],
	[ qq({"email":"$ne\x80","password":"$pw"}),                   'a lone continuation byte' ],
	[ qq({"email":"$ne_local\\ud800\@example.com","password":"$pw"}), 'a lone surrogate escape in the email' ],
);
for my $case (@bad_bytes) {
	my ($body, $what) = @$case;
	refused($s->req(POST => '/signup', body => $body), 400, "signup, $what");
}
refused($s->req(POST => '/login', body => qq({"email":"$ne","password":"$pw\0"})), 400, 'login, a raw NUL');
refused($s->req(POST => '/login', body => qq({"email":"$ne","password":"$pw\xff"})), 400, 'login, invalid UTF-8');
refused($s->req(POST => '/login', body => qq({"email":"$ne","password":"$pw\\u0000"})), 400, 'login, \\u0000');
is(email_count($ne), 0, 'nothing created by the NUL bytes and bad UTF-8');
my $sample = psql_one(q{SELECT count(*) FROM bulwark.users WHERE email LIKE } . q_lit("$ne_local%"));
is($sample, 0, 'no variant of the email was stored either');

# Valid non-ASCII is fine.
my $ue = unique_email('utf8');
my $r = $s->req(POST => '/signup', body => { email => $ue, password => "p\x{e4}ssw\x{f6}rd-\x{1F600}-$$" });
is($r->{status}, 201, 'a password with non-ASCII characters (4-byte emoji included): 201');
is($s->login($ue, "p\x{e4}ssw\x{f6}rd-\x{1F600}-$$")->res->{status}, 200, 'and it logs in');
$r = $s->req(POST => '/signup', body => { email => $ue, password => "$pw\\u0041" });
is($r->{status}, 409, 'a valid body after all that still works (409 for the same email)');

is(psql_one('SELECT count(*) FROM bulwark.users'), $users_before + 3 + 1, 'only the valid requests created users (3 content types, 1 UTF-8)');

# --- BULWARK_MAX_BODY_BYTES is exact
my $t = start_stack(workers => 1, env => { BULWARK_MAX_BODY_BYTES => 1024 });
my $le = unique_email('limit');
my $body = json_body($le, $pw);
my $at   = $body . (' ' x (1024 - length $body));
is(length $at, 1024, 'a 1024-byte body (JSON padded with spaces)');
refused($t->req(POST => '/signup', body => $at . ' '), 413, 'BULWARK_MAX_BODY_BYTES=1024, 1025 bytes');
is(email_count($le), 0, 'not created');
$r = $t->req(POST => '/signup', body => $at);
is($r->{status}, 201, 'BULWARK_MAX_BODY_BYTES=1024, 1024 bytes: accepted') or diag $r->{body};
$t->stop;

# --- no worker died on the way
is_deeply([ $s->worker_pids ], \@workers, 'the same workers are alive after all the bad bodies');
is($s->req(GET => '/health')->{status}, 200, 'and they still answer');

$s->log_clean_ok('bad bodies');
done_testing;
