/*
 * http/response.c -- the response: headers, cookies, and one JSON body.
 *
 * Every response carries the security headers of the contract, a JSON
 * body, and a csrf_token cookie when the request came without one.  A
 * handler states its fields in one respond_json call; an allocation that
 * fails anywhere on the way becomes one 500.
 */
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/utf8.h"
#include "http/http.h"

#define HEADERS_MAX 8192
#define RESPONSE_UNBOUNDED_MAX 8192

#define SECURITY_HEADERS                                                     \
    "X-Content-Type-Options: nosniff\r\n"                                  \
    "X-Frame-Options: DENY\r\n"                                            \
    "Referrer-Policy: strict-origin-when-cross-origin\r\n"                 \
    "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"   \
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n" \
    "Cache-Control: no-store\r\n"

/* A buffer in arena memory that grows as text is appended; bad once an
 * allocation failed (nothing more is appended then). */
struct out {
	struct arena *a;
	char *p;
	size_t len, cap;
	int bad;
};

/* Makes room for n more bytes and a NUL; 0, or -1 (bad) out of memory. */
static int
out_grow(struct out *o, size_t n)
{
	size_t cap = o->cap > 0 ? o->cap : 512;
	char *p;

	if (o->bad)
		return -1;
	while (cap - o->len <= n) {
		if (cap > ((size_t)-1) / 2) {
			o->bad = 1;
			return -1;
		}
		cap *= 2;
	}
	if ((p = arena_alloc(o->a, cap)) == NULL) {
		o->bad = 1;
		return -1;
	}
	if (o->len > 0)
		memcpy(p, o->p, o->len);
	o->p = p;
	o->cap = cap;
	return 0;
}

