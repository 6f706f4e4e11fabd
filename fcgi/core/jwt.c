/*
 * core/jwt.c -- HS256 access tokens under a key ring, and the strict flat
 * JSON parser they are read with (see jwt.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/crypto.h"
#include "core/jwt.h"
#include "core/sjson.h"
#include "core/utf8.h"
#include "core/validate.h"

_Static_assert(JWT_EMAIL_MAX >= EMAIL_MAX, "every valid email fits a token");
_Static_assert(JWT_TOKEN_MAX / 4 * 3 <= JWT_JSON_MAX,
    "a decoded header or payload fits the JSON parser");

/* ---- the flat JSON parser ---------------------------------------------- */

/* One value of a member: strings, numbers and the literals through the
 * lexer of core/sjson.h; an object or an array as a value is refused. */
static int
parse_value(struct sjson *j, struct jwt_json_member *m)
{
	int fits;

	if (j->p == j->end)
		return -1;
	switch (*j->p) {
	case '"':
		m->type = JWT_JSON_STRING;
		return sjson_string(j, &m->str, &m->len) == SJSON_OK ? 0 : -1;
	case 't':
		m->type = JWT_JSON_TRUE;
		return sjson_literal(j, "true") == SJSON_OK ? 0 : -1;
	case 'f':
		m->type = JWT_JSON_FALSE;
		return sjson_literal(j, "false") == SJSON_OK ? 0 : -1;
	case 'n':
		m->type = JWT_JSON_NULL;
		return sjson_literal(j, "null") == SJSON_OK ? 0 : -1;
	default:
		if (*j->p != '-' && (*j->p < '0' || *j->p > '9'))
			return -1;
		if (sjson_number(j, &fits, &m->num) != SJSON_OK)
			return -1;
		m->type = fits ? JWT_JSON_INT : JWT_JSON_NUMBER;
		return 0;
	}
}

int
jwt_json_parse(struct jwt_json *out, const char *in, size_t n)
{
	struct sjson j;
	struct jwt_json_member *m;
	size_t i;
	int rc = -1;

	out->n = 0;
	if (in == NULL || n == 0 || n > JWT_JSON_MAX)
		goto out;
	j.p = (const unsigned char *)in;
	j.end = j.p + n;
	j.o = out->buf;
	j.oend = out->buf + sizeof out->buf;
	j.str_max = JWT_JSON_STR_MAX;
	sjson_ws(&j);
	if (j.p == j.end || *j.p++ != '{')
		goto out;
	sjson_ws(&j);
	if (j.p < j.end && *j.p == '}')
		j.p++;
	else
		for (;;) {
			if (out->n == JWT_JSON_MEMBERS || j.p == j.end ||
			    *j.p != '"')
				goto out;
			m = &out->m[out->n];
			memset(m, 0, sizeof *m);
			if (sjson_string(&j, &m->key, &m->keylen) != SJSON_OK)
				goto out;
			for (i = 0; i < out->n; i++)
				if (out->m[i].keylen == m->keylen &&
				    memcmp(out->m[i].key, m->key,
				    m->keylen) == 0)
					goto out;
			sjson_ws(&j);
			if (j.p == j.end || *j.p++ != ':')
				goto out;
			sjson_ws(&j);
			if (parse_value(&j, m) < 0)
				goto out;
			out->n++;
			sjson_ws(&j);
			if (j.p == j.end)
				goto out;
			if (*j.p == '}') {
				j.p++;
				break;
			}
			if (*j.p++ != ',')
				goto out;
			sjson_ws(&j);
		}
	sjson_ws(&j);
	if (j.p == j.end)
		rc = 0;
out:
	if (rc < 0)
		out->n = 0;
	return rc;
}

const struct jwt_json_member *
jwt_json_get(const struct jwt_json *j, const char *key)
{
	size_t i, n = strlen(key);

	for (i = 0; i < j->n; i++)
		if (j->m[i].keylen == n && memcmp(j->m[i].key, key, n) == 0)
			return &j->m[i];
	return NULL;
}

/* ---- HMAC-SHA256 ------------------------------------------------------- */

int
jwt_hs256(const unsigned char *key, size_t keylen, const char *input,
    size_t n, unsigned char out[32])
{
	if (key == NULL || keylen == 0) { /* no key is not a key */
		memset(out, 0, 32);
		return -1;
	}
	return crypto_hmac_sha256(key, keylen, input, n, out);
}

