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

#include "core/ip.h"

enum pw_algo { PW_YESCRYPT, PW_BCRYPT };

/* bcrypt reads 72 bytes of a password and ignores the rest. */
#define BCRYPT_MAX_BYTES 72

struct config {
	char *database_url;    /* NULL: libpq's PG* variables */
	char *jwt_secret;      /* raw bytes, >= 32 */
	size_t jwt_secret_len;
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

#endif
