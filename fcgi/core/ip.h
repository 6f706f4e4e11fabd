/*
 * core/ip.h -- the client's address, from plain strings.
 *
 * REMOTE_ADDR, unless the peer is one of BULWARK_TRUSTED_PROXIES: then the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy.  An
 * entry that is not an IP address ends the walk and REMOTE_ADDR is used, so
 * garbage in the header can never become a rate-limit key.  Addresses come
 * out in canonical form (IPv4-mapped IPv6 as IPv4), so one client has one
 * spelling.  Nothing here knows of a request.
 */
#ifndef CORE_IP_H
#define CORE_IP_H

#include <stddef.h>

#define IP_MAX_PROXIES 64
/* An address in text, or an IPv6 /64 key ("…/64"), with its NUL. */
#define IP_TEXT_MAX 64

struct ip_cidr {
	int family;
	unsigned char addr[16];
	int bits;
};

struct ip_list {
	struct ip_cidr cidr[IP_MAX_PROXIES];
	size_t n;
};

/* Parses a BULWARK_TRUSTED_PROXIES list (comma- or space-separated
 * addresses and CIDRs; NULL or "" is the empty list) into *out.  -1 with
 * err on a bad entry, and *out is untouched. */
int ip_list_parse(const char *text, struct ip_list *out, char *err,
    size_t errlen);
/* The client address for a peer `remote` (NULL: absent) that sent the
 * X-Forwarded-For value `forwarded` (NULL: none), believing only the peers
 * in `trusted`.  Written to out; "unknown" when remote is no address.
 * Returns out. */
const char *ip_client(const char *remote, const char *forwarded,
    const struct ip_list *trusted, char out[IP_TEXT_MAX]);
/* What per-IP limits count: ip itself for IPv4 (or anything that is not
 * an address), its /64 for IPv6 ("2001:db8:1:2::/64").  Written to out;
 * returns out. */
const char *ip_limit_key(const char *ip, char out[IP_TEXT_MAX]);

#endif