/* ---- the key ring ------------------------------------------------------ */

static int
kid_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > JWT_KID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* Fills k from a valid kid and a secret of at least JWT_KEY_MIN bytes; -1
 * when the digest of a long secret cannot be computed.  A failed digest
 * must not become a key of zeros, so crypto_sha256 is not used here. */
static int
key_set(struct jwt_key *k, const char *kid, size_t kidlen,
    const void *secret, size_t len)
{
	unsigned int dl = 0;

	memset(k, 0, sizeof *k);
	memcpy(k->kid, kid, kidlen);
	if (len <= JWT_HMAC_BLOCK) {
		memcpy(k->key, secret, len);
		k->len = len;
		return 0;
	}
	if (EVP_Digest(secret, len, k->key, &dl, EVP_sha256(), NULL) != 1 ||
	    dl != 32) {
		crypto_wipe(k, sizeof *k);
		return -1;
	}
	k->len = 32;
	return 0;
}

static const struct jwt_key *
ring_find(const struct jwt_ring *r, const char *kid, size_t n)
{
	size_t i;

	for (i = 0; i < r->n && i < JWT_RING_MAX; i++)
		if (strnlen(r->keys[i].kid, sizeof r->keys[i].kid) == n &&
		    memcmp(r->keys[i].kid, kid, n) == 0)
			return &r->keys[i];
	return NULL;
}

static void ring_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
ring_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Puts the ring built in tmp in place of *out, wiping the old one. */
static void
ring_commit(struct jwt_ring *out, const struct jwt_ring *tmp)
{
	crypto_wipe(out, sizeof *out);
	memcpy(out, tmp, sizeof *tmp);
}

int
jwt_ring_parse(const char *text, struct jwt_ring *out, char *err,
    size_t errlen)
{
	struct jwt_ring tmp;
	const char *p = text, *eol, *end, *kid;
	size_t kidlen, line = 0;
	int rc = -1;

	/* Built in tmp and committed at the end: a refused ring (a bad
	 * reload) leaves the one in force untouched. */
	memset(&tmp, 0, sizeof tmp);
	if (text == NULL) {
		ring_err(err, errlen, "no key ring");
		goto out;
	}
	for (; *p != '\0'; p = *eol == '\n' ? eol + 1 : eol) {
		line++;
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		end = eol;
		while (end > p && (blank(end[-1]) || end[-1] == '\r'))
			end--;
		while (p < end && blank(*p))
			p++;
		if (p == end || *p == '#')
			continue;
		kid = p;
		while (p < end && !blank(*p))
			p++;
		kidlen = (size_t)(p - kid);
		while (p < end && blank(*p))
			p++;
		/* Until the kid is known good and a secret follows it, what
		 * stands there may be a secret: it is never printed. */
		if (!kid_valid(kid, kidlen)) {
			ring_err(err, errlen, "key ring line %zu: a kid is 1 "
			    "to %d characters of A-Z a-z 0-9 . _ -", line,
			    JWT_KID_MAX);
			goto out;
		}
		if (p == end) {
			ring_err(err, errlen, "key ring line %zu: no secret "
			    "(a line is \"kid secret\")", line);
			goto out;
		}
		if ((size_t)(end - p) < JWT_KEY_MIN) {
			ring_err(err, errlen, "key ring line %zu: the secret "
			    "of key '%.*s' has %zu bytes; at least %d are "
			    "required", line, (int)kidlen, kid,
			    (size_t)(end - p), JWT_KEY_MIN);
			goto out;
		}
		if (ring_find(&tmp, kid, kidlen) != NULL) {
			ring_err(err, errlen, "key ring line %zu: kid '%.*s' "
			    "is there twice", line, (int)kidlen, kid);
			goto out;
		}
		if (tmp.n == JWT_RING_MAX) {
			ring_err(err, errlen, "key ring line %zu: more than "
			    "%d keys", line, JWT_RING_MAX);
			goto out;
		}
		if (key_set(&tmp.keys[tmp.n], kid, kidlen, p,
		    (size_t)(end - p)) < 0) {
			ring_err(err, errlen, "key ring: out of memory");
			goto out;
		}
		tmp.n++;
	}
	if (tmp.n == 0) {
		ring_err(err, errlen, "key ring: no key (a line is \"kid "
		    "secret\")");
		goto out;
	}
	ring_commit(out, &tmp);
	rc = 0;
out:
	crypto_wipe(&tmp, sizeof tmp);
	return rc;
}

