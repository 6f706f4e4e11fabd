/*
 * bulwark.h -- internal interfaces of the Bulwark FastCGI program.
 *
 * One header for the whole program (kcgi's extern.h model): every module's
 * prototypes are here, grouped by the file that implements them.
 *
 * Conventions: functions return 0 on success and -1 on failure unless a
 * comment says otherwise.  Memory handed out with a `struct arena *` belongs
 * to that arena and dies with it; nothing returned here needs free() unless
 * the comment says so.
 */
#ifndef BULWARK_H
#define BULWARK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <fcgiapp.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#define BULWARK_VERSION "0.1.0"

/* ---- arena.c: request-scoped memory ------------------------------------ */

struct arena_chunk;
struct arena_cleanup;

struct arena {
	struct arena_chunk *head;
	struct arena_cleanup *cleanups;
	size_t used;  /* bytes handed out since the last reset */
	size_t limit; /* hard cap; allocations past it fail */
};

void arena_init(struct arena *, size_t limit);
/* NULL when the cap is reached or malloc fails; memory is zeroed. */
void *arena_alloc(struct arena *, size_t);
char *arena_strndup(struct arena *, const char *, size_t);
char *arena_strdup(struct arena *, const char *);
char *arena_printf(struct arena *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Runs fn(arg) at the next reset, newest first.  -1 when out of memory (fn
 * is then run at once, so the caller never leaks what it registered). */
int arena_defer(struct arena *, void (*fn)(void *), void *arg);
/* Runs the cleanups and releases all memory but the first chunk. */
void arena_reset(struct arena *);
void arena_free(struct arena *);

/* ---- config.c: environment and BULWARK_CONFIG file --------------------- */

enum pw_algo { PW_YESCRYPT, PW_BCRYPT };

struct config {
	char *database_url;    /* NULL: libpq's PG* variables */
	char *jwt_secret;      /* raw bytes, >= 32 */
	size_t jwt_secret_len;
	char *log_file;        /* NULL: standard error */
	char *trusted_proxies; /* raw CIDR list, parsed by ip.c */
	char *config_file;     /* where the file keys came from, or NULL */
	long max_body_bytes;
	int cookie_secure;
	long session_ttl;
	enum pw_algo pw_algo;
	long pw_cost;
	long login_ip_limit;
	long login_email_limit;
	long login_window;
	long lockout_threshold;
	long lockout_seconds;
	long db_timeout;       /* seconds a statement may take */
	long signup_ip_limit;  /* per IP per signup_window */
	long signup_window;
};

extern struct config cfg;

/* Loads cfg from the file named by BULWARK_CONFIG and the environment (the
 * environment wins).  need_secret: refuse without a usable JWT secret.
 * On failure writes a message into err and returns -1; cfg is untouched. */
int config_load(int need_secret, char *err, size_t errlen);
/* Value of a key from the environment, then the config file; NULL if unset.
 * Valid until the next config_load. */
const char *config_get(const char *key);

/* ---- log.c: one JSON object per line ------------------------------------ */

struct log_field {
	const char *key;
	const char *str; /* used when kind == 0; NULL values are skipped */
	long long num;   /* kind 1: an integer; kind 2: thousandths */
	int kind;
};

#define LF_S(k, v) ((struct log_field){ (k), (v), 0, 0 })
#define LF_I(k, v) ((struct log_field){ (k), NULL, (long long)(v), 1 })
/* A number with three decimals, given in thousandths. */
#define LF_MILLI(k, v) ((struct log_field){ (k), NULL, (long long)(v), 2 })

/* Opens BULWARK_LOG_FILE (O_APPEND) or uses standard error. */
int log_open(const char *path);
void log_fields(const char *level, const char *event,
    const struct log_field *, size_t);
#define log_event(level, event, ...)                                         \
	do {                                                                 \
		const struct log_field lf_[] = { __VA_ARGS__ };              \
		log_fields((level), (event), lf_, sizeof lf_ / sizeof lf_[0]); \
	} while (0)
/* Plain message for operators: {"event":"message","message":...}. */
void log_msg(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends s as a JSON string literal (quotes included) to buf of size cap
 * at *len; invalid UTF-8 becomes U+FFFD; truncates to fit.  Never
 * overflows; always NUL-terminates. */
void json_escape_append(char *buf, size_t cap, size_t *len, const char *s);

/* ---- crypto.c ------------------------------------------------------------ */

/* RAND_bytes; -1 when the generator fails (never fall back). */
int crypto_random(void *buf, size_t n);
void crypto_sha256(const void *data, size_t n, unsigned char out[32]);
/* Base64url without padding; returns the length written (excluding NUL),
 * or 0 when outcap is too small. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out,
    size_t outcap);
/* Decodes base64url (no padding); returns bytes written or -1. */
ssize_t b64url_decode(const char *in, size_t n, unsigned char *out,
    size_t outcap);
/* Constant-time equality of two byte strings (length is not secret). */
int crypto_equal(const void *a, size_t alen, const void *b, size_t blen);
/* A fresh random token: 32 bytes of RAND_bytes, base64url (43 chars). */
#define TOKEN_LEN 43
int token_new(char out[TOKEN_LEN + 1]);
/* 1 when s is exactly TOKEN_LEN base64url characters. */
int token_well_formed(const char *s);

/* ---- password.c: libxcrypt ------------------------------------------------ */

#define PW_HASH_MAX 128
#define BCRYPT_MAX_BYTES 72

/* Computes the dummy hash with the configured algorithm and cost. */
int password_init(void);
int password_hash(const char *pw, size_t len, char out[PW_HASH_MAX]);
/* 1 when pw matches hash, 0 otherwise.  hash NULL: verifies against the
 * dummy hash (same algorithm and cost) and returns 0. */
int password_verify(const char *pw, size_t len, const char *hash);
/* 1 when hash was made with weaker settings than configured. */
int password_needs_rehash(const char *hash);
/* Time of one hash with the configured settings, in microseconds. */
long password_bench(int rounds);

/* ---- db.c: one libpq connection per worker ------------------------------- */

#include "sql_gen.h" /* enum stmt, generated from sql/ */

enum db_status { DB_OK = 0, DB_UNAVAILABLE, DB_ERROR };

/* Connects (and prepares every statement) unless connected and healthy.
 * Rate-limited while the server is away. */
enum db_status db_ensure(void);
void db_close(void);
/* Runs a prepared statement.  Parameters are text unless lens != NULL and
 * lens[i] > 0 marks a binary (bytea) parameter of that length.  On DB_OK
 * *res holds a PGresult that the arena clears; otherwise *res is NULL. */
enum db_status db_exec(struct arena *, enum stmt, int nparams,
    const char *const *vals, const int *lens, PGresult **res);
/* Direct connection for the command-line tools (migrate, user add). */
PGconn *db_connect_raw(char *err, size_t errlen);

/* ---- request.c: request, response, cookies ------------------------------- */

#define MAX_ROUTE_PARAMS 4

struct user {
	const char *id;
	const char *email;
	const char *role;
	int email_verified;
	int two_factor_enabled;
	const char *created_at;
	const char *password_hash; /* only where a route loads it */
};

struct request {
	FCGX_Request *fcgi;
	struct arena *arena;
	const char *method;
	const char *path;
	const char *query;
	const char *content_type;
	const char *user_agent; /* sanitized: valid UTF-8, bounded */
	const char *ip;
	long content_length; /* -1 when absent */
	const char *body;
	size_t body_len;
	const char *param[MAX_ROUTE_PARAMS];
	size_t nparam;
	const char *cookie_header;
	/* Authentication, filled by auth.c. */
	struct user *user;
	unsigned char session_hash[32];
	int has_session;
	int touch_session; /* record last_seen_at once the response is out */
	/* Response state. */
	int status;
	char *extra_headers; /* "Name: value\r\n" lines, arena memory */
	int responded;
	int csrf_cookie_present;
	const char *user_id_for_log;
};

/* Reads CGI parameters into req; computes the client IP. */
int request_init(struct request *, FCGX_Request *, struct arena *);
const char *request_header(struct request *, const char *cgi_name);
/* Value of cookie name, or NULL; arena memory. */
const char *request_cookie(struct request *, const char *name);
/* Value of query parameter name (percent-decoded), or NULL. */
const char *request_query(struct request *, const char *name);
/* Reads the body: 413 past the limit, 400 when truncated.  Returns 0 or -1
 * when a response has been sent. */
int request_read_body(struct request *);

int response_header(struct request *, const char *name, const char *value);
int response_cookie(struct request *, const char *name, const char *value,
    long max_age, int http_only);
/* Sends status + JSON body (consumes obj).  Adds the security headers and,
 * when the request had none, a csrf_token cookie. */
void respond(struct request *, int status, json_object *obj);
void respond_error(struct request *, int status, const char *message);
void respond_unavailable(struct request *);
void respond_internal(struct request *, const char *what);
/* 503 for DB_UNAVAILABLE, else 500 (logged with what). */
void respond_db_error(struct request *, enum db_status, const char *what);

/* ---- json.c: body parsing and declarative validation --------------------- */

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

/* Parses req->body as a JSON object and validates it against fields.
 * Returns 0 with values filled, or -1 after sending the 400. */
int body_validate(struct request *, const struct field *, size_t n,
    struct field_value *values);
/* Validation helpers shared with the command line (user add).  Return NULL
 * when valid, else the message. */
const char *check_email(const char *in, size_t len, char *out, size_t outcap);
const char *check_new_password(const char *pw, size_t len, const char *email);
int utf8_valid(const char *s, size_t n);
size_t utf8_chars(const char *s, size_t n);

json_object *user_json(const struct user *);
/* A timestamptz as PostgreSQL prints it with TimeZone=UTC, DateStyle=ISO,
 * in RFC 3339 with milliseconds ("2026-01-02T03:04:05.678Z"); arena
 * memory, or pg itself when it is not in that form. */
const char *rfc3339(struct arena *, const char *pg);
/* Sends {"user": ...}. */
void respond_user(struct request *, int status, const struct user *);
/* Fills u from columns id, email, role, email_verified,
 * two_factor_enabled, created_at at row `row` starting at column `col`. */
void user_from_row(struct request *, PGresult *, int row, int col,
    struct user *u);

/* ---- router.c ----------------------------------------------------------- */

enum route_flag {
	R_JSON = 1 << 0,     /* takes a JSON body: 415 / 400 */
	R_SESSION = 1 << 1,  /* needs a session (401) */
	R_ADMIN = 1 << 2,    /* needs an admin session (403) */
	R_NO_CSRF = 1 << 3,  /* exempt from the CSRF check */
};

typedef void (*route_fn)(struct request *);

struct route {
	const char *method;
	const char *pattern; /* "/users/:id" */
	route_fn fn;
	unsigned flags;
};

void router_dispatch(struct request *);

/* ---- auth.c, session.c, csrf.c ----------------------------------------- */

/* Authenticates the session cookie; on failure sends 401/503 and returns
 * -1.  On success req->user is set. */
int auth_session(struct request *);
/* Issues a session for user_id: inserts it and sets the cookie. */
int session_create(struct request *, const char *user_id);
int session_delete_current(struct request *);
/* Work that no response waits for, run after FCGX_Finish_r: records
 * last_seen_at (at most once a minute per session). */
void session_after_response(struct request *);
void session_clear_cookie(struct request *);
/* 0 when the request carries a valid X-CSRF-Token; else sends 403. */
int csrf_check(struct request *);

/* ---- rate_limit.c, lockout.c, login.c ---------------------------------- */

struct limit_result {
	int allowed;
	long long retry_after_ms; /* when !allowed */
};

/* Counts one hit on key against limit per window_s seconds. */
enum db_status rate_limit_hit(struct request *, const char *key, long limit,
    long window_s, struct limit_result *);
/* rate_limit_hit that answers for itself: 0 when allowed; otherwise the
 * 429 (logged as rate_limited with key kind, and email when not NULL) or
 * the database error has been sent and -1 is returned. */
int rate_limit_enforce(struct request *, const char *key, long limit,
    long window_s, const char *kind, const char *email, const char *message);
/* Whole seconds for Retry-After, at least 1. */
long retry_after_seconds(long long ms);
/* 429 with Retry-After and {"error": message}. */
void respond_too_many(struct request *, long long retry_ms,
    const char *message);

enum db_status lockout_check(struct request *, const char *email,
    struct limit_result *);
/* *now_locked: this failure locked the email. */
enum db_status lockout_record_failure(struct request *, const char *email,
    int *now_locked);
enum db_status lockout_clear(struct request *, const char *email);

/* The hardened login (API.md "Login"): validates the body and runs every
 * check.  0 with *u filled (strings in the request's arena) when the
 * password is right; -1 when a response has been sent. */
int login_attempt(struct request *, struct user *u);

/* ---- ip.c --------------------------------------------------------------- */

/* The client IP for req (see API.md, BULWARK_TRUSTED_PROXIES). */
const char *client_ip(struct request *);
/* What per-IP limits count: req->ip for IPv4, its /64 for IPv6
 * ("2001:db8:1:2::/64"). */
const char *ip_limit_key(struct request *);
/* Parses a BULWARK_TRUSTED_PROXIES list (NULL: none) and puts it in force;
 * -1 with err on a bad entry, and the list in force is kept.  Called by
 * config_load, so a configuration and its proxies change together. */
int ip_init(const char *list, char *err, size_t errlen);

/* ---- routes ------------------------------------------------------------- */

void route_health(struct request *);
void route_signup(struct request *);
void route_login(struct request *);
void route_logout(struct request *);
void route_me(struct request *);
void route_users_list(struct request *);
void route_users_delete(struct request *);
void route_users_unlock(struct request *);

/* ---- worker.c, pool.c --------------------------------------------------- */

/* Serves requests on listen_fd until SIGTERM/SIGINT.  Returns exit code.
 * ready_fd >= 0: a pipe to the pool master, told our pid once we serve. */
int worker_run(int listen_fd, int ready_fd);
/* 1 when fd is a listening socket (started by a FastCGI manager). */
int fd_is_listener(int fd);
/* Binds "host:port" or a unix path (mode 0660). -1 with err on failure. */
int listen_open(const char *spec, char *err, size_t errlen);
int pool_run(const char *spec, int workers);

/* ---- migrate.c, cli.c ---------------------------------------------------- */

struct migration {
	int version;
	const char *name;
	const char *sql;
};
extern const struct migration migrations[];
extern const size_t nmigrations;

int migrate_run(void);
int cli_user(int argc, char **argv);

#endif
