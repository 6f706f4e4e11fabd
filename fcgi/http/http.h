/*
 * http/http.h -- the request as the web server hands it over (FastCGI),
 * the response, JSON bodies in and out, and route matching.
 *
 * Every string here is arena memory or points into FastCGI parameters that
 * live until FCGX_Finish_r: neither is kept past the request.  Every
 * response carries the contract's security headers and a JSON body.  This
 * layer knows nothing of the database or of who the user is; the layers
 * above fill in `user` and the session fields.
 */
#ifndef HTTP_HTTP_H
#define HTTP_HTTP_H

#include <stddef.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "core/arena.h"
#include "core/crypto.h"

#define MAX_ROUTE_PARAMS 4

struct user; /* auth/auth.h */

struct request {
	FCGX_Request *fcgi;
	struct arena *arena;
	const char *method;
	const char *path;
	const char *query;
	const char *content_type;
	const char *user_agent; /* sanitized: valid UTF-8, bounded */
	const char *ip;         /* see core/ip.h */
	long content_length; /* -1 when absent, -2 when malformed */
	const char *body;
	size_t body_len;
	const char *param[MAX_ROUTE_PARAMS];
	size_t nparam;
	const char *cookie_header;
	/* Authentication, filled by auth/. */
	struct user *user;
	unsigned char session_hash[32];
	int has_session;
	int touch_session; /* record last_seen_at once the response is out */
	int has_bearer;    /* authenticated by an access token */
	int mail_queued;   /* deliver mail once the response is out */
	int cors;          /* Origin is in BULWARK_CORS_ORIGINS */
	const char *login_user_id; /* a login succeeded: record its address */
	const char *token_jti; /* ... its jti and exp */
	long long token_exp;
	const char *token_family; /* ... and its refresh family */
	/* Response state. */
	int status;
	char *extra_headers; /* "Name: value\r\n" lines, arena memory */
	size_t extra_len, extra_cap;
	int responded;
	const char *csrf_cookie;  /* the csrf_token cookie as sent, or NULL */
	int csrf_cookie_present;  /* ... and well-formed */
	/* The CSRF token bound to the request's session (auth/), or "": the
	 * response sets the cookie to it when the request's differs. */
	char csrf_want[SECRET_TEXT_LEN + 1];
	const char *user_id_for_log;
};

/* ---- request.c: what the web server sent --------------------------------- */

/* Reads CGI parameters into req; resolves the client IP with the trusted
 * proxies of cfg. */
int request_init(struct request *, FCGX_Request *, struct arena *);
/* A CGI parameter ("HTTP_X_CSRF_TOKEN"), or NULL. */
const char *request_header(struct request *, const char *cgi_name);
/* Value of cookie name, or NULL; arena memory. */
const char *request_cookie(struct request *, const char *name);
/* Value of query parameter name (percent-decoded), or NULL. */
const char *request_query(struct request *, const char *name);
/* Bounds every read and write on the web server's connection fd to
 * BULWARK_READ_TIMEOUT (SO_RCVTIMEO, SO_SNDTIMEO). */
void request_bound_io(int fd);
/* Reads the body: 413 past the limit, 400 when truncated.  Returns 0 or -1
 * when a response has been sent. */
int request_read_body(struct request *);

/* ---- response.c: what goes back ------------------------------------------ */

/* -1 when value holds CR or LF (nothing is added) or out of memory. */
int response_header(struct request *, const char *name, const char *value);
int response_cookie(struct request *, const char *name, const char *value,
    long max_age, int http_only);
/* Sends status + JSON body (consumes obj; NULL answers 500).  Adds the
 * security headers and the csrf_token cookie: csrf_want when the request
 * has a session and sent another one, else a random one when the request
 * had none.  Only the first response of a request is sent. */
void respond(struct request *, int status, json_object *obj);

/*
 * JSON in one call: a handler names its fields, e.g.
 *     respond_json(req, 200, J_BOOL("ok", 1));
 *     respond_json(req, 401, J_STR("error", "Two-factor code required"),
 *         J_BOOL("twoFactorRequired", 1));
 * J_OBJ hands over an object (consumed; NULL stands for an allocation that
 * failed); J_FIELDS nests an object of fields (the text writer copies
 * none of them; json_build makes json-c objects of them).  J_RAW puts
 * JSON text that is already written (ours, e.g. the user object the
 * database renders, schema/007) as a value, copied as it is.  Any
 * failure anywhere makes the whole answer one 500, logged.
 */
enum json_field_kind { JF_STR, JF_BOOL, JF_INT, JF_OBJ, JF_FIELDS, JF_RAW };

struct json_field {
	const char *key;
	enum json_field_kind kind;
	const char *str;  /* JF_STR; NULL is JSON null; JF_RAW: the JSON */
	long long num;    /* JF_BOOL, JF_INT; JF_FIELDS: how many */
	json_object *obj; /* JF_OBJ */
	const struct json_field *sub; /* JF_FIELDS */
};

