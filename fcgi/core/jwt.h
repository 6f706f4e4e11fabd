/*
 * core/jwt.h -- access tokens: JWT (RFC 7519) signed with HS256 (RFC 7515)
 * under a key ring, with OpenSSL only.
 *
 * A key ring holds up to JWT_RING_MAX keys, each named by a kid that the
 * token's header carries.  keys[0] signs; every key verifies, so a key can
 * be replaced without logging anyone out: put the new key first, keep the
 * old one below it for one token lifetime, then drop it.
 *
 * Nothing here logs, and no message written here ever holds a secret or a
 * token; log the jwt_error_name of a refusal, never the token.
 */
#ifndef CORE_JWT_H
#define CORE_JWT_H

#include <stddef.h>
#include <sys/types.h>

#define JWT_RING_MAX 16   /* keys in a ring */
#define JWT_KID_MAX 64    /* kid: 1..64 characters of [A-Za-z0-9._-] */
#define JWT_KEY_MIN 32    /* bytes a secret has at least */
#define JWT_HMAC_BLOCK 64 /* SHA-256's block: see struct jwt_key */
#define JWT_TOKEN_MAX 4096 /* longest token jwt_verify decodes */

/* Claim limits in bytes (UTF-8), NUL excluded.  A longer value is refused
 * (jwt_sign returns -1, jwt_verify JWT_BAD_CLAIMS), never truncated. */
#define JWT_SUB_MAX 64    /* a user id: a UUID is 36 */
#define JWT_EMAIL_MAX 254 /* EMAIL_MAX of core/validate.h */
#define JWT_ROLE_MAX 32
#define JWT_JTI_MAX 64
#define JWT_ISS_MAX 128

/*
 * A key as HMAC (RFC 2104) uses it: a secret of at most JWT_HMAC_BLOCK
 * bytes is kept as it is; a longer one is kept as its SHA-256, which is
 * what HMAC-SHA256 does with it anyway, so the signature is the same and
 * a secret of any length fits.  Key material: jwt_ring_wipe it.
 */
struct jwt_key {
	char kid[JWT_KID_MAX + 1];
	size_t len;                          /* bytes used in key */
	unsigned char key[JWT_HMAC_BLOCK];
};

struct jwt_ring {
	size_t n;                            /* 0: the ring is empty */
	struct jwt_key keys[JWT_RING_MAX];   /* keys[0] signs */
};

/*
 * Parses a key ring file's text: one "kid secret" per line, the kid and
 * the secret separated by spaces or tabs.  The secret is the rest of the
 * line, as raw bytes, trailing spaces, tabs and CR removed; it may hold
 * spaces and '#'.  Lines that are blank or whose first non-blank
 * character is '#' are skipped.  Refused: a bad kid, a line without a
 * secret, a secret under JWT_KEY_MIN bytes, a kid twice, more than
 * JWT_RING_MAX keys, no key at all.  On error writes a message into err
 * (the line number, and the kid where that cannot be a secret, but never
 * the secret) and returns -1 with *out untouched.  On success the old
 * *out is wiped and replaced; the caller owns *out and wipes it.
 */
int jwt_ring_parse(const char *text, struct jwt_ring *out, char *err,
    size_t errlen);
/* A ring of one key (BULWARK_JWT_SECRET without a ring file): secret[0..len)
 * under kid.  -1, *out untouched, when the kid is malformed or the secret
 * shorter than JWT_KEY_MIN; else *out is wiped and replaced.  The caller
 * keeps ownership of secret (and should wipe it). */
int jwt_ring_single(struct jwt_ring *out, const char *kid,
    const void *secret, size_t len);
/* Wipes every key (crypto_wipe) and empties the ring. */
void jwt_ring_wipe(struct jwt_ring *);

/*
 * The claims of an access token.  Strings are NUL-terminated UTF-8 and
 * never empty in a token that jwt_sign makes or jwt_verify accepts.
 */
struct jwt_claims {
	char sub[JWT_SUB_MAX + 1];     /* the user id */
	char email[JWT_EMAIL_MAX + 1];
	char role[JWT_ROLE_MAX + 1];
	char jti[JWT_JTI_MAX + 1];     /* this token's id (deny list) */
	char iss[JWT_ISS_MAX + 1];
	long long iat;                 /* issued at, seconds since 1970 */
	long long exp;                 /* expires at: invalid from then on */
	char kid[JWT_KID_MAX + 1];     /* jwt_verify: the key that verified
	                                  it; jwt_sign ignores it */
};

/*
 * Signs claims with ring->keys[0]: header exactly
 * {"alg":"HS256","typ":"JWT","kid":"<kid>"}, payload
 * {"sub":..,"email":..,"role":..,"jti":..,"iat":N,"exp":N,"iss":..} with
 * the strings JSON-escaped.  Writes the token, NUL-terminated, into
 * out[0..outcap) and returns its length (at most JWT_TOKEN_MAX, so that
 * jwt_verify takes it), or -1: an empty ring, a claim string empty, too
 * long or not UTF-8, iat < 0 or exp < iat, outcap too small, or HMAC
 * failing (out of memory).  On -1 out holds the empty string (if outcap).
 */
ssize_t jwt_sign(const struct jwt_ring *, const struct jwt_claims *,
    char *out, size_t outcap);

