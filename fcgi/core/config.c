/*
 * core/config.c -- configuration from the environment and BULWARK_CONFIG.
 *
 * The file holds KEY=value lines (blank lines and # comments allowed, no
 * quoting).  A key set in the environment wins over the file.  Every number
 * is range-checked: a bad value refuses to start rather than guessing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/ip.h"

struct config cfg;

#define MAX_FILE_KEYS 128
#define MAX_LINE 4096

struct kv {
	char *key;
	char *val;
};

static struct kv file_kv[MAX_FILE_KEYS];
static size_t file_nkv;

static void
file_clear(void)
{
	size_t i;

	for (i = 0; i < file_nkv; i++) {
		free(file_kv[i].key);
		free(file_kv[i].val);
	}
	file_nkv = 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int
file_load(const char *path, char *err, size_t errlen)
{
	FILE *f;
	char line[MAX_LINE], *k, *v, *eq;
	int lineno = 0, rc = -1;

	file_clear();
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "BULWARK_CONFIG: cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path,
			    lineno);
			goto out;
		}
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected KEY=value", path,
			    lineno);
			goto out;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if (file_nkv == MAX_FILE_KEYS) {
			snprintf(err, errlen, "%s: too many keys", path);
			goto out;
		}
		file_kv[file_nkv].key = strdup(k);
		file_kv[file_nkv].val = strdup(v);
		if (file_kv[file_nkv].key == NULL ||
		    file_kv[file_nkv].val == NULL) {
			free(file_kv[file_nkv].key);
			free(file_kv[file_nkv].val);
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		file_nkv++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

const char *
config_get(const char *key)
{
	const char *v;
	size_t i;

	if ((v = getenv(key)) != NULL)
		return v;
	for (i = file_nkv; i > 0; i--) /* the last line for a key wins */
		if (strcmp(file_kv[i - 1].key, key) == 0)
			return file_kv[i - 1].val;
	return NULL;
}

