/*
 * test_ip.c -- client_ip (REMOTE_ADDR, X-Forwarded-For, trusted proxies)
 * and ip_init's parsing of BULWARK_TRUSTED_PROXIES.
 */
#include <stdlib.h>
#include <string.h>

#include "bulwark.h"
#include "tap.h"

static struct arena arena;
static char err[256];

/* client_ip for a fake request whose CGI parameters are REMOTE_ADDR and
 * HTTP_X_FORWARDED_FOR (either may be NULL: absent). */
static const char *
ip_for(const char *remote, const char *xff)
{
	static char ra[256], xf[1024];
	char *env[4];
	size_t n = 0;
	FCGX_Request fr;
	struct request req;

	if (remote != NULL) {
		snprintf(ra, sizeof ra, "REMOTE_ADDR=%s", remote);
		env[n++] = ra;
	}
	if (xff != NULL) {
		snprintf(xf, sizeof xf, "HTTP_X_FORWARDED_FOR=%s", xff);
		env[n++] = xf;
	}
	env[n] = NULL;
	memset(&fr, 0, sizeof fr);
	fr.envp = env;
	memset(&req, 0, sizeof req);
	req.fcgi = &fr;
	req.arena = &arena;
	return client_ip(&req);
}

static int
set_proxies(const char *list)
{
	free(cfg.trusted_proxies);
	cfg.trusted_proxies = list != NULL ? strdup(list) : NULL;
	memset(err, 0, sizeof err);
	return ip_init(cfg.trusted_proxies, err, sizeof err);
}

static void
test_no_proxies(void)
{
	ok(set_proxies(NULL) == 0, "ip_init with no proxies");
	is_str(ip_for("192.0.2.7", NULL), "192.0.2.7", "REMOTE_ADDR alone");
	is_str(ip_for("::FFFF:1.2.3.4", NULL), "1.2.3.4",
	    "IPv4-mapped IPv6 becomes IPv4");
	is_str(ip_for("::ffff:c000:0201", NULL), "192.0.2.1",
	    "IPv4-mapped in hex form becomes IPv4");
	is_str(ip_for("2001:DB8::1", NULL), "2001:db8::1",
	    "IPv6 lower-cased");
	is_str(ip_for("2001:0db8:0000:0000:0000:0000:0000:0001", NULL),
	    "2001:db8::1", "IPv6 zeros compressed");
	is_str(ip_for("::1", NULL), "::1", "IPv6 loopback");
	is_str(ip_for("garbage", NULL), "unknown", "garbage REMOTE_ADDR");
	is_str(ip_for("", NULL), "unknown", "empty REMOTE_ADDR");
	is_str(ip_for(NULL, NULL), "unknown", "no REMOTE_ADDR");
	is_str(ip_for("1.2.3.4:80", NULL), "unknown", "address with a port");
	is_str(ip_for("1.2.3.4 ", NULL), "unknown", "trailing space");
	is_str(ip_for("1.2.3", NULL), "unknown", "three-part IPv4");
	is_str(ip_for("256.1.1.1", NULL), "unknown", "octet out of range");
	is_str(ip_for("fe80::1%eth0", NULL), "unknown", "IPv6 with a zone");
	is_str(ip_for("10.0.0.1", "1.1.1.1"), "10.0.0.1",
	    "X-Forwarded-For ignored when no proxy is trusted");
}

static void
test_proxies(void)
{
	ok(set_proxies("10.0.0.0/8, ::1") == 0, "ip_init \"10.0.0.0/8, ::1\" "
	    "(%s)", err);
	is_str(ip_for("192.0.2.1", "1.1.1.1"), "192.0.2.1",
	    "X-Forwarded-For ignored from an untrusted peer");
	is_str(ip_for("11.0.0.1", "1.1.1.1"), "11.0.0.1",
	    "11.0.0.1 is outside 10.0.0.0/8");
	is_str(ip_for("10.1.2.3", "1.1.1.1"), "1.1.1.1",
	    "honoured from a trusted peer");
	is_str(ip_for("::1", "1.1.1.1"), "1.1.1.1",
	    "honoured from the trusted IPv6 peer ::1");
	is_str(ip_for("::2", "1.1.1.1"), "::2", "::2 is not trusted");
	is_str(ip_for("::ffff:10.0.0.9", "1.1.1.1"), "1.1.1.1",
	    "an IPv4-mapped peer matches the IPv4 CIDR");
	is_str(ip_for("10.1.2.3", NULL), "10.1.2.3",
	    "trusted peer without X-Forwarded-For: REMOTE_ADDR");
	is_str(ip_for("10.1.2.3", "1.1.1.1, 2.2.2.2, 10.0.0.5"), "2.2.2.2",
	    "multiple hops: the right-most untrusted entry");
	is_str(ip_for("10.1.2.3", "1.1.1.1, 2.2.2.2"), "2.2.2.2",
	    "the right-most entry, not the left-most");
	is_str(ip_for("10.1.2.3", "1.1.1.1, garbage, 10.0.0.5"), "10.1.2.3",
	    "a garbage entry ends the walk: REMOTE_ADDR");
	is_str(ip_for("10.1.2.3", "2.2.2.2, garbage"), "10.1.2.3",
	    "a garbage right-most entry: REMOTE_ADDR");
	is_str(ip_for("10.1.2.3", "1.1.1.1:4711"), "10.1.2.3",
	    "an entry with a port is garbage: REMOTE_ADDR");
	is_str(ip_for("10.1.2.3", "10.0.0.7, 10.9.9.9, ::1"), "10.1.2.3",
	    "an all-trusted chain: REMOTE_ADDR");
	is_str(ip_for("10.1.2.3", "   1.1.1.1  ,\t2.2.2.2\t, 10.0.0.5 "),
	    "2.2.2.2", "spaces and tabs around entries");
	is_str(ip_for("10.1.2.3", "1.1.1.1,2.2.2.2"), "2.2.2.2",
	    "no spaces at all");
	is_str(ip_for("10.1.2.3", ""), "10.1.2.3", "an empty header: REMOTE_ADDR");
	is_str(ip_for("10.1.2.3", "1.1.1.1,"), "10.1.2.3",
	    "a trailing comma (empty entry): REMOTE_ADDR");
	is_str(ip_for("10.1.2.3", "2001:DB8::5"), "2001:db8::5",
	    "an IPv6 entry is canonicalised");
	is_str(ip_for("10.1.2.3", "::FFFF:2.2.2.2"), "2.2.2.2",
	    "an IPv4-mapped entry becomes IPv4");
	is_str(ip_for("garbage", "1.1.1.1"), "unknown",
	    "garbage REMOTE_ADDR with X-Forwarded-For: unknown");
}

