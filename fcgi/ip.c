/*
 * ip.c -- the client's address.
 *
 * REMOTE_ADDR, unless the peer is one of BULWARK_TRUSTED_PROXIES: then the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy.  An
 * entry that is not an IP address ends the walk and REMOTE_ADDR is used, so
 * garbage in the header can never become a rate-limit key.  Addresses are
 * returned in canonical form (IPv4-mapped IPv6 as IPv4), so one client has
 * one spelling.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulwark.h"

#define MAX_PROXIES 64

struct cidr {
	int family;
	unsigned char addr[16];
	int bits;
};

static struct cidr proxies[MAX_PROXIES];
static size_t nproxies;

struct ipaddr {
	int family;
	unsigned char addr[16];
};

static int
parse_ip(const char *s, size_t n, struct ipaddr *out)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0,
			0, 0, 0, 0xff, 0xff };
		if (memcmp(out->addr, mapped, 12) == 0) {
			memmove(out->addr, out->addr + 12, 4);
			memset(out->addr + 4, 0, 12);
			out->family = AF_INET;
		} else
			out->family = AF_INET6;
		return 0;
	}
	return -1;
}

int
ip_init(const char *list, char *err, size_t errlen)
{
	const char *p = list, *e, *slash;
	struct cidr tmp[MAX_PROXIES];
	struct ipaddr a;
	char *end;
	long bits;
	size_t n, ntmp = 0;

	/* Parsed into tmp and committed at the end: a refused list leaves
	 * the one in force untouched (a refused SIGHUP reload). */
	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		e = p;
		while (*e != '\0' && *e != ',' && *e != ' ')
			e++;
		n = (size_t)(e - p);
		slash = memchr(p, '/', n);
		if (parse_ip(p, slash != NULL ? (size_t)(slash - p) : n,
		    &a) < 0)
			goto bad;
		bits = a.family == AF_INET ? 32 : 128;
		if (slash != NULL) {
			bits = strtol(slash + 1, &end, 10);
			if (end != e || end == slash + 1 || bits < 0 ||
			    bits > (a.family == AF_INET ? 32 : 128))
				goto bad;
		}
		if (ntmp == MAX_PROXIES) {
			snprintf(err, errlen, "BULWARK_TRUSTED_PROXIES: more "
			    "than %d entries", MAX_PROXIES);
			return -1;
		}
		tmp[ntmp].family = a.family;
		memcpy(tmp[ntmp].addr, a.addr, 16);
		tmp[ntmp].bits = (int)bits;
		ntmp++;
		p = e;
		continue;
bad:
		snprintf(err, errlen, "BULWARK_TRUSTED_PROXIES: '%.*s' is not "
		    "an address or CIDR", (int)(n > 64 ? 64 : n), p);
		return -1;
	}
	memcpy(proxies, tmp, ntmp * sizeof tmp[0]);
	nproxies = ntmp;
	return 0;
}

static int
trusted(const struct ipaddr *a)
{
	size_t i;
	int full, rest;

	for (i = 0; i < nproxies; i++) {
		if (proxies[i].family != a->family)
			continue;
		full = proxies[i].bits / 8;
		rest = proxies[i].bits % 8;
		if (memcmp(proxies[i].addr, a->addr, (size_t)full) != 0)
			continue;
		if (rest != 0 && ((proxies[i].addr[full] ^ a->addr[full]) &
		    (0xff << (8 - rest)) & 0xff) != 0)
			continue;
		return 1;
	}
	return 0;
}

static const char *
format(struct request *req, const struct ipaddr *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, a->addr, buf, sizeof buf) == NULL)
		return "unknown";
	return arena_strdup(req->arena, buf) ?: "unknown";
}

const char *
ip_limit_key(struct request *req)
{
	struct ipaddr a;
	char buf[INET6_ADDRSTRLEN];

	/* One IPv6 client holds a whole /64: key it by that, or the per-IP
	 * limits would not apply to IPv6 at all. */
	if (parse_ip(req->ip, strlen(req->ip), &a) < 0 || a.family != AF_INET6)
		return req->ip;
	memset(a.addr + 8, 0, 8);
	if (inet_ntop(AF_INET6, a.addr, buf, sizeof buf) == NULL)
		return req->ip;
	return arena_printf(req->arena, "%s/64", buf) ?: req->ip;
}

const char *
client_ip(struct request *req)
{
	const char *ra = request_header(req, "REMOTE_ADDR");
	const char *xff, *end, *start, *seg;
	struct ipaddr peer, hop;
	size_t n;

	if (ra == NULL || parse_ip(ra, strlen(ra), &peer) < 0)
		return "unknown";
	if (nproxies == 0 || !trusted(&peer))
		return format(req, &peer);
	xff = request_header(req, "HTTP_X_FORWARDED_FOR");
	if (xff == NULL)
		return format(req, &peer);
	/* Walk from the right: each hop was added by the one after it. */
	end = xff + strlen(xff);
	for (;;) {
		start = end;
		while (start > xff && start[-1] != ',')
			start--;
		seg = start;
		n = (size_t)(end - start);
		while (n > 0 && (*seg == ' ' || *seg == '\t')) {
			seg++;
			n--;
		}
		while (n > 0 && (seg[n - 1] == ' ' || seg[n - 1] == '\t'))
			n--;
		if (parse_ip(seg, n, &hop) < 0)
			return format(req, &peer);
		if (!trusted(&hop))
			return format(req, &hop);
		if (start == xff)
			break;
		end = start - 1; /* the comma */
	}
	return format(req, &peer);
}
