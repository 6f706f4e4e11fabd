/*
 * http/request.c -- the request as the web server hands it over: CGI
 * parameters, cookies, the query string and the body.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/ip.h"
#include "core/utf8.h"
#include "http/http.h"

#define USER_AGENT_MAX 256

void
request_bound_io(int fd)
{
	struct timeval tv;

	tv.tv_sec = cfg.read_timeout;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static const char *
param(struct request *req, const char *name)
{
	return FCGX_GetParam(name, req->fcgi->envp);
}

const char *
request_header(struct request *req, const char *cgi_name)
{
	return param(req, cgi_name);
}

/* A copy of s that is valid UTF-8 without control characters, at most max
 * bytes: safe to store and log. */
static const char *
sanitize(struct arena *a, const char *s, size_t max)
{
	size_t n = strlen(s), i;
	char *out;

	if (n > max)
		n = max;
	while (n > 0 && !utf8_valid(s, n)) /* cut a split sequence */
		n--;
	if ((out = arena_strndup(a, s, n)) == NULL)
		return "";
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
	return out;
}

/* The CGI variables every request reads, found in one pass over the
 * parameters: FCGX_GetParam walks them all again for each name. */
enum { P_METHOD, P_PATH_INFO, P_SCRIPT_NAME, P_QUERY, P_CONTENT_TYPE,
	P_CONTENT_LENGTH, P_COOKIE, P_USER_AGENT, P_REMOTE_ADDR, P_XFF, P_N };

#define P_NAME(s) { (s), sizeof(s) - 1 }
static const struct {
	const char *name;
	size_t len;
} wanted[P_N] = {
	[P_METHOD] = P_NAME("REQUEST_METHOD"),
	[P_PATH_INFO] = P_NAME("PATH_INFO"),
	[P_SCRIPT_NAME] = P_NAME("SCRIPT_NAME"),
	[P_QUERY] = P_NAME("QUERY_STRING"),
	[P_CONTENT_TYPE] = P_NAME("CONTENT_TYPE"),
	[P_CONTENT_LENGTH] = P_NAME("CONTENT_LENGTH"),
	[P_COOKIE] = P_NAME("HTTP_COOKIE"),
	[P_USER_AGENT] = P_NAME("HTTP_USER_AGENT"),
	[P_REMOTE_ADDR] = P_NAME("REMOTE_ADDR"),
	[P_XFF] = P_NAME("HTTP_X_FORWARDED_FOR"),
};

/* v[k]: the value of wanted[k], or NULL; the first of a name wins, as
 * with FCGX_GetParam. */
static void
params_scan(char **envp, const char *v[P_N])
{
	char **e;
	size_t k, found = 0;

	for (k = 0; k < P_N; k++)
		v[k] = NULL;
	for (e = envp; e != NULL && *e != NULL && found < P_N; e++)
		for (k = 0; k < P_N; k++)
			if (v[k] == NULL && (*e)[0] == wanted[k].name[0] &&
			    strncmp(*e, wanted[k].name, wanted[k].len) == 0 &&
			    (*e)[wanted[k].len] == '=') {
				v[k] = *e + wanted[k].len + 1;
				found++;
				break;
			}
}

