# Login rate limits (API.md "Login", steps 1 and 2) with the contract's
# defaults: 20 attempts per IP and 5 per email per 60-second window, every
# attempt counted, held in bulwark.rate_limits under the keys
# login:ip:<ip> and login:email:<email>.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use BulwarkTest;

my $TOO_MANY = 'Too many login attempts. Try again later.';
my $INVALID  = 'Invalid email or password';
my $IP       = '127.0.0.1';

my $s = start_stack(workers => 2, env => { %CONTRACT_LOGIN_LIMITS });

# Every email this file uses: reset_counters(@mine) clears their lockout rows.
my @mine;
sub my_email { my $e = unique_email($_[0]); push @mine, $e; $e }
sub user { my ($e, $p) = $s->new_user($_[0]); push @mine, $e; return ($e, $p) }

# --- per email: five attempts, the sixth refused before the password check
my ($email, $pw) = user('rlemail');
reset_counters(@mine);
my $mark = $s->log_mark;
# Every spelling of the address is one key (trimmed and lower-cased first).
my @spell = ($email, $email, " \t" . uc($email) . ' ', $email, ucfirst($email), "  $email");
my @r = map { $s->login($spell[$_], "$pw-wrong-$_")->res } 0 .. 5;
is_deeply([ map { $_->{status} } @r ], [ (401) x 5, 429 ], 'six quick wrong logins for one email: 401 x5, then 429')
  or diag join ' ', map { $_->{status} } @r;
error_is($r[$_], 401, $INVALID, 'wrong login ' . ($_ + 1)) for 0 .. 4;
error_is($r[5], 429, $TOO_MANY, 'sixth login');
retry_after_ok($r[5], 1, 60, 'sixth login');
ok(!$r[5]{cookies}{session}, 'sixth login: no session cookie');
is(scalar($s->events($mark, 'login_failed', email => $email)), 5, 'five login_failed log lines, none for the sixth attempt');
my @rl = $s->events($mark, 'rate_limited', email => $email);
is(scalar @rl, 1, 'one rate_limited log line');
is($rl[0]{key}, 'email', 'rate_limited: key "email"');
is($rl[0]{ip}, $IP, 'rate_limited: ip 127.0.0.1');
is(lockout_failures($email), 5, 'the lockout count is 5: the sixth attempt never reached the password check');
is_deeply(rate_limit_keys('login:%'), [ "login:email:$email", "login:ip:$IP" ], 'rate-limit keys are login:email:<email> and login:ip:<ip>, nothing else');
is(rate_limit_count("login:email:$email"), 6, 'login:email:<email> counts all six attempts, the refused one too');
is(rate_limit_count("login:ip:$IP"), 6, 'login:ip:127.0.0.1 counts all six attempts');

# the right password during the block: still 429, still counted
$mark = $s->log_mark;
my $c = $s->login($email, $pw);
error_is($c->res, 429, $TOO_MANY, 'the right password while the email is blocked');
retry_after_ok($c->res, 1, 60, 'the right password while the email is blocked');
ok(!$c->session, 'no session cookie');
is(scalar($s->events($mark, 'login_success')), 0, 'no login_success logged');
is(scalar($s->events($mark, 'rate_limited', email => $email, key => 'email')), 1, 'a rate_limited line, key "email"');
is(rate_limit_count("login:email:$email"), 7, 'the refused right-password attempt counted too (7)');
is(lockout_failures($email), 5, 'and never reached the password check');

# --- per IP: twenty attempts across twenty emails, the 21st refused
my ($ipuser, $ippw) = user('rlipuser');
reset_counters(@mine);
my @emails = map { my_email('rlip') } 1 .. 21;
$mark = $s->log_mark;
@r = map { $s->login($_, unique_password())->res } @emails;
is_deeply([ map { $_->{status} } @r ], [ (401) x 20, 429 ], '21 logins from one IP across 21 emails: 401 x20, then 429')
  or diag join ' ', map { $_->{status} } @r;