int
jwt_ring_single(struct jwt_ring *out, const char *kid, const void *secret,
    size_t len)
{
	struct jwt_ring tmp;
	int rc = -1;

	memset(&tmp, 0, sizeof tmp);
	if (kid == NULL || secret == NULL || len < JWT_KEY_MIN ||
	    !kid_valid(kid, strnlen(kid, JWT_KID_MAX + 1)) ||
	    key_set(&tmp.keys[0], kid, strlen(kid), secret, len) < 0)
		goto out;
	tmp.n = 1;
	ring_commit(out, &tmp);
	rc = 0;
out:
	crypto_wipe(&tmp, sizeof tmp);
	return rc;
}

void
jwt_ring_wipe(struct jwt_ring *r)
{
	crypto_wipe(r, sizeof *r);
}

/* ---- signing ----------------------------------------------------------- */

struct obuf {
	char *b;
	size_t cap, len;
	int full; /* something did not fit: the result is unusable */
};

static void
put(struct obuf *o, const char *s, size_t n)
{
	if (o->full || o->cap - o->len < n + 1) {
		o->full = 1;
		return;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
	o->b[o->len] = '\0';
}

/* s as a JSON string, quotes included; s is valid UTF-8. */
static void
put_json_str(struct obuf *o, const char *s)
{
	static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
	const char *e;
	char esc[8];

	put(o, "\"", 1);
	for (; *s != '\0'; s++) {
		if ((e = strchr(from, *s)) != NULL) {
			esc[0] = '\\';
			esc[1] = to[e - from];
			put(o, esc, 2);
		} else if ((unsigned char)*s < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x",
			    (unsigned)(unsigned char)*s);
			put(o, esc, 6);
		} else
			put(o, s, 1);
	}
	put(o, "\"", 1);
}

static void
put_member(struct obuf *o, const char *key, const char *s, long long num)
{
	char n[32];

	/* Right after the '{' (length 1) no comma. */
	put(o, o->len > 1 ? ",\"" : "\"", o->len > 1 ? 2 : 1);
	put(o, key, strlen(key));
	put(o, "\":", 2);
	if (s != NULL)
		put_json_str(o, s);
	else {
		snprintf(n, sizeof n, "%lld", num);
		put(o, n, strlen(n));
	}
}

static void
put_b64(struct obuf *o, const void *in, size_t n)
{
	size_t k;

	if (o->full || (k = b64url_encode(in, n, o->b + o->len,
	    o->cap - o->len)) == 0) {
		o->full = 1;
		return;
	}
	o->len += k;
}

/* A claim string jwt_verify accepts back: 1..max bytes of UTF-8 (the
 * array holds max + 1). */
static int
claim_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	return n > 0 && n <= max && utf8_valid(s, n);
}

