# Header injection and link poisoning through /forgot-password (API.md
# "Input rules", "Mail": links are built on BULWARK_PUBLIC_URL). An email
# holding a line break (the JSON string "a@b.co\r\nBcc: x@y.z", with a real
# CR LF once decoded) or a second address is a 400 and queues nothing, so no
# message and no file; a request whose Host, X-Forwarded-Host or Forwarded
# names another site still gets a link on BULWARK_PUBLIC_URL, even from a
# trusted proxy; and the one message that does go out has one recipient.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $PUBLIC = 'https://auth.bulwark.test';
my $EVIL   = 'evil.example';

my $s = start_stack(workers => 2, env => { BULWARK_PUBLIC_URL => $PUBLIC, BULWARK_TRUSTED_PROXIES => '127.0.0.1/32' });
reset_counters();
my ($known, $pw, $uid) = $s->new_user('inject');
my $before = mail_queue_max_id();

# --- line breaks and extra addresses: 400, nothing queued
my @bad = (
	[ "a\@b.co\r\nBcc: x\@y.z"                 => 'the brief\'s CR LF Bcc' ],
	[ "$known\r\nBcc: attacker\@$EVIL"         => "a real user's email, CR LF, Bcc" ],
	[ "$known\nBcc: attacker\@$EVIL"           => 'LF alone' ],
	[ "$known\rBcc: attacker\@$EVIL"           => 'CR alone' ],
	[ "$known\r\nSubject: hello"               => 'CR LF and a header without a second @' ],
	[ "$known\r\n\r\nattacker text"            => 'CR LF CR LF and a body' ],
	[ "$known\r\n Bcc: attacker\@$EVIL"        => 'CR LF and folding whitespace' ],
	[ "$known\x{2028}Bcc: attacker\@$EVIL"     => 'U+2028 LINE SEPARATOR' ],
	[ "$known\x{85}Bcc: attacker\@$EVIL"       => 'U+0085 NEXT LINE' ],
	[ "attacker\@$EVIL, $known"                => 'two addresses, comma-separated' ],
	[ "$known;attacker\@$EVIL"                 => 'two addresses, semicolon-separated' ],
	[ "\"Boss\" <attacker\@$EVIL>"             => 'a display name and an address' ],
	[ "$known <attacker\@$EVIL>"               => 'an address and an angle-bracketed one' ],
	[ "$known%0d%0aBcc:attacker\@$EVIL"        => 'a percent-encoded CR LF' ],
);
for my $b (@bad) {
	my $r = $s->forgot($b->[0]);
	issues_ok($r, 'email', "/forgot-password, $b->[1]");
}
# a raw, unescaped CR LF inside the JSON string is not even JSON
my $r = $s->req(POST => '/forgot-password', body => qq({"email":"a\@b.co\r\nBcc: x\@y.z"}), content_type => 'application/json');
is($r->{status}, 400, '/forgot-password, a raw CR LF inside the JSON string: 400');
common_ok($r, '/forgot-password, a raw CR LF');

is(mail_queue_max_id(), $before, 'bulwark.mail_queue: not one row queued by those requests');
is(psql_one('SELECT count(*) FROM bulwark.reset_tokens WHERE user_id = ' . q_lit($uid)), 0, "bulwark.reset_tokens: no token for the real user's email");
is(psql_one(q{SELECT count(*) FROM bulwark.mail_queue WHERE to_addr ~ '[\r\n,;<>]' OR to_addr LIKE '%y.z%' OR to_addr LIKE '%} . $EVIL . q{%'}), 0,
	'bulwark.mail_queue: no address with a line break, a separator or the attacker\'s domain');

# a sentinel: a good request afterwards is mailed, and is the only message
my ($tok, $m) = $s->reset_token($known, 'sentinel');
sleep 0.3;
my @new = grep { /-([0-9]+)\./ && $1 > $before } $s->mail_names;
is_deeply(\@new, [ $m->{file} ], 'the mail directory got one file: the sentinel\'s, none for the refused requests') or diag "@new";
is(scalar(grep { $_->{id} > $before } mail_queue_rows($known)), 1, 'one row queued since, the sentinel');
is_deeply([ map { lc $_->[0] } grep { $_->[0] =~ /\A(to|cc|bcc)\z/i } @{ $m->{header_list} } ], ['to'], 'the sentinel has one recipient header, To');
is($m->{headers}{to}, $known, 'To: the address alone');
ok($m->{raw} !~ /\Q$EVIL\E|y\.z/, "the message names neither the attacker's domain nor x\@y.z");

# --- Host and forwarding headers do not move the link
my @poison = (
	[ { Host => $EVIL }                                               => 'Host' ],
	[ { Host => "$EVIL:443" }                                         => 'Host with a port' ],
	[ { 'X-Forwarded-Host' => $EVIL, 'X-Forwarded-Proto' => 'http' } => 'X-Forwarded-Host and -Proto' ],
	[ { Forwarded => "for=192.0.2.1;host=$EVIL;proto=http" }          => 'Forwarded: host=' ],
	[ { 'X-Forwarded-For' => '192.0.2.1', 'X-Forwarded-Host' => $EVIL, 'X-Forwarded-Server' => $EVIL, 'X-Host' => $EVIL,
		'X-Original-URL' => "https://$EVIL/", 'Origin' => "https://$EVIL", 'Referer' => "https://$EVIL/forgot" } => 'every forwarding header at once, from a trusted proxy' ],
);
for my $p (@poison) {
	my $after = mail_queue_max_id();
	my $x = $s->forgot($known, headers => $p->[0]);
	is($x->{status}, 200, "/forgot-password with $p->[1] naming $EVIL: 200");
	my ($pm) = $s->wait_mail(to => $known, reset => 1, after_id => $after);
	ok($pm, "$p->[1]: the message is sent");
	my $link = $pm ? $pm->{links}[0] // '' : '';
	like($link, qr{\A\Q$PUBLIC\E/reset-password\?token=[A-Za-z0-9_-]{43}\z}, "$p->[1]: the link is on BULWARK_PUBLIC_URL");
	ok($pm && $pm->{raw} !~ /\Q$EVIL\E/, "$p->[1]: the message does not name $EVIL");
}

$s->log_clean_ok('mail injection');
done_testing;
