/*
 * test_conn.c -- fcgi_check (fcgi/cmd/conn.c): what may reach libfcgi.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "../tap.h"

static unsigned char buf[2 * FC_WINDOW];
static size_t len;

static void
rec(int type, int id, const void *content, size_t n)
{
	size_t pad = (8 - n % 8) % 8;

	buf[len++] = 1;
	buf[len++] = (unsigned char)type;
	buf[len++] = (unsigned char)(id >> 8);
	buf[len++] = (unsigned char)id;
	buf[len++] = (unsigned char)(n >> 8);
	buf[len++] = (unsigned char)n;
	buf[len++] = (unsigned char)pad;
	buf[len++] = 0;
	memcpy(buf + len, content, n);
	len += n;
	memset(buf + len, 0, pad);
	len += pad;
}

static void
begin(int id, int keep)
{
	unsigned char b[8] = { 0, 1, (unsigned char)(keep ? 1 : 0), 0, 0, 0,
	    0, 0 };

	rec(1, id, b, sizeof b);
}

/* One name-value pair into p; returns its length. */
static size_t
nv(unsigned char *p, unsigned long nl, unsigned long vl, const char *name,
    const char *value)
{
	size_t n = 0;
	unsigned long l[2] = { nl, vl };
	int k;

	for (k = 0; k < 2; k++) {
		if (l[k] < 128)
			p[n++] = (unsigned char)l[k];
		else {
			p[n++] = (unsigned char)(0x80 | l[k] >> 24);
			p[n++] = (unsigned char)(l[k] >> 16);
			p[n++] = (unsigned char)(l[k] >> 8);
			p[n++] = (unsigned char)l[k];
		}
	}
	if (name != NULL) {
		memcpy(p + n, name, strlen(name));
		n += strlen(name);
	}
	if (value != NULL) {
		memcpy(p + n, value, strlen(value));
		n += strlen(value);
	}
	return n;
}

static size_t
std_params(unsigned char *p)
{
	size_t n = 0;

	n += nv(p + n, 14, 3, "REQUEST_METHOD", "GET");
	n += nv(p + n, 11, 7, "SCRIPT_NAME", "/health");
	n += nv(p + n, 11, 9, "REMOTE_ADDR", "127.0.0.1");
	return n;
}

static int
check(struct fc_result *r)
{
	return fcgi_check(buf, len, r);
}