ssize_t
jwt_sign(const struct jwt_ring *ring, const struct jwt_claims *c,
    char *out, size_t outcap)
{
	static const char hdr[] =
	    "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"";
	/* The header: hdr, the kid, '"' '}' and a NUL. */
	char head[sizeof hdr + JWT_KID_MAX + 2], body[JWT_JSON_MAX];
	struct obuf h = { head, sizeof head, 0, 0 };
	struct obuf b = { body, sizeof body, 0, 0 };
	struct obuf t = { out, outcap, 0, 0 };
	const struct jwt_key *k;
	unsigned char mac[32];
	ssize_t rc = -1;

	if (outcap > 0)
		out[0] = '\0';
	if (ring == NULL || c == NULL || ring->n == 0)
		goto out;
	k = &ring->keys[0];
	if (!kid_valid(k->kid, strnlen(k->kid, JWT_KID_MAX + 1)) ||
	    k->len == 0 || k->len > JWT_HMAC_BLOCK)
		goto out;
	if (!claim_ok(c->sub, JWT_SUB_MAX) ||
	    !claim_ok(c->email, JWT_EMAIL_MAX) ||
	    !claim_ok(c->role, JWT_ROLE_MAX) ||
	    !claim_ok(c->jti, JWT_JTI_MAX) ||
	    !claim_ok(c->iss, JWT_ISS_MAX) ||
	    c->iat < 0 || c->exp < c->iat)
		goto out;

	put(&h, hdr, sizeof hdr - 1);
	put(&h, k->kid, strlen(k->kid)); /* [A-Za-z0-9._-]: no escapes */
	put(&h, "\"}", 2);
	put(&b, "{", 1);
	put_member(&b, "sub", c->sub, 0);
	put_member(&b, "email", c->email, 0);
	put_member(&b, "role", c->role, 0);
	put_member(&b, "jti", c->jti, 0);
	put_member(&b, "iat", NULL, c->iat);
	put_member(&b, "exp", NULL, c->exp);
	put_member(&b, "iss", c->iss, 0);
	put(&b, "}", 1);
	if (h.full || b.full)
		goto out;

	put_b64(&t, head, h.len);
	put(&t, ".", 1);
	put_b64(&t, body, b.len);
	if (t.full || jwt_hs256(k->key, k->len, out, t.len, mac) < 0)
		goto out;
	put(&t, ".", 1);
	put_b64(&t, mac, sizeof mac);
	if (t.full || t.len > JWT_TOKEN_MAX)
		goto out;
	rc = (ssize_t)t.len;
out:
	if (rc < 0 && outcap > 0)
		out[0] = '\0';
	return rc;
}

/* ---- verifying --------------------------------------------------------- */

/* The string member key into dst[0..max], NUL-terminated: -1 when it is
 * missing, not a string, empty or longer than max. */
static int
claim_str(const struct jwt_json *j, const char *key, char *dst, size_t max)
{
	const struct jwt_json_member *m = jwt_json_get(j, key);

	if (m == NULL || m->type != JWT_JSON_STRING || m->len == 0 ||
	    m->len > max)
		return -1;
	memcpy(dst, m->str, m->len); /* no NUL inside: \u0000 is refused */
	dst[m->len] = '\0';
	return 0;
}

static int
claim_int(const struct jwt_json *j, const char *key, long long *out)
{
	const struct jwt_json_member *m = jwt_json_get(j, key);

	if (m == NULL || m->type != JWT_JSON_INT)
		return -1;
	*out = m->num;
	return 0;
}

/* Refusals that depend on the header alone (see jwt.h for the order). */
static enum jwt_err
check_header(const struct jwt_json *j, const struct jwt_ring *ring,
    const struct jwt_key **key)
{
	const struct jwt_json_member *m;
	size_t i;

	m = jwt_json_get(j, "alg");
	if (m == NULL || m->type != JWT_JSON_STRING || m->len != 5 ||
	    memcmp(m->str, "HS256", 5) != 0)
		return JWT_BAD_ALG;
	for (i = 0; i < j->n; i++)
		if (strcmp(j->m[i].key, "alg") != 0 &&
		    strcmp(j->m[i].key, "typ") != 0 &&
		    strcmp(j->m[i].key, "kid") != 0)
			return JWT_BAD_HEADER;
	m = jwt_json_get(j, "typ");
	if (m != NULL && (m->type != JWT_JSON_STRING || m->len != 3 ||
	    memcmp(m->str, "JWT", 3) != 0))
		return JWT_BAD_HEADER;
	m = jwt_json_get(j, "kid");
	if (m == NULL || m->type != JWT_JSON_STRING ||
	    (*key = ring_find(ring, m->str, m->len)) == NULL ||
	    (*key)->len == 0 || (*key)->len > JWT_HMAC_BLOCK)
		return JWT_UNKNOWN_KID;
	return JWT_OK;
}

enum jwt_err
jwt_verify(const struct jwt_ring *ring, const char *token, size_t len,
    long long now, const char *issuer, long skew_seconds,
    struct jwt_claims *out)
{
	struct jwt_json j;
	unsigned char dec[JWT_TOKEN_MAX], mac[32];
	const char *d1, *d2, *sig;
	const struct jwt_key *key = NULL;
	size_t hl, pl, sl;
	ssize_t hn, pn, sn;
	unsigned long long skew;
	enum jwt_err rc = JWT_MALFORMED;