static int
get_long(const char *key, long def, long min, long max, long *out, char *err,
    size_t errlen)
{
	const char *v = config_get(key);
	char *end;
	long n;

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || n < min || n > max) {
		snprintf(err, errlen, "%s must be a whole number from %ld to %ld",
		    key, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

/* *out: a copy of the key's value, or NULL when unset.  -1 on ENOMEM. */
static int
dup_opt(const char *key, char **out)
{
	const char *v = config_get(key);

	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	return (*out = strdup(v)) == NULL ? -1 : 0;
}

/* Reads a small file of secrets (what: the key that named it) into a
 * malloc'd, NUL-terminated copy; a trailing newline is dropped. */
static int
read_secret_file(const char *what, const char *path, char **out,
    size_t *outlen, char *err, size_t errlen)
{
	char buf[16384];
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: cannot open %s: %s", what, path,
		    strerror(errno));
		return -1;
	}
	while (len < sizeof buf &&
	    (n = read(fd, buf + len, sizeof buf - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			crypto_wipe(buf, sizeof buf);
			snprintf(err, errlen, "%s: read error", what);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len == sizeof buf) {
		crypto_wipe(buf, sizeof buf);
		snprintf(err, errlen, "%s: %s is larger than %zu bytes", what,
		    path, sizeof buf - 1);
		return -1;
	}
	/* A trailing newline is an editor's, not part of the secret. */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if ((*out = malloc(len + 1)) == NULL) {
		crypto_wipe(buf, sizeof buf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(*out, buf, len);
	(*out)[len] = '\0';
	*outlen = len;
	crypto_wipe(buf, sizeof buf);
	return 0;
}

/* A copy of key's value, or of def when unset; -1 on ENOMEM. */
static int
dup_def(const char *key, const char *def, char **out)
{
	if (dup_opt(key, out) < 0)
		return -1;
	if (*out == NULL && (*out = strdup(def)) == NULL)
		return -1;
	return 0;
}

/* The mail settings: the transport and what it needs, the From: header
 * and the base of links, each checked so that nothing configured can put
 * a CR or LF into a header. */
static int
load_mail(struct config *c, int serving, char *err, size_t errlen)
{
	const char *v = config_get("BULWARK_MAIL_TRANSPORT");
	size_t n;

	if (v == NULL || *v == '\0' || strcmp(v, "sendmail") == 0)
		c->mail_transport = MAIL_SENDMAIL;
	else if (strcmp(v, "file") == 0)
		c->mail_transport = MAIL_FILE;
	else {
		snprintf(err, errlen, "BULWARK_MAIL_TRANSPORT must be file or "
		    "sendmail");
		return -1;
	}
	if (dup_opt("BULWARK_MAIL_DIR", &c->mail_dir) < 0 ||
	    dup_def("BULWARK_SENDMAIL", "/usr/sbin/sendmail", &c->sendmail) < 0 ||
	    dup_def("BULWARK_MAIL_FROM", "Bulwark <no-reply@localhost>",
	    &c->mail_from) < 0 ||
	    dup_def("BULWARK_PUBLIC_URL", "http://localhost:3000",
	    &c->public_url) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Only what serves sends mail; the other commands need no mail
	 * directory. */
	if (serving && c->mail_transport == MAIL_FILE && c->mail_dir == NULL) {
		snprintf(err, errlen, "BULWARK_MAIL_TRANSPORT=file needs "
		    "BULWARK_MAIL_DIR");
		return -1;
	}
	if (strpbrk(c->mail_from, "\r\n") != NULL ||
	    strpbrk(c->public_url, "\r\n \t") != NULL) {
		snprintf(err, errlen, "BULWARK_MAIL_FROM and BULWARK_PUBLIC_URL "
		    "may not hold a line break (nor the URL a space)");
		return -1;
	}
	if (strncmp(c->public_url, "http://", 7) != 0 &&
	    strncmp(c->public_url, "https://", 8) != 0) {
		snprintf(err, errlen, "BULWARK_PUBLIC_URL must start with "
		    "http:// or https://");
		return -1;
	}
	n = strlen(c->public_url);
	while (n > 0 && c->public_url[n - 1] == '/')
		c->public_url[--n] = '\0';
	return 0;
}

/* The key ring: BULWARK_JWT_KEYS_FILE, else the JWT secret under
 * JWT_DEFAULT_KID (none: an empty ring).  Then the keys derived from the
 * signing key. */
static int
load_ring(struct config *c, char *err, size_t errlen)
{
	static const char csrf_label[] = "bulwark csrf v1";
	static const char refresh_label[] = "bulwark refresh v1";
	static const char mail_label[] = "bulwark mail v1";
	const struct jwt_key *k;
	char msg[256], *text;
	size_t len, i;
	int rc;

	if (c->jwt_keys_file != NULL) {
		if (read_secret_file("BULWARK_JWT_KEYS_FILE", c->jwt_keys_file,
		    &text, &len, err, errlen) < 0)
			return -1;
		rc = jwt_ring_parse(text, &c->jwt_ring, msg, sizeof msg);
		crypto_wipe(text, len);
		free(text);
		if (rc < 0) {
			snprintf(err, errlen, "BULWARK_JWT_KEYS_FILE %s: %s",
			    c->jwt_keys_file, msg);
			return -1;
		}
	} else if (c->jwt_secret != NULL &&
	    jwt_ring_single(&c->jwt_ring, JWT_DEFAULT_KID, c->jwt_secret,
	    c->jwt_secret_len) < 0) {
		snprintf(err, errlen, "BULWARK_JWT_SECRET is not a usable key");
		return -1;
	}
	if (c->jwt_ring.n == 0)
		return 0;
	/* A CSRF key for every key of the ring: the first makes the
	 * session's token, any verifies it, so a new signing key put first
	 * does not fail the forms that browsers have open. */
	for (i = 0; i < c->jwt_ring.n; i++) {
		k = &c->jwt_ring.keys[i];
		if (crypto_hmac_sha256(k->key, k->len, csrf_label,
		    sizeof csrf_label - 1, c->csrf_keys[i]) < 0)
			goto oom;
	}
	k = &c->jwt_ring.keys[0];
	if (crypto_hmac_sha256(k->key, k->len, refresh_label,
	    sizeof refresh_label - 1, c->refresh_key) < 0 ||
	    crypto_hmac_sha256(k->key, k->len, mail_label, sizeof mail_label - 1,
	    c->mail_key) < 0)
		goto oom;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void
config_release(struct config *c)
{
	free(c->database_url);
	if (c->jwt_secret != NULL)
		crypto_wipe(c->jwt_secret, c->jwt_secret_len);
	free(c->jwt_secret);
	free(c->log_file);
	free(c->trusted_proxies);
	free(c->config_file);
	free(c->jwt_keys_file);
	free(c->jwt_issuer);
	jwt_ring_wipe(&c->jwt_ring);
	crypto_wipe(c->csrf_keys, sizeof c->csrf_keys);
	crypto_wipe(c->refresh_key, sizeof c->refresh_key);
	crypto_wipe(c->mail_key, sizeof c->mail_key);
	free(c->mail_dir);
	free(c->sendmail);
	free(c->mail_from);
	free(c->public_url);
	memset(c, 0, sizeof *c);
}

int
config_load(int need_secret, char *err, size_t errlen)
{
	struct config c;
	const char *v, *file;
	long secure;

	memset(&c, 0, sizeof c);
	file_clear();
	if ((file = getenv("BULWARK_CONFIG")) != NULL && *file != '\0') {
		if (file_load(file, err, errlen) < 0)
			return -1;
		if ((c.config_file = strdup(file)) == NULL)
			goto oom;
	}

	if (dup_opt("DATABASE_URL", &c.database_url) < 0 ||
	    dup_opt("BULWARK_LOG_FILE", &c.log_file) < 0 ||
	    dup_opt("BULWARK_TRUSTED_PROXIES", &c.trusted_proxies) < 0)
		goto oom;

	if ((v = config_get("BULWARK_JWT_SECRET")) != NULL && *v != '\0') {
		if ((c.jwt_secret = strdup(v)) == NULL)
			goto oom;
		c.jwt_secret_len = strlen(v);
	} else if ((v = config_get("BULWARK_JWT_SECRET_FILE")) != NULL &&
	    *v != '\0') {
		if (read_secret_file("BULWARK_JWT_SECRET_FILE", v, &c.jwt_secret,
		    &c.jwt_secret_len, err, errlen) < 0)
			goto fail;
	}
	if (dup_opt("BULWARK_JWT_KEYS_FILE", &c.jwt_keys_file) < 0)
		goto oom;
	if (need_secret && c.jwt_secret == NULL && c.jwt_keys_file == NULL) {
		snprintf(err, errlen, "BULWARK_JWT_SECRET (or "
		    "BULWARK_JWT_SECRET_FILE, or a key ring in "
		    "BULWARK_JWT_KEYS_FILE) is required: set it to at least "
		    "32 random bytes, e.g. `openssl rand -base64 48`");
		goto fail;
	}
	if (c.jwt_secret != NULL && c.jwt_secret_len < JWT_KEY_MIN) {
		snprintf(err, errlen, "BULWARK_JWT_SECRET must be at least 32 "
		    "bytes (it has %zu)", c.jwt_secret_len);
		goto fail;
	}
	if (load_ring(&c, err, errlen) < 0)
		goto fail;
	if (dup_opt("BULWARK_JWT_ISSUER", &c.jwt_issuer) < 0 ||
	    (c.jwt_issuer == NULL && (c.jwt_issuer = strdup("bulwark")) == NULL))
		goto oom;
	if (strlen(c.jwt_issuer) > JWT_ISS_MAX) {
		snprintf(err, errlen, "BULWARK_JWT_ISSUER must be at most %d "
		    "bytes", JWT_ISS_MAX);
		goto fail;
	}

	if (get_long("BULWARK_MAX_BODY_BYTES", 65536, 1024, 16 * 1024 * 1024,
	    &c.max_body_bytes, err, errlen) < 0 ||
	    get_long("BULWARK_COOKIE_SECURE", 1, 0, 1, &secure, err,
	    errlen) < 0 ||
	    get_long("BULWARK_SESSION_TTL", 86400, 60, 365L * 86400,
	    &c.session_ttl, err, errlen) < 0 ||
	    get_long("BULWARK_LOGIN_IP_LIMIT", 20, 1, 1000000000L,
	    &c.login_ip_limit, err, errlen) < 0 ||
	    get_long("BULWARK_LOGIN_EMAIL_LIMIT", 5, 1, 1000000000L,
	    &c.login_email_limit, err, errlen) < 0 ||
	    get_long("BULWARK_LOGIN_WINDOW", 60, 1, 86400, &c.login_window,
	    err, errlen) < 0 ||
	    get_long("BULWARK_LOCKOUT_THRESHOLD", 10, 1, 1000000000L,
	    &c.lockout_threshold, err, errlen) < 0 ||
	    get_long("BULWARK_LOCKOUT_SECONDS", 900, 1, 30L * 86400,
	    &c.lockout_seconds, err, errlen) < 0 ||
	    get_long("BULWARK_DB_TIMEOUT", 10, 1, 300, &c.db_timeout, err,
	    errlen) < 0 ||
	    get_long("BULWARK_READ_TIMEOUT", 10, 1, 300, &c.read_timeout, err,
	    errlen) < 0 ||
	    get_long("BULWARK_SIGNUP_IP_LIMIT", 20, 1, 1000000000L,
	    &c.signup_ip_limit, err, errlen) < 0 ||
	    get_long("BULWARK_SIGNUP_WINDOW", 3600, 1, 86400, &c.signup_window,
	    err, errlen) < 0 ||
	    get_long("BULWARK_ACCESS_TTL", 900, 1, 86400, &c.access_ttl, err,
	    errlen) < 0 ||
	    get_long("BULWARK_REFRESH_TTL", 30L * 86400, 1, 365L * 86400,
	    &c.refresh_ttl, err, errlen) < 0 ||
	    get_long("BULWARK_REFRESH_REUSE_INTERVAL", 0, 0, 300,
	    &c.refresh_reuse_interval, err, errlen) < 0 ||
	    get_long("BULWARK_RESET_TTL", 3600, 1, 7L * 86400, &c.reset_ttl,
	    err, errlen) < 0 ||
	    get_long("BULWARK_RESET_EMAIL_LIMIT", 3, 1, 1000000000L,
	    &c.reset_email_limit, err, errlen) < 0 ||
	    get_long("BULWARK_RESET_IP_LIMIT", 10, 1, 1000000000L,
	    &c.reset_ip_limit, err, errlen) < 0 ||
	    get_long("BULWARK_MAIL_RETRY_SECONDS", 60, 1, 3600,
	    &c.mail_retry_seconds, err, errlen) < 0)
		goto fail;
	c.cookie_secure = (int)secure;
	if (load_mail(&c, need_secret, err, errlen) < 0)
		goto fail;

	v = config_get("BULWARK_PASSWORD_HASH");
	if (v == NULL || *v == '\0' || strcmp(v, "yescrypt") == 0)
		c.pw_algo = PW_YESCRYPT;
	else if (strcmp(v, "bcrypt") == 0)
		c.pw_algo = PW_BCRYPT;
	else {
		snprintf(err, errlen,
		    "BULWARK_PASSWORD_HASH must be yescrypt or bcrypt");
		goto fail;
	}
	if (c.pw_algo == PW_YESCRYPT) {
		if (get_long("BULWARK_PASSWORD_COST", 5, 1, 11, &c.pw_cost, err,
		    errlen) < 0)
			goto fail;
	} else if (get_long("BULWARK_PASSWORD_COST", 12, 10, 31, &c.pw_cost,
	    err, errlen) < 0)
		goto fail;

	if (ip_list_parse(c.trusted_proxies, &c.proxies, err, errlen) < 0)
		goto fail;
	config_release(&cfg);
	cfg = c;
	/* cfg owns what c pointed to; the local copy of the keys goes. */
	crypto_wipe(&c, sizeof c);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	config_release(&c);
	return -1;
}