error_is($r[19], 401, $INVALID, '20th login');
error_is($r[20], 429, $TOO_MANY, '21st login');
retry_after_ok($r[20], 1, 60, '21st login');
@rl = $s->events($mark, 'rate_limited');
is(scalar @rl, 1, 'one rate_limited log line');
is($rl[0]{key}, 'ip', 'rate_limited: key "ip"');
is($rl[0]{ip}, $IP, 'rate_limited: ip 127.0.0.1');
is($rl[0]{email}, $emails[20], 'rate_limited: the 21st email');
is(scalar(grep { my $e = $_->{email} // ''; grep { $_ eq $e } @emails } $s->events($mark, 'login_failed')), 20,
	'20 login_failed lines for those emails');
is(scalar($s->events($mark, 'login_failed', email => $emails[20])), 0, 'none for the 21st');
is(rate_limit_count("login:ip:$IP"), 21, 'login:ip:127.0.0.1 is 21');
is(rate_limit_count("login:email:$emails[$_]"), 1, "login:email:<email " . ($_ + 1) . '> is 1') for 0, 19;
is(rate_limit_count("login:email:$emails[20]"), undef, 'refused by the IP limit: the 21st email is not counted (the IP is checked first)');

# the right password of a real account during the IP block
$mark = $s->log_mark;
$c = $s->login($ipuser, $ippw);
error_is($c->res, 429, $TOO_MANY, 'the right password from a blocked IP');
retry_after_ok($c->res, 1, 60, 'the right password from a blocked IP');
ok(!$c->session, 'no session cookie');
@rl = $s->events($mark, 'rate_limited');
is(scalar(@rl), 1, 'a rate_limited line');
is($rl[0]{key} // '', 'ip', 'key "ip"');
is(scalar($s->events($mark, 'login_success')), 0, 'no login_success logged');
is(rate_limit_count("login:ip:$IP"), 22, 'the attempt counted (22)');

# --- a short window: once it has passed, logins are allowed again
$s->restart_workers(env => { BULWARK_LOGIN_WINDOW => 2 });
my ($we, $wp) = user('rlwindow');
reset_counters(@mine);
my $t0 = time;
@r = map { $s->login($we, "$wp-wrong-$_")->res } 1 .. 6;
is_deeply([ map { $_->{status} } @r ], [ (401) x 5, 429 ], 'window 2 s: 401 x5, then 429') or diag join ' ', map { $_->{status} } @r;
retry_after_ok($r[5], 1, 2, 'window 2 s: the 429');
$c = $s->login($we, $wp);
is($c->res->{status}, 429, 'still blocked within the window (right password)');
sleep(0.05) while time < $t0 + 2.4;
$c = $s->login($we, $wp);
is($c->res->{status}, 200, 'after the window the right password logs in');
ok($c->session, 'with a session cookie');
is(rate_limit_count("login:email:$we"), 1, 'a new window: login:email count back to 1');
is(rate_limit_count("login:ip:$IP"), 1, 'and login:ip count back to 1');
is($s->login($we, "$wp-wrong")->res->{status}, 401, 'a wrong password is a plain 401 again');

# --- expired windows are cleaned by the counting statement, no daemon
reset_counters(@mine);
my @expired = map { "test:expired:$$:$_" } 1 .. 3;
psql("INSERT INTO bulwark.rate_limits (key, window_start, expires_at, count) VALUES "
	  . join(', ', map { '(' . q_lit($_) . q{, now() - interval '2 minutes', now() - interval '1 minute', 7)} } @expired));
my $live = "test:live:$$";
psql('INSERT INTO bulwark.rate_limits (key, window_start, expires_at, count) VALUES ('
	  . q_lit($live) . q{, now(), now() + interval '1 hour', 3)});
sub remaining { psql_one('SELECT count(*) FROM bulwark.rate_limits WHERE key IN (' . join(', ', map { q_lit($_) } @expired) . ')') }
$s->req(GET => '/health');
sleep 0.3;
is(remaining(), 3, 'expired rows stay while nothing counts a hit (no background sweeper)');
is($s->login(my_email('rlgc'), 'whatever-password')->res->{status}, 401, 'one login');
is(remaining(), 0, 'the login removed the expired rows of other keys');
is(rate_limit_count($live), 3, 'a live row of another key is untouched');
psql('DELETE FROM bulwark.rate_limits WHERE key = ' . q_lit($live));

reset_counters(@mine);
$s->log_clean_ok('rate limits');
done_testing;
