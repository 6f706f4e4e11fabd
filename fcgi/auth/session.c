/*
 * auth/session.c -- cookie sessions.
 *
 * The cookie holds a secret (core/crypto.h): 256 random bits; the database
 * holds only their SHA-256, so a dump of the sessions table yields no live
 * session.  Sessions expire server-side after BULWARK_SESSION_TTL whatever
 * the browser keeps.
 */
#include <string.h>

#include "auth/auth.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/ip.h"
#include "core/log.h"
#include "core/validate.h"

/* session_user's own column, after the user row. */
enum { SESSION_USER_STALE = USER_NCOLS };
/* session_me's columns (a binary result). */
enum { SESSION_ME_OBJECT, SESSION_ME_SEEN };
/* last_seen_at is recorded when it is older than this: the same minute as
 * sql/session_user.sql's stale flag and sql/session_touch.sql's guard. */
#define TOUCH_AFTER_US (60LL * 1000000)

/* bulwark.user_object (schema/007) writes the id first: {"id":"<uuid>",...
 * So the id GET /me logs is read from the object, not sent beside it (a
 * column more costs PostgreSQL about 2k instructions per execution). */
static const char object_head[] = "{\"id\":\"";
#define OBJECT_HEAD (sizeof object_head - 1)
#define UUID_TEXT 36

/* The user of a session_me row: its id and its object, nothing else. */
static int
user_from_me_row(struct request *req, PGresult *r, struct user *u)
{
	const char *object;
	char *id;

	if (PQgetisnull(r, 0, SESSION_ME_OBJECT) ||
	    (size_t)PQgetlength(r, 0, SESSION_ME_OBJECT) <
	    OBJECT_HEAD + UUID_TEXT + 1)
		return -1;
	object = PQgetvalue(r, 0, SESSION_ME_OBJECT);
	if (memcmp(object, object_head, OBJECT_HEAD) != 0 ||
	    object[OBJECT_HEAD + UUID_TEXT] != '"' ||
	    (id = arena_alloc(req->arena, UUID_TEXT + 1)) == NULL)
		return -1;
	memcpy(id, object + OBJECT_HEAD, UUID_TEXT);
	id[UUID_TEXT] = '\0';
	if (!uuid_valid(id))
		return -1;
	memset(u, 0, sizeof *u);
	u->id = id;
	u->object = db_text(r, 0, SESSION_ME_OBJECT);
	return 0;
}

int
session_authenticate(struct request *req, int object_only)
{
	const char *cookie = request_cookie(req, "session");
	struct secret sid;
	struct user *u;
	PGresult *r;
	enum db_status st;
	long long seen;

	/* A malformed cookie cannot name a session: no database trip. */
	if (secret_parse(&sid, cookie) < 0) {
		if (cookie != NULL)
			session_clear_cookie(req);
		respond_error(req, 401, "Unauthorized");
		return -1;
	}
	memcpy(req->session_hash, sid.hash, sizeof req->session_hash);
	secret_wipe(&sid);
	st = db_exec(req->arena,
	    object_only ? STMT_session_me : STMT_session_user, &r,
	    DB_BYTES(req->session_hash, sizeof req->session_hash));
	if (st != DB_OK) {
		respond_db_error(req, st, "session lookup");
		return -1;
	}
	if (PQntuples(r) != 1) {
		session_clear_cookie(req);
		respond_error(req, 401, "Unauthorized");
		return -1;
	}
	if ((u = arena_alloc(req->arena, sizeof *u)) == NULL) {
		respond_internal(req, "session user");
		return -1;
	}
	/* The CSRF token this session's requests must carry: the response
	 * sets it again whenever the browser's cookie differs. */
	if (session_csrf_token(req->session_hash, req->csrf_want) < 0) {
		respond_internal(req, "csrf token");
		return -1;
	}
	/* last_seen_at over a minute old: recorded after the response. */
	if (!object_only) {
		user_from_row(req, r, 0, u);
		req->touch_session = db_bool(r, 0, SESSION_USER_STALE);
	} else if (user_from_me_row(req, r, u) == 0 &&
	    db_time_us(r, 0, SESSION_ME_SEEN, &seen) == 0) {
		/* By this host's clock, as a token's expiry is; the touch
		 * itself checks again by the database's. */
		req->touch_session = clock_wall_us() - seen > TOUCH_AFTER_US;
	} else {
		respond_internal(req, "session user");
		return -1;
	}
	req->user = u;
	req->has_session = 1;
	req->user_id_for_log = u->id;
	return 0;
}

