/*
 * request.c -- the request as the web server hands it over, and responses.
 *
 * Every string here is arena memory or points into FastCGI parameters that
 * live until FCGX_Finish_r: neither is kept past the request.  Every
 * response carries the security headers of the contract, a JSON body, and
 * a csrf_token cookie when the request came without one.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bulwark.h"

#define USER_AGENT_MAX 256
#define HEADERS_MAX 8192

static const char security_headers[] =
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: strict-origin-when-cross-origin\r\n"
    "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
    "Cache-Control: no-store\r\n";

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

int
request_init(struct request *req, FCGX_Request *fr, struct arena *a)
{
	const char *v, *pi, *sn;
	char *end;
	long n;

	memset(req, 0, sizeof *req);
	req->fcgi = fr;
	req->arena = a;
	req->status = 0;
	v = param(req, "REQUEST_METHOD");
	req->method = (v != NULL && *v != '\0') ? v : "GET";
	/* Mounted under a prefix the prefix is SCRIPT_NAME and the route is
	 * PATH_INFO; mounted at the root one of them holds the whole path. */
	pi = param(req, "PATH_INFO");
	sn = param(req, "SCRIPT_NAME");
	if (pi != NULL && *pi != '\0')
		req->path = pi;
	else if (sn != NULL && *sn != '\0')
		req->path = sn;
	else
		req->path = "/";
	v = param(req, "QUERY_STRING");
	req->query = v != NULL ? v : "";
	req->content_type = param(req, "CONTENT_TYPE");
	req->cookie_header = param(req, "HTTP_COOKIE");
	v = param(req, "HTTP_USER_AGENT");
	req->user_agent = sanitize(a, v != NULL ? v : "", USER_AGENT_MAX);
	req->content_length = -1;
	if ((v = param(req, "CONTENT_LENGTH")) != NULL && *v != '\0') {
		errno = 0;
		n = strtol(v, &end, 10);
		/* Digits only: no sign, no space.  A number past LONG_MAX is
		 * just too large (413), not malformed. */
		if (*v < '0' || *v > '9' || *end != '\0')
			req->content_length = -2;
		else
			req->content_length = errno == ERANGE ? LONG_MAX : n;
	}
	req->ip = client_ip(req);
	v = request_cookie(req, "csrf_token");
	req->csrf_cookie_present = v != NULL && token_well_formed(v);
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

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 ||
			    (l = hexval(s[i + 2])) < 0 || (h == 0 && l == 0))
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

int
response_header(struct request *req, const char *name, const char *value)
{
	char *h;

	/* Header values come from our own code; refuse CR/LF all the same. */
	if (strpbrk(value, "\r\n") != NULL)
		return -1;
	h = arena_printf(req->arena, "%s%s: %s\r\n",
	    req->extra_headers != NULL ? req->extra_headers : "", name, value);
	if (h == NULL)
		return -1;
	req->extra_headers = h;
	return 0;
}

int
response_cookie(struct request *req, const char *name, const char *value,
    long max_age, int http_only)
{
	char v[512];

	snprintf(v, sizeof v, "%s=%s; %sSameSite=Lax; Path=/; Max-Age=%ld%s",
	    name, value, http_only ? "HttpOnly; " : "", max_age,
	    cfg.cookie_secure ? "; Secure" : "");
	return response_header(req, "Set-Cookie", v);
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void
send_all(struct request *req, const char *head, size_t hlen, const char *body,
    size_t blen)
{
	/* FCGX_Finish_r sends what is buffered with the end of the request:
	 * an early flush would only cost the web server a second read. */
	if (FCGX_PutStr(head, (int)hlen, req->fcgi->out) != (int)hlen ||
	    FCGX_PutStr(body, (int)blen, req->fcgi->out) != (int)blen)
		/* The client or the web server went away: nothing to undo,
		 * the request's writes were already committed or not. */
		log_event("warning", "write_failed", LF_S("path", req->path),
		    LF_S("ip", req->ip));
}

void
respond(struct request *req, int status, json_object *obj)
{
	static const char oom_body[] = "{\"error\":\"Internal server error\"}";
	char head[HEADERS_MAX], tok[TOKEN_LEN + 1];
	const char *body;
	size_t blen;
	int n;

	if (req->responded) {
		json_object_put(obj);
		return;
	}
	req->responded = 1;
	if (!req->csrf_cookie_present && token_new(tok) == 0) {
		req->csrf_cookie_present = 1;
		response_cookie(req, "csrf_token", tok, 86400, 0);
	}
	body = obj != NULL ? json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	if (body == NULL) {
		status = 500;
		body = oom_body;
	}
	blen = strlen(body);
	n = snprintf(head, sizeof head,
	    "Status: %d %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "%s%s\r\n",
	    status, reason(status), blen, security_headers,
	    req->extra_headers != NULL ? req->extra_headers : "");
	if (n < 0 || (size_t)n >= sizeof head) {
		status = 500;
		body = oom_body;
		blen = strlen(body);
		n = snprintf(head, sizeof head,
		    "Status: 500 Internal Server Error\r\n"
		    "Content-Type: application/json; charset=utf-8\r\n"
		    "Content-Length: %zu\r\n%s\r\n", blen, security_headers);
	}
	req->status = status;
	send_all(req, head, (size_t)n, body, blen);
	json_object_put(obj);
}

void
respond_error(struct request *req, int status, const char *message)
{
	json_object *o = json_object_new_object();

	if (o != NULL)
		json_object_object_add(o, "error",
		    json_object_new_string(message));
	respond(req, status, o);
}

void
respond_unavailable(struct request *req)
{
	response_header(req, "Retry-After", "5");
	respond_error(req, 503, "Service unavailable");
}

void
respond_internal(struct request *req, const char *what)
{
	log_event("error", "internal_error", LF_S("what", what),
	    LF_S("path", req->path), LF_S("ip", req->ip));
	respond_error(req, 500, "Internal server error");
}

void
respond_db_error(struct request *req, enum db_status st, const char *what)
{
	if (st == DB_UNAVAILABLE)
		respond_unavailable(req);
	else
		respond_internal(req, what);
}