#define J_STR(k, v) ((struct json_field){ .key = (k), .kind = JF_STR, .str = (v) })
#define J_BOOL(k, v) ((struct json_field){ .key = (k), .kind = JF_BOOL, .num = !!(v) })
#define J_INT(k, v) ((struct json_field){ .key = (k), .kind = JF_INT, .num = (long long)(v) })
#define J_RAW(k, v) ((struct json_field){ .key = (k), .kind = JF_RAW, .str = (v) })
#define J_OBJ(k, o) ((struct json_field){ .key = (k), .kind = JF_OBJ, .obj = (o) })
#define J_FIELDS(k, f, n)                                                    \
	((struct json_field){ .key = (k), .kind = JF_FIELDS, .sub = (f),     \
	    .num = (long long)(n) })

/* A new object with fields f[0..n), or NULL; every J_OBJ is consumed
 * either way. */
json_object *json_build(const struct json_field *f, size_t n);
#define json_of(...)                                                         \
	json_build((const struct json_field[]){ __VA_ARGS__ },               \
	    sizeof((const struct json_field[]){ __VA_ARGS__ }) /             \
	    sizeof(struct json_field))
/* Appends item to the array list; both consumed on failure, and a NULL
 * list or item is a failure.  Returns list, or NULL. */
json_object *json_push(json_object *list, json_object *item);

/* The object of fields f[0..n) as JSON text in arena memory (NUL-ended,
 * its length in *len), written directly, without json-c objects, so a
 * handler's answer costs one pass; NULL when out of memory or a J_OBJ is
 * NULL.  Consumes no J_OBJ (respond_fields does). */
char *json_fields_text(struct arena *, const struct json_field *f, size_t n,
    size_t *len);
void respond_fields(struct request *, int status, const struct json_field *,
    size_t n);
#define respond_json(req, status, ...)                                       \
	respond_fields((req), (status),                                      \
	    (const struct json_field[]){ __VA_ARGS__ },                      \
	    sizeof((const struct json_field[]){ __VA_ARGS__ }) /             \
	    sizeof(struct json_field))

/* {"error": message} */
void respond_error(struct request *, int status, const char *message);
/* 503 {"error":"Service unavailable"} with Retry-After. */
void respond_unavailable(struct request *);
/* 500, logged as internal_error with what. */
void respond_internal(struct request *, const char *what);
/* 429 with Retry-After (whole seconds, at least 1) and {"error": message}. */
void respond_too_many(struct request *, long long retry_ms,
    const char *message);
long retry_after_seconds(long long ms);

/* ---- body.c: JSON bodies and declarative validation ---------------------- */

enum field_kind {
	F_EMAIL,        /* trimmed, lower-cased, checked */
	F_NEW_PASSWORD, /* 8..128 characters, not equal to the email */
	F_LOGIN_PASSWORD, /* non-empty, <= 1024 bytes */
	F_STRING,       /* non-empty string up to max bytes */
};

struct field {
	const char *name;
	enum field_kind kind;
	int optional;
	size_t max; /* F_STRING only */
};

struct field_value {
	const char *str; /* arena memory, NUL-terminated, no embedded NUL */
	size_t len;
	int present;
};

/* The contract's 400 for one bad field: {"error":"Invalid request",
 * "issues":[{"path","message"}]}, for checks that need more than the body
 * (a new password that is the account's email). */
void respond_invalid(struct request *, const char *path, const char *message);
/* Parses req->body as a JSON object and validates it against fields.
 * Returns 0 with values filled, or -1 after sending the 400. */
int body_validate(struct request *, const struct field *, size_t n,
    struct field_value *values);

/* ---- router.c: matching a route table ------------------------------------ */

typedef void (*route_fn)(struct request *);

struct route {
	const char *method;
	const char *pattern; /* "/users/:id" */
	route_fn fn;
	unsigned flags;      /* the table's owner gives them meaning */
};

/* The route of table[0..n) for req's method and path, with req->param
 * filled; NULL after answering 404 (unknown path) or 405 (with Allow). */
const struct route *router_match(struct request *, const struct route *table,
    size_t n);
/* 1 when req's path is one of the table's, with its methods written to
 * allow ("GET, POST"); 0 for an unknown path. */
int router_methods(struct request *, const struct route *table, size_t n,
    char *allow, size_t cap);

/* ---- cors.c: pages on another origin ------------------------------------- */

/* Adds the CORS headers when req's Origin is in BULWARK_CORS_ORIGINS (and
 * Vary: Origin whenever a list is configured); answers a preflight to a
 * path of the table.  1 when it answered, else 0. */
int cors_apply(struct request *, const struct route *table, size_t n);

#endif