int
session_presented(struct request *req, struct secret *out)
{
	return secret_parse(out, request_cookie(req, "session")) == 0;
}

int
session_create(struct request *req, const char *user_id)
{
	struct secret sid, old;
	int had_one;
	PGresult *r;
	enum db_status st;

	if (secret_mint(&sid) < 0) {
		respond_internal(req, "random");
		return -1;
	}
	had_one = session_presented(req, &old);
	st = db_exec(req->arena, STMT_session_create, &r,
	    DB_BYTES(sid.hash, sizeof sid.hash), DB_TEXT(user_id),
	    DB_INT(cfg.session_ttl), DB_TEXT(req->ip),
	    DB_TEXT(req->user_agent),
	    DB_BYTES_IF(had_one, old.hash, sizeof old.hash));
	secret_wipe(&old);
	if (st != DB_OK) {
		secret_wipe(&sid);
		respond_db_error(req, st, "session create");
		return -1;
	}
	/* No row: the user was deleted since the password was checked. */
	if (PQntuples(r) != 1) {
		secret_wipe(&sid);
		respond_error(req, 401, "Unauthorized");
		return -1;
	}
	session_set_cookie(req, &sid);
	secret_wipe(&sid);
	return 0;
}

int
session_csrf_token(const unsigned char hash[32],
    char out[SECRET_TEXT_LEN + 1])
{
	if (cfg.jwt_ring.n == 0)
		return -1;
	return crypto_hmac_text(cfg.csrf_keys[0], hash, 32, out);
}

int
session_csrf_valid(const unsigned char hash[32], const char *token)
{
	char t[SECRET_TEXT_LEN + 1];
	size_t i, n = strlen(token);
	int ok = 0;

	for (i = 0; i < cfg.jwt_ring.n; i++)
		if (crypto_hmac_text(cfg.csrf_keys[i], hash, 32, t) == 0)
			ok |= crypto_equal(token, n, t, SECRET_TEXT_LEN);
	crypto_wipe(t, sizeof t);
	return ok;
}

void
session_set_cookie(struct request *req, const struct secret *sid)
{
	response_cookie(req, "session", sid->text, cfg.session_ttl, 1);
	/* A new session, a new CSRF token: set with this response. */
	if (session_csrf_token(sid->hash, req->csrf_want) < 0)
		req->csrf_want[0] = '\0'; /* then the cookie stays random */
}

void
session_clear_cookie(struct request *req)
{
	response_cookie(req, "session", "", 0, 1);
}

void
session_after_response(struct request *req)
{
	char key[IP_TEXT_MAX];
	PGresult *r;

	/* A failure costs nothing but a stale last_seen_at. */
	if (req->has_session && req->touch_session)
		(void)db_exec(req->arena, STMT_session_touch, &r,
		    DB_BYTES(req->session_hash, sizeof req->session_hash));
	/* A login's address; a new one queues the alert (API.md "New-login
	 * alerts").  A failure loses one alert, never the login. */
	if (req->login_user_id != NULL &&
	    db_exec(req->arena, STMT_login_seen, &r, DB_TEXT(req->login_user_id),
	    DB_TEXT(ip_limit_key(req->ip, key)), DB_TEXT(req->ip),
	    DB_TEXT(req->user_agent)) == DB_OK && PQntuples(r) == 1 &&
	    db_bool(r, 0, 0)) {
		req->mail_queued = 1;
		log_event("warning", "suspicious_login",
		    LF_S("userId", req->login_user_id), LF_S("ip", req->ip),
		    LF_S("address", key));
	}
}

int
session_delete_current(struct request *req)
{
	PGresult *r;
	enum db_status st;

	if (!req->has_session)
		return 0;
	st = db_exec(req->arena, STMT_session_delete, &r,
	    DB_BYTES(req->session_hash, sizeof req->session_hash));
	if (st != DB_OK) {
		respond_db_error(req, st, "session delete");
		return -1;
	}
	return 0;
}