	memset(out, 0, sizeof *out);
	if (ring == NULL || token == NULL || len == 0 || len > JWT_TOKEN_MAX)
		goto out;
	/* Three non-empty parts: two dots, no third. */
	if ((d1 = memchr(token, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) ==
	    NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) !=
	    NULL)
		goto out;
	sig = d2 + 1;
	hl = (size_t)(d1 - token);
	pl = (size_t)(d2 - d1 - 1);
	sl = len - (size_t)(sig - token);
	if (hl == 0 || pl == 0 || sl == 0)
		goto out;
	/* All three decoded side by side: together they are at most 3/4 of
	 * len, so dec holds them; a part that is not canonical base64url is
	 * refused before anything is parsed. */
	if ((hn = b64url_decode(token, hl, dec, sizeof dec)) <= 0 ||
	    (pn = b64url_decode(d1 + 1, pl, dec + hn,
	    sizeof dec - (size_t)hn)) <= 0 ||
	    (sn = b64url_decode(sig, sl, dec + hn + pn,
	    sizeof dec - (size_t)hn - (size_t)pn)) <= 0)
		goto out;
	if (jwt_json_parse(&j, (const char *)dec, (size_t)hn) < 0)
		goto out;
	if ((rc = check_header(&j, ring, &key)) != JWT_OK)
		goto out;

	/* Nothing in the payload is looked at before this. */
	rc = JWT_BAD_SIGNATURE;
	if (sn != 32)
		goto out;
	if (jwt_hs256(key->key, key->len, token, (size_t)(d2 - token),
	    mac) < 0) {
		rc = JWT_INTERNAL;
		goto out;
	}
	if (!crypto_equal(mac, sizeof mac, dec + hn + pn, 32))
		goto out;

	rc = JWT_MALFORMED;
	if (jwt_json_parse(&j, (const char *)dec + hn, (size_t)pn) < 0)
		goto out;
	rc = JWT_BAD_CLAIMS;
	if (claim_str(&j, "sub", out->sub, JWT_SUB_MAX) < 0 ||
	    claim_str(&j, "email", out->email, JWT_EMAIL_MAX) < 0 ||
	    claim_str(&j, "role", out->role, JWT_ROLE_MAX) < 0 ||
	    claim_str(&j, "jti", out->jti, JWT_JTI_MAX) < 0 ||
	    claim_str(&j, "iss", out->iss, JWT_ISS_MAX) < 0 ||
	    claim_int(&j, "iat", &out->iat) < 0 ||
	    claim_int(&j, "exp", &out->exp) < 0 ||
	    out->iat < 0 || out->exp < out->iat)
		goto out;
	rc = JWT_BAD_ISSUER;
	if (issuer == NULL || strcmp(out->iss, issuer) != 0)
		goto out;
	rc = JWT_EXPIRED;
	if (out->exp <= now)
		goto out;
	/* iat - now in unsigned arithmetic: no overflow for any now. */
	rc = JWT_IAT_FUTURE;
	skew = skew_seconds > 0 ? (unsigned long long)skew_seconds : 0;
	if (out->iat > now &&
	    (unsigned long long)out->iat - (unsigned long long)now > skew)
		goto out;
	memcpy(out->kid, key->kid, sizeof out->kid);
	rc = JWT_OK;
out:
	/* What HMAC gives for this input is a valid signature for it. */
	crypto_wipe(mac, sizeof mac);
	if (rc != JWT_OK)
		memset(out, 0, sizeof *out);
	return rc;
}

const char *
jwt_error_name(enum jwt_err e)
{
	switch (e) {
	case JWT_OK:
		return "ok";
	case JWT_MALFORMED:
		return "malformed";
	case JWT_BAD_ALG:
		return "bad_alg";
	case JWT_BAD_HEADER:
		return "bad_header";
	case JWT_UNKNOWN_KID:
		return "unknown_kid";
	case JWT_INTERNAL:
		return "internal";
	case JWT_BAD_SIGNATURE:
		return "bad_signature";
	case JWT_BAD_CLAIMS:
		return "bad_claims";
	case JWT_BAD_ISSUER:
		return "bad_issuer";
	case JWT_EXPIRED:
		return "expired";
	case JWT_IAT_FUTURE:
		return "iat_future";
	}
	return "unknown";
}