/* Appends n bytes; the text is NUL-ended by out_end, not here. */
static inline void
out_put(struct out *o, const char *s, size_t n)
{
	if (o->cap - o->len <= n && out_grow(o, n) < 0)
		return;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* The text so far, NUL-ended (out_put keeps room for it), or NULL. */
static char *
out_end(struct out *o)
{
	if (o->bad || (o->p == NULL && out_grow(o, 0) < 0))
		return NULL;
	o->p[o->len] = '\0';
	return o->p;
}

#define OUT_LIT(o, lit) out_put((o), (lit), sizeof(lit) - 1)

static void
out_cstr(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* v in decimal. */
static void
out_num(struct out *o, long long v)
{
	char tmp[24];
	unsigned long long u = v < 0 ? -(unsigned long long)v :
	    (unsigned long long)v;
	size_t i = sizeof tmp;

	do
		tmp[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		tmp[--i] = '-';
	out_put(o, tmp + i, sizeof tmp - i);
}

/* s as a JSON string, escaped as the log escapes (core/utf8.h), so an
 * answer is always valid UTF-8 JSON. */
static void
out_jstr(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k, used;
	char esc[JSON_UNIT_MAX];

	OUT_LIT(o, "\"");
	while (i < n) {
		if ((k = json_plain_len(p + i, n - i)) > 0) {
			out_put(o, s + i, k); /* a run of plain ASCII: one copy */
			i += k;
			continue;
		}
		k = json_escape_unit(p + i, n - i, esc, &used);
		out_put(o, esc, k);
		i += used;
	}
	OUT_LIT(o, "\"");
}

static void
out_fields(struct out *o, const struct json_field *f, size_t n)
{
	const char *t;
	size_t i;

	OUT_LIT(o, "{");
	for (i = 0; i < n; i++) {
		if (i > 0)
			OUT_LIT(o, ",");
		out_jstr(o, f[i].key);
		OUT_LIT(o, ":");
		switch (f[i].kind) {
		case JF_STR:
			if (f[i].str == NULL)
				OUT_LIT(o, "null");
			else
				out_jstr(o, f[i].str);
			break;
		case JF_BOOL:
			if (f[i].num)
				OUT_LIT(o, "true");
			else
				OUT_LIT(o, "false");
			break;
		case JF_INT:
			out_num(o, f[i].num);
			break;
		case JF_FIELDS:
			out_fields(o, f[i].sub, (size_t)f[i].num);
			break;
		case JF_RAW:
			if (f[i].str == NULL || f[i].str[0] == '\0')
				o->bad = 1;
			else
				out_cstr(o, f[i].str);
			break;
		default: /* JF_OBJ */
			t = f[i].obj == NULL ? NULL :
			    json_object_to_json_string_ext(f[i].obj,
			    JSON_C_TO_STRING_PLAIN |
			    JSON_C_TO_STRING_NOSLASHESCAPE);
			if (t == NULL)
				o->bad = 1;
			else
				out_cstr(o, t);
			break;
		}
	}
	OUT_LIT(o, "}");
}

char *
json_fields_text(struct arena *a, const struct json_field *f, size_t n,
    size_t *len)
{
	struct out o = { a, NULL, 0, 0, 0 };

	out_fields(&o, f, n);
	*len = o.len;
	return out_end(&o);
}

/* Every J_OBJ of f[from..n), nested ones included, released. */
static void
fields_release(const struct json_field *f, size_t n, size_t from)
{
	size_t i;

	for (i = from; i < n; i++)
		if (f[i].kind == JF_OBJ)
			json_object_put(f[i].obj);
		else if (f[i].kind == JF_FIELDS)
			fields_release(f[i].sub, (size_t)f[i].num, 0);
}

/* The request's extra headers ("Name: value\r\n" lines), to append a line
 * to; headers_end keeps it, or on failure what was there before. */
static struct out
headers_begin(struct request *req)
{
	struct out o = { req->arena, req->extra_headers, req->extra_len,
		req->extra_cap, 0 };

	return o;
}

static int
headers_end(struct request *req, struct out *o)
{
	OUT_LIT(o, "\r\n");
	if (out_end(o) == NULL) {
		/* What was there stays, whole lines only. */
		if (req->extra_headers != NULL)
			req->extra_headers[req->extra_len] = '\0';
		return -1;
	}
	req->extra_headers = o->p;
	req->extra_len = o->len;
	req->extra_cap = o->cap;
	return 0;
}

int
response_header(struct request *req, const char *name, const char *value)
{
	struct out o = headers_begin(req);

	/* Header values come from our own code; refuse CR/LF all the same. */
	if (strpbrk(value, "\r\n") != NULL)
		return -1;
	out_cstr(&o, name);
	OUT_LIT(&o, ": ");
	out_cstr(&o, value);
	return headers_end(req, &o);
}

int
response_cookie(struct request *req, const char *name, const char *value,
    long max_age, int http_only)
{
	struct out o = headers_begin(req);

	if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n") != NULL)
		return -1;
	OUT_LIT(&o, "Set-Cookie: ");
	out_cstr(&o, name);
	OUT_LIT(&o, "=");
	out_cstr(&o, value);
	if (http_only)
		OUT_LIT(&o, "; HttpOnly");
	OUT_LIT(&o, "; SameSite=Lax; Path=/; Max-Age=");
	out_num(&o, max_age < 0 ? 0 : max_age);
	if (cfg.cookie_secure)
		OUT_LIT(&o, "; Secure");
	return headers_end(req, &o);
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
	/* An answer written into a socket's empty buffer (16 KiB for TCP,
	 * about 200 KiB with the overhead of each write for a Unix socket) does
	 * not wait even for a web server that reads nothing; a larger one
	 * could, so its writes are bounded (the worker bounds every
	 * connection it keeps). */
	if (hlen + blen > RESPONSE_UNBOUNDED_MAX && req->fcgi->ipcFd >= 0)
		request_bound_io(req->fcgi->ipcFd);
	/* FCGX_Finish_r sends what is buffered with the end of the request:
	 * an early flush would only cost the web server a second read. */
	if (FCGX_PutStr(head, (int)hlen, req->fcgi->out) != (int)hlen ||
	    FCGX_PutStr(body, (int)blen, req->fcgi->out) != (int)blen)
		/* The client or the web server went away: nothing to undo,
		 * the request's writes were already committed or not. */
		log_event("warning", "write_failed", LF_S("path", req->path),
		    LF_S("ip", req->ip));
}

/* The status line and every header, with the blank line that ends them;
 * NULL when out of memory. */
static char *
format_head(struct request *req, int status, size_t blen, const char *extra,
    size_t elen, size_t *hlen)
{
	struct out o = { req->arena, NULL, 0, 0, 0 };

	OUT_LIT(&o, "Status: ");
	out_num(&o, status);
	OUT_LIT(&o, " ");
	out_cstr(&o, reason(status));
	OUT_LIT(&o, "\r\nContent-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: ");
	out_num(&o, (long long)blen);
	OUT_LIT(&o, "\r\n");
	OUT_LIT(&o, SECURITY_HEADERS);
	if (extra != NULL)
		out_put(&o, extra, elen);
	OUT_LIT(&o, "\r\n");
	*hlen = o.len;
	return out_end(&o);
}

/* Sends status and body (NULL: a 500 with the "Internal server error"
 * body), with the security headers, the csrf_token cookie and the
 * handler's headers; without the handler's headers when they are too large
 * or there is no memory left for them. */
static void
respond_body(struct request *req, int status, const char *body, size_t blen)
{
	static const char oom_body[] = "{\"error\":\"Internal server error\"}";
	static const char oom_head[] = "Status: 500 Internal Server Error\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 33\r\n" SECURITY_HEADERS "\r\n";
	char tok[SECRET_TEXT_LEN + 1];
	const char *head;
	size_t hlen;

	if (req->responded)
		return;
	req->responded = 1;
	if (req->csrf_want[0] != '\0') {
		/* The session's token, set whenever the browser lacks it. */
		if (req->csrf_cookie == NULL ||
		    !crypto_equal(req->csrf_cookie, strlen(req->csrf_cookie),
		    req->csrf_want, strlen(req->csrf_want)))
			response_cookie(req, "csrf_token", req->csrf_want, 86400,
			    0);
		/* A listed origin cannot read this host's cookies when it is
		 * another host: it reads the session's token here instead
		 * (exposed to listed origins alone). */
		if (req->cors)
			response_header(req, "X-CSRF-Token", req->csrf_want);
	} else if (!req->csrf_cookie_present && crypto_random_text(tok) == 0) {
		req->csrf_cookie_present = 1;
		response_cookie(req, "csrf_token", tok, 86400, 0);
		crypto_wipe(tok, sizeof tok);
	}
	if (body == NULL) {
		status = 500;
		body = oom_body;
		blen = sizeof oom_body - 1;
	}
	head = format_head(req, status, blen, req->extra_headers,
	    req->extra_len, &hlen);
	if (head == NULL || hlen > HEADERS_MAX) {
		/* Headers too large to send, or no memory for them: the plain
		 * 500, without them. */
		status = 500;
		head = oom_head;
		hlen = sizeof oom_head - 1;
		body = oom_body;
		blen = sizeof oom_body - 1;
	}
	req->status = status;
	send_all(req, head, hlen, body, blen);
}

void
respond(struct request *req, int status, json_object *obj)
{
	const char *body = NULL;

	if (!req->responded && obj != NULL)
		body = json_object_to_json_string_ext(obj,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	respond_body(req, status, body, body != NULL ? strlen(body) : 0);
	json_object_put(obj);
}

json_object *
json_build(const struct json_field *f, size_t n)
{
	json_object *o = json_object_new_object(), *v;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (f[i].kind) {
		case JF_STR:
			v = f[i].str != NULL ? json_object_new_string(f[i].str) :
			    NULL;
			if (v == NULL && f[i].str != NULL)
				goto fail;
			break;
		case JF_BOOL:
			if ((v = json_object_new_boolean(f[i].num != 0)) == NULL)
				goto fail;
			break;
		case JF_INT:
			if ((v = json_object_new_int64(f[i].num)) == NULL)
				goto fail;
			break;
		case JF_FIELDS: /* its J_OBJs released on failure */
			if ((v = json_build(f[i].sub, (size_t)f[i].num)) == NULL)
				goto fail;
			break;
		case JF_RAW:
			if (f[i].str == NULL ||
			    (v = json_tokener_parse(f[i].str)) == NULL)
				goto fail;
			break;
		default: /* JF_OBJ: ours now, whatever happens */
			if ((v = f[i].obj) == NULL)
				goto fail;
			break;
		}
		if (o == NULL || json_object_object_add(o, f[i].key, v) != 0) {
			json_object_put(v);
			goto fail;
		}
	}
	return o;
fail:
	/* The objects not yet handed over are still ours to release. */
	fields_release(f, n, i + 1);
	json_object_put(o);
	return NULL;
}

json_object *
json_push(json_object *list, json_object *item)
{
	if (list == NULL || item == NULL ||
	    json_object_array_add(list, item) != 0) {
		json_object_put(item);
		json_object_put(list);
		return NULL;
	}
	return list;
}

/* 1 when a field of f[0..n), nested ones included, is a json-c object. */
static int
fields_have_obj(const struct json_field *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f[i].kind == JF_OBJ || (f[i].kind == JF_FIELDS &&
		    fields_have_obj(f[i].sub, (size_t)f[i].num)))
			return 1;
	return 0;
}

void
respond_fields(struct request *req, int status, const struct json_field *f,
    size_t n)
{
	size_t len = 0;
	char *body;

	/* A json-c object (a list of users or sessions) can be long: its
	 * text is sent from json-c's own buffer, not copied into the
	 * request's arena, whose cap it could pass. */
	if (fields_have_obj(f, n)) {
		json_object *o = json_build(f, n); /* consumes them */

		if (o == NULL)
			respond_internal(req, "response");
		else
			respond(req, status, o);
		return;
	}
	body = req->responded ? NULL : json_fields_text(req->arena, f, n, &len);

	fields_release(f, n, 0);
	if (req->responded)
		return;
	if (body == NULL) {
		respond_internal(req, "response");
		return;
	}
	respond_body(req, status, body, len);
}

void
respond_error(struct request *req, int status, const char *message)
{
	/* Not respond_json: its failure path is respond_internal, which
	 * answers through here.  respond() turns NULL into the 500. */
	respond(req, status, json_of(J_STR("error", message)));
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

long
retry_after_seconds(long long ms)
{
	long s = (long)((ms + 999) / 1000);

	return s < 1 ? 1 : s;
}

void
respond_too_many(struct request *req, long long retry_ms, const char *message)
{
	char ra[24];

	snprintf(ra, sizeof ra, "%ld", retry_after_seconds(retry_ms));
	response_header(req, "Retry-After", ra);
	respond_error(req, 429, message);
}
