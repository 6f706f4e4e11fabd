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
#include "http/http.h"

#define HEADERS_MAX 8192

static const char security_headers[] =
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: strict-origin-when-cross-origin\r\n"
    "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
    "Cache-Control: no-store\r\n";

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

/* The status line and every header, with the blank line that ends them. */
static int
format_head(char *head, size_t cap, int status, size_t blen,
    const char *extra)
{
	return snprintf(head, cap,
	    "Status: %d %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "%s%s\r\n",
	    status, reason(status), blen, security_headers,
	    extra != NULL ? extra : "");
}

void
respond(struct request *req, int status, json_object *obj)
{
	static const char oom_body[] = "{\"error\":\"Internal server error\"}";
	char head[HEADERS_MAX];
	struct secret tok;
	const char *body;
	size_t blen;
	int n;

	if (req->responded) {
		json_object_put(obj);
		return;
	}
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
	} else if (!req->csrf_cookie_present && secret_mint(&tok) == 0) {
		req->csrf_cookie_present = 1;
		response_cookie(req, "csrf_token", tok.text, 86400, 0);
		secret_wipe(&tok);
	}
	body = obj != NULL ? json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	if (body == NULL) {
		status = 500;
		body = oom_body;
	}
	blen = strlen(body);
	n = format_head(head, sizeof head, status, blen, req->extra_headers);
	if (n < 0 || (size_t)n >= sizeof head) {
		/* Headers too large to send: the plain 500, without them. */
		status = 500;
		body = oom_body;
		blen = strlen(body);
		n = format_head(head, sizeof head, status, blen, NULL);
	}
	req->status = status;
	send_all(req, head, (size_t)n, body, blen);
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
	for (i++; i < n; i++)
		if (f[i].kind == JF_OBJ)
			json_object_put(f[i].obj);
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

void
respond_fields(struct request *req, int status, const struct json_field *f,
    size_t n)
{
	json_object *o = json_build(f, n);

	if (o == NULL) {
		respond_internal(req, "response");
		return;
	}
	respond(req, status, o);
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