int
request_init(struct request *req, FCGX_Request *fr, struct arena *a)
{
	const char *p[P_N], *v;
	char *end, ip[IP_TEXT_MAX];
	long n;

	memset(req, 0, sizeof *req);
	req->fcgi = fr;
	req->arena = a;
	req->status = 0;
	params_scan(fr->envp, p);
	v = p[P_METHOD];
	req->method = (v != NULL && *v != '\0') ? v : "GET";
	/* Mounted under a prefix the prefix is SCRIPT_NAME and the route is
	 * PATH_INFO; mounted at the root one of them holds the whole path. */
	if (p[P_PATH_INFO] != NULL && *p[P_PATH_INFO] != '\0')
		req->path = p[P_PATH_INFO];
	else if (p[P_SCRIPT_NAME] != NULL && *p[P_SCRIPT_NAME] != '\0')
		req->path = p[P_SCRIPT_NAME];
	else
		req->path = "/";
	req->query = p[P_QUERY] != NULL ? p[P_QUERY] : "";
	req->content_type = p[P_CONTENT_TYPE];
	req->cookie_header = p[P_COOKIE];
	v = p[P_USER_AGENT];
	req->user_agent = sanitize(a, v != NULL ? v : "", USER_AGENT_MAX);
	req->content_length = -1;
	if ((v = p[P_CONTENT_LENGTH]) != NULL && *v != '\0') {
		errno = 0;
		n = strtol(v, &end, 10);
		/* Digits only: no sign, no space.  A number past LONG_MAX is
		 * just too large (413), not malformed. */
		if (*v < '0' || *v > '9' || *end != '\0')
			req->content_length = -2;
		else
			req->content_length = errno == ERANGE ? LONG_MAX : n;
	}
	ip_client(p[P_REMOTE_ADDR], p[P_XFF], &cfg.proxies, ip);
	req->ip = arena_strdup(a, ip) ?: "unknown";
	req->csrf_cookie = v = request_cookie(req, "csrf_token");
	req->csrf_cookie_present = v != NULL && secret_text_valid(v);
	return 0;
}

const char *
request_cookie(struct request *req, const char *name)
{
	const char *p = req->cookie_header, *k, *val;
	size_t nlen = strlen(name), klen, vlen;

	if (p == NULL)
		return NULL;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		k = p;
		while (*p != '\0' && *p != '=' && *p != ';')
			p++;
		klen = (size_t)(p - k);
		while (klen > 0 && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
			klen--;
		if (*p != '=') /* a name without a value */
			continue;
		val = ++p;
		while (*p != '\0' && *p != ';')
			p++;
		vlen = (size_t)(p - val);
		while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
			vlen--;
		while (vlen > 0 && (*val == ' ' || *val == '\t')) {
			val++;
			vlen--;
		}
		if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
			val++;
			vlen -= 2;
		}
		/* The first cookie of a name wins: browsers send the most
		 * specific path first. */
		if (klen == nlen && memcmp(k, name, nlen) == 0)
			return arena_strndup(req->arena, val, vlen);
	}
	return NULL;
}

/* Percent-decodes s[0..n) into arena memory; NULL on a bad escape or an
 * encoded NUL. */
static char *
pct_decode(struct arena *a, const char *s, size_t n)
{
	char *out, *o;
	size_t i;
	int h, l;

	if ((out = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	for (i = 0, o = out; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%') {
			if (i + 2 >= n || (h = hex_digit(s[i + 1])) < 0 ||
			    (l = hex_digit(s[i + 2])) < 0 || (h == 0 && l == 0))
				return NULL;
			*o++ = (char)(h << 4 | l);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

const char *
request_query(struct request *req, const char *name)
{
	const char *p = req->query, *k, *eq;
	size_t nlen = strlen(name);

	while (*p != '\0') {
		k = p;
		while (*p != '\0' && *p != '&')
			p++;
		eq = memchr(k, '=', (size_t)(p - k));
		if (eq != NULL && (size_t)(eq - k) == nlen &&
		    memcmp(k, name, nlen) == 0)
			return pct_decode(req->arena, eq + 1,
			    (size_t)(p - eq - 1));
		if (*p == '&')
			p++;
	}
	return NULL;
}

int
request_read_body(struct request *req)
{
	long want = req->content_length;
	char *buf;
	int got, n;

	if (want == -2) {
		respond_error(req, 400, "Invalid Content-Length");
		return -1;
	}
	if (want > cfg.max_body_bytes) {
		respond_error(req, 413, "Request body too large");
		return -1;
	}
	if (want <= 0) {
		req->body = "";
		req->body_len = 0;
		return 0;
	}
	if ((buf = arena_alloc(req->arena, (size_t)want + 1)) == NULL) {
		respond_internal(req, "body allocation");
		return -1;
	}
	for (got = 0; got < want; got += n) {
		n = FCGX_GetStr(buf + got, (int)(want - got), req->fcgi->in);
		if (n <= 0)
			break;
	}
	if (got != want) {
		respond_error(req, 400, "Incomplete request body");
		return -1;
	}
	buf[got] = '\0';
	req->body = buf;
	req->body_len = (size_t)got;
	return 0;
}