int
main(void)
{
	static unsigned char p[200000];
	struct fc_result r;
	size_t n, whole, i;

	/* A whole request: READY, keep as asked. */
	len = 0;
	begin(1, 1);
	n = std_params(p);
	rec(4, 1, p, n);
	rec(4, 1, "", 0);
	rec(5, 1, "", 0);
	whole = len;
	ok(check(&r) == FC_READY && r.keep == 1 && r.replies == 0,
	    "a whole request: ready, keep, nothing libfcgi answers by itself");
	for (i = 0; i < whole; i++) {
		len = i;
		if (check(&r) != FC_MORE || r.need <= i)
			break;
	}
	ok(i == whole, "every prefix of it: more, needing more than it has");
	len = 0;
	begin(1, 0);
	rec(4, 1, p, n);
	rec(4, 1, "", 0);
	rec(5, 1, "", 0);
	ok(check(&r) == FC_READY && r.keep == 0, "without FCGI_KEEP_CONN: keep 0");

	/* Parameters split across records, a pair cut in the middle. */
	len = 0;
	begin(1, 1);
	rec(4, 1, p, 5);
	rec(4, 1, p + 5, n - 5);
	rec(4, 1, "", 0);
	rec(5, 1, "{}", 2);
	rec(5, 1, "", 0);
	ok(check(&r) == FC_READY, "a pair split across PARAMS records is fine");

	/* The attack: lengths adding up to 2^31 - 2, refused at once. */
	len = 0;
	begin(1, 0);
	n = nv(p, 0x40000000UL, 0x3ffffffeUL, "abc", NULL);
	rec(4, 1, p, n);
	ok(check(&r) == FC_BAD, "a pair claiming 2^31 - 2 bytes: refused before "
	    "the stream ends");
	/* Lengths that fit FC_PARAMS_MAX but not the bytes sent. */
	len = 0;
	begin(1, 0);
	n = nv(p, 10, 100, "abcdefghij", "short");
	rec(4, 1, p, n);
	ok(check(&r) == FC_MORE, "a pair longer than what came so far: more");
	rec(4, 1, "", 0);
	ok(check(&r) == FC_BAD, "... and once PARAMS ends: refused");
	/* All parameters together past FC_PARAMS_MAX. */
	len = 0;
	begin(1, 0);
	for (i = 0; i < 3; i++) {
		unsigned char q[65535];
		size_t k = nv(q, 5, 60000, NULL, NULL);

		memset(q + k, 'x', 60005);
		rec(4, 1, q, k + 60005);
	}
	ok(check(&r) == FC_BAD, "parameters past %d KiB in all: refused",
	    FC_PARAMS_MAX / 1024);

	/* FCGI_GET_VALUES: three names are fine, four overflow libfcgi. */
	for (i = 3; i <= 4; i++) {
		size_t k;

		len = 0;
		for (n = 0, k = 0; k < i; k++)
			n += nv(p + n, 15, 0, "FCGI_MPXS_CONNS", NULL);
		rec(9, 0, p, n);
		begin(1, 0);
		n = std_params(p);
		rec(4, 1, p, n);
		rec(4, 1, "", 0);
		rec(5, 1, "", 0);
		ok(check(&r) == (i == 3 ? FC_READY : FC_BAD),
		    "FCGI_GET_VALUES with %zu names: %s", i,
		    i == 3 ? "taken" : "refused");
		if (i == 3)
			ok(r.replies == 1, "... and counted as a record libfcgi "
			    "answers (%d)", r.replies);
	}
	/* Any other management record, and one inside PARAMS. */
	len = 0;
	rec(42, 0, "xxxxxxxx", 8);
	ok(check(&r) == FC_BAD, "an unknown management record: refused");
	len = 0;
	begin(1, 0);
	rec(4, 1, p, 6);
	rec(11, 0, "QUERY", 5);
	ok(check(&r) == FC_BAD, "a management record inside PARAMS: refused");

	/* What libfcgi would not take either. */
	len = 0;
	rec(5, 1, "", 0);
	ok(check(&r) == FC_BAD, "STDIN before BEGIN_REQUEST: refused");
	len = 0;
	begin(1, 0);
	buf[0] = 2;
	ok(check(&r) == FC_BAD, "version 2: refused");
	len = 0;
	{
		unsigned char b[8] = { 0, 9, 0, 0, 0, 0, 0, 0 };

		rec(1, 1, b, 8);
	}
	ok(check(&r) == FC_BAD, "an unknown role: refused");
	len = 0;
	begin(1, 0);
	rec(5, 1, "x", 1);
	ok(check(&r) == FC_BAD, "STDIN before PARAMS ended: refused");

	/* Another request id's records are skipped, as libfcgi does. */
	len = 0;
	begin(1, 0);
	rec(4, 2, "zz", 2);
	n = std_params(p);
	rec(4, 1, p, n);
	rec(4, 1, "", 0);
	rec(5, 1, "", 0);
	ok(check(&r) == FC_READY && r.replies == 0,
	    "a record of another request id: skipped");
	len = 0;
	begin(1, 0);
	begin(2, 0);
	begin(3, 1);
	rec(4, 1, p, n);
	rec(4, 1, "", 0);
	rec(5, 1, "", 0);
	ok(check(&r) == FC_READY && r.replies == 2 && r.keep == 0,
	    "two BEGIN_REQUESTs of other ids: skipped, each answered by libfcgi "
	    "(%d), the first one's keep flag", r.replies);

	/* Bodies: up to 64 KiB waited for whole; longer goes on as LARGE. */
	len = 0;
	begin(1, 1);
	rec(4, 1, p, n);
	rec(4, 1, "", 0);
	memset(p + 1000, 'b', 70000);
	rec(5, 1, p + 1000, 32768);
	rec(5, 1, p + 1000, 32768);
	ok(check(&r) == FC_MORE, "a 64 KiB body not ended yet: more");
	rec(5, 1, "", 0);
	ok(check(&r) == FC_READY, "... ended: ready");
	len -= 8;
	rec(5, 1, p + 1000, 32768);
	ok(check(&r) == FC_LARGE, "a body past 64 KiB: large (params checked, "
	    "the rest unchecked)");

	/* Too many records. */
	len = 0;
	begin(1, 0);
	n = std_params(p);
	for (i = 0; i < FC_RECORDS_MAX; i++)
		rec(4, 1, p, 1);
	ok(check(&r) == FC_BAD, "more than %d records in the head: refused",
	    FC_RECORDS_MAX);
	return done_testing();
}