/*
 * Why jwt_verify refused a token, in the order it checks:
 *
 *  JWT_MALFORMED      token NULL, empty or over JWT_TOKEN_MAX bytes; not
 *                     exactly three '.'-separated parts, each non-empty
 *                     (an empty signature too: "alg":"none" tokens end
 *                     here); a part not canonical base64url; a header
 *                     that is not a flat JSON object (jwt_json_parse)
 *  JWT_BAD_ALG        alg missing, not a string, or not exactly "HS256"
 *  JWT_BAD_HEADER     typ present but not the string "JWT"; a header
 *                     member other than alg, typ and kid (crit, jku, ...)
 *  JWT_UNKNOWN_KID    kid missing, not a string, or not in the ring
 *  JWT_INTERNAL       HMAC could not be computed (out of memory)
 *  JWT_BAD_SIGNATURE  the signature is not 32 bytes, or not HMAC-SHA256
 *                     of the ASCII "header.payload" under that kid's key
 *                     (crypto_equal)
 *  -- from here on the payload is signed by a key of the ring --
 *  JWT_MALFORMED      the payload is not a flat JSON object
 *  JWT_BAD_CLAIMS     sub, email, role, jti, iss missing, not strings,
 *                     empty or over their limit; iat or exp missing or
 *                     not integers (a string or 1.5 is not); iat < 0;
 *                     exp < iat
 *  JWT_BAD_ISSUER     iss is not exactly issuer (issuer NULL: always)
 *  JWT_EXPIRED        exp <= now (no leeway on expiry)
 *  JWT_IAT_FUTURE     iat > now + skew_seconds
 *
 * Other payload members are ignored (nbf and aud included: our tokens
 * carry neither), but they must still be well-formed, unique JSON.
 */
enum jwt_err {
	JWT_OK = 0,
	JWT_MALFORMED,
	JWT_BAD_ALG,
	JWT_BAD_HEADER,
	JWT_UNKNOWN_KID,
	JWT_INTERNAL,
	JWT_BAD_SIGNATURE,
	JWT_BAD_CLAIMS,
	JWT_BAD_ISSUER,
	JWT_EXPIRED,
	JWT_IAT_FUTURE
};

/*
 * Verifies token[0..len) against ring at time now (seconds since 1970).
 * skew_seconds is how far iat may be ahead of now (another host's clock;
 * negative counts as 0); exp gets no skew.  On JWT_OK *out holds the
 * claims and the kid that verified them; on any refusal *out is all zero,
 * so nothing of a refused token can be used by mistake.  Reads no more
 * than len bytes of token, which need not be NUL-terminated.
 */
enum jwt_err jwt_verify(const struct jwt_ring *, const char *token,
    size_t len, long long now, const char *issuer, long skew_seconds,
    struct jwt_claims *out);
/* A short constant name for logs ("ok", "malformed", "bad_alg", ...). */
const char *jwt_error_name(enum jwt_err);

/* HMAC-SHA256 of input[0..n) under key[0..keylen) (crypto_hmac_sha256):
 * 0, or -1 (out zeroed) for an empty key or when OpenSSL cannot compute
 * it.  What signs tokens; exposed for tests against RFC vectors. */
int jwt_hs256(const unsigned char *key, size_t keylen, const char *input,
    size_t n, unsigned char out[32]);

/*
 * The strict parser jwt_verify uses for the header and the payload,
 * exposed for tests and fuzzing: exactly one JSON object (RFC 8259), JSON
 * whitespace allowed where JSON allows it, nothing after it.  Values are
 * strings, numbers, true, false and null; an object or array as a value is
 * refused (the whole text is).  Strings (keys too) are decoded: the
 * escapes \" \\ \/ \b \f \n \r \t \uXXXX, surrogate pairs to UTF-8;
 * refused are \u0000, lone surrogates, raw bytes below 0x20, invalid
 * UTF-8 (overlong forms, encoded surrogates).  Refused too: a key twice
 * (compared after decoding: "alg" and "\u0061lg" are the same), more than
 * JWT_JSON_MEMBERS members, a text over JWT_JSON_MAX bytes, a string
 * that decodes to more than JWT_JSON_STR_MAX bytes.
 */
#define JWT_JSON_MAX 4096
#define JWT_JSON_MEMBERS 32
#define JWT_JSON_STR_MAX 1024

enum jwt_json_type {
	JWT_JSON_STRING,
	JWT_JSON_INT,    /* an integer (no fraction, no exponent) that fits
	                    in a long long */
	JWT_JSON_NUMBER, /* any other number: its value is not kept */
	JWT_JSON_TRUE,
	JWT_JSON_FALSE,
	JWT_JSON_NULL
};

struct jwt_json_member {
	const char *key;         /* decoded, NUL-terminated, in buf */
	size_t keylen;
	enum jwt_json_type type;
	const char *str;         /* JWT_JSON_STRING: decoded, in buf */
	size_t len;
	long long num;           /* JWT_JSON_INT */
};

/* Everything points into the struct itself: copy it and the pointers
 * still point into the original. */
struct jwt_json {
	size_t n;
	struct jwt_json_member m[JWT_JSON_MEMBERS];
	char buf[JWT_JSON_MAX + 1]; /* decoded strings never outgrow their
	                               JSON form, quotes included */
};

/* Parses in[0..n) (need not be NUL-terminated) into *out: 0, or -1 with
 * out->n == 0. */
int jwt_json_parse(struct jwt_json *out, const char *in, size_t n);
/* The member named key, or NULL. */
const struct jwt_json_member *jwt_json_get(const struct jwt_json *,
    const char *key);

#endif