static void
test_ip_init(void)
{
	ok(set_proxies("10.0.0.0/33") == -1, "ip_init rejects 10.0.0.0/33");
	ok(strstr(err, "BULWARK_TRUSTED_PROXIES") != NULL &&
	    strstr(err, "10.0.0.0/33") != NULL, "  naming the key and entry "
	    "(%s)", err);
	ok(set_proxies("abc") == -1, "ip_init rejects abc");
	ok(set_proxies("1.2.3.4/") == -1, "ip_init rejects 1.2.3.4/");
	ok(set_proxies("1.2.3.4/x") == -1, "ip_init rejects 1.2.3.4/x");
	ok(set_proxies("1.2.3.4/-1") == -1, "ip_init rejects 1.2.3.4/-1");
	ok(set_proxies("::1/129") == -1, "ip_init rejects ::1/129");
	ok(set_proxies("10.0.0.0/8,abc") == -1,
	    "ip_init rejects a bad second entry");
	ok(set_proxies("/8") == -1, "ip_init rejects /8");
	ok(set_proxies("") == 0, "ip_init accepts the empty list");
	ok(set_proxies(" , ,") == 0, "ip_init accepts separators only");
	ok(set_proxies("10.0.0.0/8 192.168.0.0/16") == 0,
	    "ip_init accepts space-separated entries");
	is_str(ip_for("192.168.3.4", "1.1.1.1"), "1.1.1.1",
	    "  the second space-separated entry is used");
	ok(set_proxies("1.2.3.4") == 0, "ip_init accepts a bare address (/32)");
	is_str(ip_for("1.2.3.4", "1.1.1.1"), "1.1.1.1", "  which is trusted");
	is_str(ip_for("1.2.3.5", "1.1.1.1"), "1.2.3.5",
	    "  and its neighbour is not");

	/* Prefixes that do not end on a byte boundary. */
	ok(set_proxies("10.0.0.0/9") == 0, "ip_init 10.0.0.0/9");
	is_str(ip_for("10.127.255.255", "1.1.1.1"), "1.1.1.1",
	    "10.127.255.255 is inside /9");
	is_str(ip_for("10.128.0.0", "1.1.1.1"), "10.128.0.0",
	    "10.128.0.0 is outside /9");

	ok(set_proxies("2001:db8:1:2::/64") == 0, "ip_init 2001:db8:1:2::/64");
	is_str(ip_for("2001:db8:1:2:ffff:ffff:ffff:ffff", "1.1.1.1"), "1.1.1.1",
	    "IPv6 /64 match");
	is_str(ip_for("2001:db8:1:3::1", "1.1.1.1"), "2001:db8:1:3::1",
	    "IPv6 /64 non-match");
	is_str(ip_for("10.0.0.1", "1.1.1.1"), "10.0.0.1",
	    "an IPv4 peer never matches an IPv6 CIDR");
	ok(set_proxies("2001:db8::/33") == 0, "ip_init 2001:db8::/33");
	is_str(ip_for("2001:db8:7fff::1", "1.1.1.1"), "1.1.1.1",
	    "IPv6 /33 match");
	is_str(ip_for("2001:db8:8000::1", "1.1.1.1"), "2001:db8:8000::1",
	    "IPv6 /33 non-match");
	ok(set_proxies("0.0.0.0/0") == 0, "ip_init 0.0.0.0/0");
	is_str(ip_for("203.0.113.9", "2001:db8::7"), "2001:db8::7",
	    "/0 trusts every IPv4 peer (an IPv6 hop is the client)");
	is_str(ip_for("203.0.113.9", "1.1.1.1"), "203.0.113.9",
	    "  and every IPv4 hop: REMOTE_ADDR");
	is_str(ip_for("2001:db8::1", "1.1.1.1"), "2001:db8::1",
	    "  but no IPv6 peer");

	/* A refused list must not half-replace the one in force: the pool
	 * answers a bad SIGHUP reload with "keeping the running
	 * configuration", and workers it forks afterwards inherit this
	 * table. */
	ok(set_proxies("10.0.0.0/8") == 0, "ip_init 10.0.0.0/8");
	ok(set_proxies("192.168.0.0/16, abc") == -1,
	    "a later list with a bad entry is refused");
	is_str(ip_for("192.168.1.1", "1.1.1.1"), "192.168.1.1",
	    "  and its good entries are not in force");
	is_str(ip_for("10.0.0.1", "1.1.1.1"), "1.1.1.1",
	    "  the previous list still is");
}

int
main(void)
{
	arena_init(&arena, 1 << 20);
	test_no_proxies();
	test_proxies();
	test_ip_init();
	arena_free(&arena);
	free(cfg.trusted_proxies);
	cfg.trusted_proxies = NULL;
	return done_testing();
}
