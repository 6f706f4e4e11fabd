/*
 * core/ip.c -- the client's address (see ip.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip.h"

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
ip_list_parse(const char *text, struct ip_list *out, char *err,
    size_t errlen)
{
	const char *p = text, *e, *slash;
	struct ip_cidr tmp[IP_MAX_PROXIES];
	struct ipaddr a;
	char *end;
	long bits;
	size_t n, ntmp = 0;

	/* Parsed into tmp and committed at the end: a refused list leaves
	 * *out untouched (a refused SIGHUP reload keeps the one in force). */
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
		if (ntmp == IP_MAX_PROXIES) {
			snprintf(err, errlen, "BULWARK_TRUSTED_PROXIES: more "
			    "than %d entries", IP_MAX_PROXIES);
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
	memcpy(out->cidr, tmp, ntmp * sizeof tmp[0]);
	out->n = ntmp;
	return 0;
}

static int
trusted(const struct ip_list *l, const struct ipaddr *a)
{
	const struct ip_cidr *c;
	size_t i;
	int full, rest;

	for (i = 0; i < l->n; i++) {
		c = &l->cidr[i];
		if (c->family != a->family)
			continue;
		full = c->bits / 8;
		rest = c->bits % 8;
		if (memcmp(c->addr, a->addr, (size_t)full) != 0)
			continue;
		if (rest != 0 && ((c->addr[full] ^ a->addr[full]) &
		    (0xff << (8 - rest)) & 0xff) != 0)
			continue;
		return 1;
	}
	return 0;
}

static const char *
format(const struct ipaddr *a, char out[IP_TEXT_MAX])
{
	size_t o = 0;
	int i;

	/* IPv4, on every request: the dotted quad by hand (glibc's
	 * inet_ntop goes through sprintf). */
	if (a->family == AF_INET) {
		for (i = 0; i < 4; i++) {
			unsigned v = a->addr[i];

			if (i > 0)
				out[o++] = '.';
			if (v >= 100)
				out[o++] = (char)('0' + v / 100);
			if (v >= 10)
				out[o++] = (char)('0' + v / 10 % 10);
			out[o++] = (char)('0' + v % 10);
		}
		out[o] = '\0';
		return out;
	}
	if (inet_ntop(a->family, a->addr, out, IP_TEXT_MAX) == NULL)
		snprintf(out, IP_TEXT_MAX, "unknown");
	return out;
}

const char *
ip_limit_key(const char *ip, char out[IP_TEXT_MAX])
{
	struct ipaddr a;
	char buf[INET6_ADDRSTRLEN];

	/* One IPv6 client holds a whole /64: key it by that, or the per-IP
	 * limits would not apply to IPv6 at all. */
	if (parse_ip(ip, strlen(ip), &a) < 0 || a.family != AF_INET6)
		goto as_is;
	memset(a.addr + 8, 0, 8);
	if (inet_ntop(AF_INET6, a.addr, buf, sizeof buf) == NULL)
		goto as_is;
	snprintf(out, IP_TEXT_MAX, "%s/64", buf);
	return out;
as_is:
	snprintf(out, IP_TEXT_MAX, "%s", ip);
	return out;
}

const char *
ip_client(const char *remote, const char *xff, const struct ip_list *list,
    char out[IP_TEXT_MAX])
{
	const char *end, *start, *seg;
	struct ipaddr peer, hop;
	size_t n;

	if (remote == NULL || parse_ip(remote, strlen(remote), &peer) < 0) {
		snprintf(out, IP_TEXT_MAX, "unknown");
		return out;
	}
	if (list->n == 0 || !trusted(list, &peer) || xff == NULL)
		return format(&peer, out);
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
			return format(&peer, out);
		if (!trusted(list, &hop))
			return format(&hop, out);
		if (start == xff)
			break;
		end = start - 1; /* the comma */
	}
	return format(&peer, out);
}
