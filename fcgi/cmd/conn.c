/*
 * cmd/conn.c -- the check a worker makes on the bytes a FastCGI connection
 * has sent before libfcgi may read them.
 *
 * Debian 12's libfcgi (2.4.2) trusts the peer in three ways that let anyone
 * who reaches the socket kill or confuse a worker: ReadParams allocates each
 * name-value pair at the size the peer claims (two lengths of up to 2^31
 * that overflow an int when added; the failed allocation is an assertion,
 * so the worker aborts); the answer to FCGI_GET_VALUES is written into a
 * 64-byte stack buffer, one entry per name asked, with no bound; and the
 * content of a management record of any other type is handed to the stream
 * being read, so libfcgi would see parameters that no checker saw.
 *
 * So the worker peeks (MSG_PEEK: nothing is consumed) at what is pending
 * and fcgi_check reads it as libfcgi will: one BEGIN_REQUEST, the PARAMS
 * stream to its empty record, then the STDIN stream to its empty record.
 * Every name-value pair must fit inside the parameters actually sent, which
 * are at most FC_PARAMS_MAX bytes in all; FCGI_GET_VALUES may ask at most
 * three names; no other management record is taken.  Only a request that
 * passes is handed to FCGX_Accept_r, and then libfcgi reads nothing the
 * check has not read first -- unless the body is longer than 64 KiB (a
 * BULWARK_MAX_BODY_BYTES raised past its default), when the parameters are
 * checked but the rest of the body is read unchecked and the connection is
 * not kept after the request.
 */
#include <string.h>

#include "cmd/cmd.h"

#define FCGI_BEGIN_REQUEST 1
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_GET_VALUES 9
#define GET_VALUES_MAX 3 /* libfcgi's answer buffer holds three */
/* The STDIN stream checked whole: the default 64 KiB body and its record
 * headers.  Waiting for more could wait for ever: a Unix socket queues
 * about 200 KiB, so a sender of more blocks until someone reads. */
#define BODY_CHECK (68 * 1024)

static unsigned char params[FC_PARAMS_MAX]; /* the PARAMS stream, joined */

static int
bad(struct fc_result *r, const char *why)
{
	r->why = why;
	return FC_BAD;
}

/* Walks the name-value pairs of p[*from..n), and moves *from past the
 * last whole one (so that the next call goes on from there).  0 when every
 * pair lies inside p; with partial set, a pair cut off at the end is fine
 * as long as what it claims could still fit in FC_PARAMS_MAX.  -1
 * otherwise. */
static int
pairs_ok(const unsigned char *p, size_t n, int partial, size_t *from,
    int *count)
{
	size_t i = *from, len[2];
	int k;

	*count = 0;
	while (i < n) {
		for (k = 0; k < 2; k++) {
			if (i >= n)
				return partial ? 0 : -1;
			if (p[i] & 0x80) {
				if (n - i < 4)
					return partial ? 0 : -1;
				len[k] = (size_t)(p[i] & 0x7f) << 24 |
				    (size_t)p[i + 1] << 16 |
				    (size_t)p[i + 2] << 8 | p[i + 3];
				i += 4;
			} else
				len[k] = p[i++];
		}
		if (len[0] > FC_PARAMS_MAX || len[1] > FC_PARAMS_MAX - len[0])
			return -1;
		if (len[0] + len[1] > n - i)
			return partial ? 0 : -1;
		i += len[0] + len[1];
		*from = i;
		(*count)++;
	}
	return 0;
}

int
fcgi_check(const unsigned char *b, size_t n, struct fc_result *r)
{
	const unsigned char *c;
	size_t off = 0, plen = 0, pdone = 0, pend = 0, from, clen, rlen;
	int type, id, reqid = -1, nrec = 0, count, phase = 0;

	memset(r, 0, sizeof *r);
	for (;;) {
		rlen = 8;
		if (n - off >= 8)
			rlen += ((size_t)b[off + 4] << 8 | b[off + 5]) +
			    b[off + 6];
		/* A long body goes on unchecked; nothing else may. */
		if (phase == 2 && off + rlen - pend > BODY_CHECK)
			return FC_LARGE;
		if (n - off < rlen) {
			r->need = off + rlen;
			if (r->need <= FC_WINDOW)
				return FC_MORE;
			/* It cannot all be seen: a long body may go on
			 * unchecked, anything else may not. */
			return phase == 2 ? FC_LARGE : bad(r, "too large");
		}
		if (++nrec > FC_RECORDS_MAX)
			return phase == 2 ? FC_LARGE : bad(r, "too many records");
		if (b[off] != 1)
			return bad(r, "not FastCGI version 1");
		type = b[off + 1];
		id = b[off + 2] << 8 | b[off + 3];
		clen = rlen - 8 - b[off + 6];
		c = b + off + 8;
		if (id == 0) {
			if (type != FCGI_GET_VALUES)
				return bad(r, "management record");
			from = 0;
			if (pairs_ok(c, clen, 0, &from, &count) < 0 ||
			    count > GET_VALUES_MAX)
				return bad(r, "bad FCGI_GET_VALUES");
			r->replies++; /* libfcgi writes its answer */
		} else if (phase == 0) {
			if (type != FCGI_BEGIN_REQUEST || clen != 8)
				return bad(r, "no BEGIN_REQUEST");
			if ((c[0] << 8 | c[1]) < 1 || (c[0] << 8 | c[1]) > 3)
				return bad(r, "unknown role");
			r->keep = c[2] & 1;
			reqid = id;
			phase = 1;
		} else if (id != reqid) {
			/* Another request's record: libfcgi skips it, and
			 * answers a BEGIN_REQUEST with END_REQUEST. */
			if (type == FCGI_BEGIN_REQUEST)
				r->replies++;
		} else if (phase == 1) {
			if (type != FCGI_PARAMS)
				return bad(r, "record out of order");
			if (clen > FC_PARAMS_MAX - plen)
				return bad(r, "parameters too large");
			memcpy(params + plen, c, clen);
			plen += clen;
			if (pairs_ok(params, plen, clen > 0, &pdone, &count) < 0)
				return bad(r, "bad parameter length");
			if (clen == 0) {
				phase = 2;
				pend = off + rlen;
			}
		} else {
			if (type != FCGI_STDIN)
				return bad(r, "record out of order");
			if (clen == 0)
				return FC_READY;
		}
		off += rlen;
	}
}
