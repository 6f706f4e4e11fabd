/*
 * core/config.h -- configuration from the environment and the file named
 * by BULWARK_CONFIG (KEY=value lines; the environment wins).
 *
 * Loaded whole or not at all: a refused file (a bad SIGHUP reload) leaves
 * the configuration in force untouched, trusted proxies included.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "core/ip.h"
#include "core/jwt.h"
#include "core/seal.h"

/* BULWARK_DATA_KEY_FILE: the current data key on its first line, older
 * ones (still opening what they sealed until `bulwark rekey`) after it. */
#define DATA_KEYS_MAX 8
#define DATA_KEY_MIN 32
#define TOTP_ISSUER_MAX 64

enum pw_algo { PW_YESCRYPT, PW_BCRYPT };

/* bcrypt reads 72 bytes of a password and ignores the rest. */
#define BCRYPT_MAX_BYTES 72

/* At most this many origins in BULWARK_CORS_ORIGINS. */
#define CORS_MAX 32

struct config {
	char *database_url;    /* NULL: libpq's PG* variables */
	char *jwt_secret;      /* raw bytes, >= 32 */
	size_t jwt_secret_len;
	/* The access tokens' key ring: BULWARK_JWT_KEYS_FILE, or else the
	 * JWT secret alone under kid JWT_DEFAULT_KID.  keys[0] signs. */
	struct jwt_ring jwt_ring;
	char *jwt_keys_file;
	/* Server keys derived from the ring's keys (HMAC-SHA256 of a label):
	 * the session's CSRF token (one per key of the ring: keys[0]'s makes
	 * it, any verifies it), the next refresh token of a spent one, a
	 * queued message's secret (both from keys[0]).  All zero without a
	 * ring. */
	unsigned char csrf_keys[JWT_RING_MAX][32];
	unsigned char refresh_key[32];
	unsigned char mail_key[32];    /* a queued message's secret */
	char *jwt_issuer;      /* BULWARK_JWT_ISSUER, default "bulwark" */
	long access_ttl;       /* seconds an access token lives */
	long refresh_ttl;      /* a refresh family's absolute lifetime */
	long refresh_reuse_interval; /* grace for a spent refresh token; 0 off */
	/* Password reset and mail (API.md "Password reset", "Mail"). */
	long reset_ttl;        /* seconds a reset token works */
	long reset_email_limit; /* /forgot-password per email per hour */
	long reset_ip_limit;   /* ... per IP per hour */
	enum mail_transport { MAIL_FILE, MAIL_SENDMAIL } mail_transport;
	char *mail_dir;        /* MAIL_FILE: where messages go (required) */
	char *sendmail;        /* MAIL_SENDMAIL: the program (-t -i) */
	char *mail_from;       /* the From: header, checked: no CR/LF */
	char *public_url;      /* links are built on it, no trailing '/' */
	long mail_retry_seconds; /* the first retry's delay; doubles after */
	/* Two-factor authentication and email verification (API.md). */
	struct seal_key data_keys[DATA_KEYS_MAX]; /* [0] seals, any opens */
	int n_data_keys;       /* 0: no data key, 2FA cannot be enabled */
	char *totp_issuer;     /* BULWARK_TOTP_ISSUER, default "Bulwark" */
	long verify_ttl;       /* seconds a verification token works */
	long verify_resend_limit; /* /verify-email/resend per user per hour */
	int require_email_verification;
	char *log_file;        /* NULL: standard error */
	char *trusted_proxies; /* the raw CIDR list, as configured */
	struct ip_list proxies; /* ... and parsed */
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
	long read_timeout;     /* seconds a request may take to arrive */
	long signup_ip_limit;  /* per IP per signup_window */
	long signup_window;
	/* BULWARK_CORS_ORIGINS: the raw list, and its exact origins
	 * (lower-cased, malloc'd).  Empty: same origin only. */
	char *cors_origins;
	char *cors_list[CORS_MAX];
	size_t cors_n;
};

/* The kid of BULWARK_JWT_SECRET when no key ring file is given. */
#define JWT_DEFAULT_KID "default"

extern struct config cfg;

/* Loads cfg from the file named by BULWARK_CONFIG and the environment (the
 * environment wins).  need_secret: what serving needs, a usable JWT secret
 * (or key ring) and a mail directory for the file transport, or refuse.
 * On failure writes a message into err and returns -1; cfg is untouched. */
int config_load(int need_secret, char *err, size_t errlen);
/* The data key named kid, or NULL. */
const struct seal_key *config_data_key(const char *kid);

/* Value of a key from the environment, then the config file; NULL if unset.
 * Valid until the next config_load. */
const char *config_get(const char *key);

/* 1 when name is a key the program reads. */
int config_key_known(const char *name);
/* " (did you mean KEY?)" for a near miss of a known key, else "". */
void config_suggest(const char *name, char *out, size_t cap);
/* The BULWARK_* entries of the environment that are no key of the
 * program's (nor of the scripts around it): up to max "NAME=value"
 * pointers into environ, of which only the NAME may be shown.  The count. */
size_t config_unknown_env(const char **names, size_t max);
/* Prints every key with the value in force and where it comes from
 * (environment, file:line, or the default), secrets masked. */
void config_show(FILE *);
/* 1 when origin is exactly one of BULWARK_CORS_ORIGINS (ASCII case
 * ignored). */
int config_origin_listed(const char *origin);

#endif
