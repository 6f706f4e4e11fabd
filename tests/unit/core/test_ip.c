/*
 * test_ip.c -- ip_client (REMOTE_ADDR, X-Forwarded-For, trusted proxies),
 * ip_list_parse's parsing of BULWARK_TRUSTED_PROXIES, and ip_limit_key.
 */
#include <stdlib.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/ip.h"
#include "tap.h"

static struct ip_list proxies;
static char err[256];

/* ip_client for a peer REMOTE_ADDR and an X-Forwarded-For value (either
 * may be NULL: absent), with the list set_proxies put in force. */
static const char *
ip_for(const char *remote, const char *xff)
{
	static char out[IP_TEXT_MAX];

	memset(out, 'X', sizeof out);
	return ip_client(remote, xff, &proxies, out);
}

static int
set_proxies(const char *list)
{
	memset(err, 0, sizeof err);
	return ip_list_parse(list, &proxies, err, sizeof err);
}

static const char *
limit_key(const char *ip)
{
	static char out[IP_TEXT_MAX];

	return ip_limit_key(ip, out);
}

static void
test_limit_key(void)
{
	is_str(limit_key("192.0.2.7"), "192.0.2.7", "an IPv4 key is the address");
	is_str(limit_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64",
	    "an IPv6 key is its /64");
	is_str(limit_key("2001:db8:1:2::9"), limit_key("2001:db8:1:2:ffff::1"),
	    "two addresses of one /64 share a key");
	is_str(limit_key("::1"), "::/64", "::1 is keyed by ::/64");
	is_str(limit_key("unknown"), "unknown", "anything else is kept as is");
}

static void
test_no_proxies(void)
{
	ok(set_proxies(NULL) == 0, "ip_list_parse with no proxies");
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
	{
		/* The dotted quad is written by hand: the same text as
		 * inet_ntop for every octet value. */
		char in[32], want[INET_ADDRSTRLEN];
		unsigned char b[4];
		int v, bad = 0;

		for (v = 0; v < 256; v++) {
			b[0] = (unsigned char)v;
			b[1] = (unsigned char)(255 - v);
			b[2] = (unsigned char)(v % 10);
			b[3] = (unsigned char)(v / 10 * 10);
			inet_ntop(AF_INET, b, want, sizeof want);
			snprintf(in, sizeof in, "%d.%d.%d.%d", b[0], b[1], b[2],
			    b[3]);
			if (strcmp(ip_for(in, NULL), want) != 0)
				bad++;
		}
		ok(bad == 0, "IPv4 text for octets 0..255 is inet_ntop's "
		    "(%d differ)", bad);
		is_str(ip_for("0.0.0.0", NULL), "0.0.0.0", "0.0.0.0");
		is_str(ip_for("255.255.255.255", NULL), "255.255.255.255",
		    "255.255.255.255");
		is_str(ip_for("010.001.0.9", NULL), "unknown",
		    "leading zeros are refused (inet_pton)");
	}
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
	ok(set_proxies("10.0.0.0/8, ::1") == 0, "ip_list_parse \"10.0.0.0/8, ::1\" "
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
test_list_parse(void)
{
	ok(set_proxies("10.0.0.0/33") == -1, "ip_list_parse rejects 10.0.0.0/33");
	ok(strstr(err, "BULWARK_TRUSTED_PROXIES") != NULL &&
	    strstr(err, "10.0.0.0/33") != NULL, "  naming the key and entry "
	    "(%s)", err);
	ok(set_proxies("abc") == -1, "ip_list_parse rejects abc");
	ok(set_proxies("1.2.3.4/") == -1, "ip_list_parse rejects 1.2.3.4/");
	ok(set_proxies("1.2.3.4/x") == -1, "ip_list_parse rejects 1.2.3.4/x");
	ok(set_proxies("1.2.3.4/-1") == -1, "ip_list_parse rejects 1.2.3.4/-1");
	ok(set_proxies("::1/129") == -1, "ip_list_parse rejects ::1/129");
	ok(set_proxies("10.0.0.0/8,abc") == -1,
	    "ip_list_parse rejects a bad second entry");
	ok(set_proxies("/8") == -1, "ip_list_parse rejects /8");
	ok(set_proxies("") == 0, "ip_list_parse accepts the empty list");
	ok(set_proxies(" , ,") == 0, "ip_list_parse accepts separators only");
	ok(set_proxies("10.0.0.0/8 192.168.0.0/16") == 0,
	    "ip_list_parse accepts space-separated entries");
	is_str(ip_for("192.168.3.4", "1.1.1.1"), "1.1.1.1",
	    "  the second space-separated entry is used");
	ok(set_proxies("1.2.3.4") == 0, "ip_list_parse accepts a bare address (/32)");
	is_str(ip_for("1.2.3.4", "1.1.1.1"), "1.1.1.1", "  which is trusted");
	is_str(ip_for("1.2.3.5", "1.1.1.1"), "1.2.3.5",
	    "  and its neighbour is not");

	/* Prefixes that do not end on a byte boundary. */
	ok(set_proxies("10.0.0.0/9") == 0, "ip_list_parse 10.0.0.0/9");
	is_str(ip_for("10.127.255.255", "1.1.1.1"), "1.1.1.1",
	    "10.127.255.255 is inside /9");
	is_str(ip_for("10.128.0.0", "1.1.1.1"), "10.128.0.0",
	    "10.128.0.0 is outside /9");

	ok(set_proxies("2001:db8:1:2::/64") == 0, "ip_list_parse 2001:db8:1:2::/64");
	is_str(ip_for("2001:db8:1:2:ffff:ffff:ffff:ffff", "1.1.1.1"), "1.1.1.1",
	    "IPv6 /64 match");
	is_str(ip_for("2001:db8:1:3::1", "1.1.1.1"), "2001:db8:1:3::1",
	    "IPv6 /64 non-match");
	is_str(ip_for("10.0.0.1", "1.1.1.1"), "10.0.0.1",
	    "an IPv4 peer never matches an IPv6 CIDR");
	ok(set_proxies("2001:db8::/33") == 0, "ip_list_parse 2001:db8::/33");
	is_str(ip_for("2001:db8:7fff::1", "1.1.1.1"), "1.1.1.1",
	    "IPv6 /33 match");
	is_str(ip_for("2001:db8:8000::1", "1.1.1.1"), "2001:db8:8000::1",
	    "IPv6 /33 non-match");
	ok(set_proxies("0.0.0.0/0") == 0, "ip_list_parse 0.0.0.0/0");
	is_str(ip_for("203.0.113.9", "2001:db8::7"), "2001:db8::7",
	    "/0 trusts every IPv4 peer (an IPv6 hop is the client)");
	is_str(ip_for("203.0.113.9", "1.1.1.1"), "203.0.113.9",
	    "  and every IPv4 hop: REMOTE_ADDR");
	is_str(ip_for("2001:db8::1", "1.1.1.1"), "2001:db8::1",
	    "  but no IPv6 peer");

	/* A refused list must not half-replace the one in force: the pool
	 * answers a bad SIGHUP reload with "keeping the running
	 * configuration", and workers it forks afterwards inherit it. */
	ok(set_proxies("10.0.0.0/8") == 0, "ip_list_parse 10.0.0.0/8");
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
	test_no_proxies();
	test_proxies();
	test_list_parse();
	test_limit_key();
	return done_testing();
}
