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
	int line;
};

/*
 * Every key the program reads: the one list that an unknown key is told
 * apart by (a warning in the environment, a refusal in the file) and that
 * `bulwark config` prints.  def is what applies when the key is unset, as
 * shown; show says how the value may be shown.  95_install.t fails when a
 * key the code reads is missing here.
 */
enum key_show { SHOW_PLAIN, SHOW_SECRET, SHOW_CONNINFO };

static const struct config_key {
	const char *name;
	const char *def;
	enum key_show show;
} known_keys[] = {
	{ "BULWARK_CONFIG", "(none)", SHOW_PLAIN },
	{ "DATABASE_URL", "(libpq's PG* variables)", SHOW_CONNINFO },
	{ "BULWARK_JWT_SECRET", "(none)", SHOW_SECRET },
	{ "BULWARK_JWT_SECRET_FILE", "(none)", SHOW_PLAIN },
	{ "BULWARK_JWT_KEYS_FILE", "(none)", SHOW_PLAIN },
	{ "BULWARK_JWT_ISSUER", "bulwark", SHOW_PLAIN },
	{ "BULWARK_ACCESS_TTL", "900", SHOW_PLAIN },
	{ "BULWARK_REFRESH_TTL", "2592000", SHOW_PLAIN },
	{ "BULWARK_REFRESH_REUSE_INTERVAL", "0", SHOW_PLAIN },
	{ "BULWARK_SESSION_TTL", "86400", SHOW_PLAIN },
	{ "BULWARK_COOKIE_SECURE", "1", SHOW_PLAIN },
	{ "BULWARK_CORS_ORIGINS", "(none: same origin only)", SHOW_PLAIN },
	{ "BULWARK_MAX_BODY_BYTES", "65536", SHOW_PLAIN },
	{ "BULWARK_PASSWORD_HASH", "yescrypt", SHOW_PLAIN },
	{ "BULWARK_PASSWORD_COST", "(5 for yescrypt, 12 for bcrypt)",
	    SHOW_PLAIN },
	{ "BULWARK_LOGIN_IP_LIMIT", "20", SHOW_PLAIN },
	{ "BULWARK_LOGIN_EMAIL_LIMIT", "5", SHOW_PLAIN },
	{ "BULWARK_LOGIN_WINDOW", "60", SHOW_PLAIN },
	{ "BULWARK_LOCKOUT_THRESHOLD", "10", SHOW_PLAIN },
	{ "BULWARK_LOCKOUT_SECONDS", "900", SHOW_PLAIN },
	{ "BULWARK_SIGNUP_IP_LIMIT", "20", SHOW_PLAIN },
	{ "BULWARK_SIGNUP_WINDOW", "3600", SHOW_PLAIN },
	{ "BULWARK_TRUSTED_PROXIES", "(none)", SHOW_PLAIN },
	{ "BULWARK_DB_TIMEOUT", "10", SHOW_PLAIN },
	{ "BULWARK_READ_TIMEOUT", "10", SHOW_PLAIN },
	{ "BULWARK_RESET_TTL", "3600", SHOW_PLAIN },
	{ "BULWARK_RESET_EMAIL_LIMIT", "3", SHOW_PLAIN },
	{ "BULWARK_RESET_IP_LIMIT", "10", SHOW_PLAIN },
	{ "BULWARK_MAIL_TRANSPORT", "sendmail", SHOW_PLAIN },
	{ "BULWARK_MAIL_DIR", "(none)", SHOW_PLAIN },
	{ "BULWARK_SENDMAIL", "/usr/sbin/sendmail", SHOW_PLAIN },
	{ "BULWARK_MAIL_FROM", "Bulwark <no-reply@localhost>", SHOW_PLAIN },
	{ "BULWARK_PUBLIC_URL", "http://localhost:3000", SHOW_PLAIN },
	{ "BULWARK_MAIL_RETRY_SECONDS", "60", SHOW_PLAIN },
	{ "BULWARK_LOG_FILE", "(standard error)", SHOW_PLAIN },
	/* Least privilege (cmd/sandbox.c). */
	{ "BULWARK_USER", "(none: a root worker stays root)", SHOW_PLAIN },
	{ "BULWARK_SECCOMP", "1", SHOW_PLAIN },
	/* Two-factor and email verification (API.md). */
	{ "BULWARK_DATA_KEY", "(none)", SHOW_SECRET },
	{ "BULWARK_DATA_KEY_FILE", "(none)", SHOW_PLAIN },
	{ "BULWARK_TOTP_ISSUER", "Bulwark", SHOW_PLAIN },
	{ "BULWARK_VERIFY_TTL", "86400", SHOW_PLAIN },
	{ "BULWARK_VERIFY_RESEND_LIMIT", "3", SHOW_PLAIN },
	{ "BULWARK_REQUIRE_EMAIL_VERIFICATION", "0", SHOW_PLAIN },
};
#define NKNOWN (sizeof known_keys / sizeof known_keys[0])

/* Not the program's: BULWARK_ + these are read by the scripts around it
 * (make run, the tests, the bench), so never reported as unknown in the
 * environment. */
static const char *const tool_prefixes[] = {
	"TEST_", "DEV_", "BENCH_", "BIN=", "MASTER=",
};

static const struct config_key *
key_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NKNOWN; i++)
		if (strlen(known_keys[i].name) == len &&
		    strncmp(known_keys[i].name, name, len) == 0)
			return &known_keys[i];
	return NULL;
}

static struct kv file_kv[MAX_FILE_KEYS];
static size_t file_nkv;

/* Edit distance of a and b (both at most 63 bytes), capped at 99. */
static size_t
distance(const char *a, const char *b)
{
	size_t row[64], la = strlen(a), lb = strlen(b), i, j, diag, up;

	if (la > 63 || lb > 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

void
config_suggest(const char *name, char *out, size_t cap)
{
	size_t i, d, best = 99, at = 0;

	for (i = 0; i < NKNOWN; i++)
		if ((d = distance(name, known_keys[i].name)) < best) {
			best = d;
			at = i;
		}
	if (best <= 4)
		snprintf(out, cap, " (did you mean %s?)", known_keys[at].name);
	else if (cap > 0)
		out[0] = '\0';
}

int
config_key_known(const char *name)
{
	return key_find(name, strlen(name)) != NULL;
}

extern char **environ;

size_t
config_unknown_env(const char **names, size_t max)
{
	const char *e;
	size_t i, j, n = 0, len;
	int tool;

	for (i = 0; environ[i] != NULL && n < max; i++) {
		e = environ[i];
		if (strncmp(e, "BULWARK_", 8) != 0)
			continue;
		for (tool = 0, j = 0; j < sizeof tool_prefixes /
		    sizeof tool_prefixes[0]; j++)
			tool |= strncmp(e + 8, tool_prefixes[j],
			    strlen(tool_prefixes[j])) == 0;
		len = strcspn(e, "=");
		if (!tool && key_find(e, len) == NULL)
			names[n++] = e;
	}
	return n;
}

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
	char line[MAX_LINE], hint[96], *k, *v, *eq;
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
		/* A misspelt key would silently be a default: refuse it. */
		if (key_find(k, strlen(k)) == NULL) {
			config_suggest(k, hint, sizeof hint);
			snprintf(err, errlen, "%s:%d: unknown key %.64s%s", path,
			    lineno, k, hint);
			goto out;
		}
		if (file_nkv == MAX_FILE_KEYS) {
			snprintf(err, errlen, "%s: too many keys", path);
			goto out;
		}
		file_kv[file_nkv].key = strdup(k);
		file_kv[file_nkv].val = strdup(v);
		file_kv[file_nkv].line = lineno;
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

/* The data keys that seal two-factor secrets: BULWARK_DATA_KEY (one key),
 * else BULWARK_DATA_KEY_FILE (the current key on its first line, older
 * ones after it, blank lines ignored).  Each is at least DATA_KEY_MIN
 * bytes of secret material; what seals is the HKDF of it (core/seal.c),
 * named by a key id that tells nothing of it.  None: 2FA is off. */
static int
data_key_add(struct config *c, const char *what, const char *p, size_t n,
    char *err, size_t errlen)
{
	int i;

	if (n < DATA_KEY_MIN) {
		snprintf(err, errlen, "%s: a data key must be at least %d bytes "
		    "(one has %zu), e.g. `openssl rand -base64 48`", what,
		    DATA_KEY_MIN, n);
		return -1;
	}
	if (c->n_data_keys == DATA_KEYS_MAX) {
		snprintf(err, errlen, "%s: at most %d data keys", what,
		    DATA_KEYS_MAX);
		return -1;
	}
	if (seal_key_derive(p, n, "totp", &c->data_keys[c->n_data_keys]) < 0) {
		snprintf(err, errlen, "%s: cannot derive the data key", what);
		return -1;
	}
	for (i = 0; i < c->n_data_keys; i++)
		if (strcmp(c->data_keys[i].kid,
		    c->data_keys[c->n_data_keys].kid) == 0) {
			snprintf(err, errlen, "%s: the same data key twice",
			    what);
			seal_key_wipe(&c->data_keys[c->n_data_keys]);
			return -1;
		}
	c->n_data_keys++;
	return 0;
}

static int
load_data_keys(struct config *c, char *err, size_t errlen)
{
	const char *v, *p, *nl;
	char *text;
	size_t len, n;
	int rc = 0;

	if ((v = config_get("BULWARK_DATA_KEY")) != NULL && *v != '\0') {
		/* The file's older keys would be ignored, and what they
		 * sealed would no longer open: say so at once. */
		if ((p = config_get("BULWARK_DATA_KEY_FILE")) != NULL &&
		    *p != '\0') {
			snprintf(err, errlen, "set BULWARK_DATA_KEY or "
			    "BULWARK_DATA_KEY_FILE, not both");
			return -1;
		}
		return data_key_add(c, "BULWARK_DATA_KEY", v, strlen(v), err,
		    errlen);
	}
	if ((v = config_get("BULWARK_DATA_KEY_FILE")) == NULL || *v == '\0')
		return 0;
	if (read_secret_file("BULWARK_DATA_KEY_FILE", v, &text, &len, err,
	    errlen) < 0)
		return -1;
	for (p = text; rc == 0 && p < text + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(text + len - p))) == NULL)
			nl = text + len;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0)
			rc = data_key_add(c, "BULWARK_DATA_KEY_FILE", p, n, err,
			    errlen);
	}
	crypto_wipe(text, len);
	free(text);
	if (rc == 0 && c->n_data_keys == 0) {
		snprintf(err, errlen, "BULWARK_DATA_KEY_FILE %s holds no key", v);
		rc = -1;
	}
	return rc;
}

const struct seal_key *
config_data_key(const char *kid)
{
	int i;

	for (i = 0; kid != NULL && i < cfg.n_data_keys; i++)
		if (strcmp(cfg.data_keys[i].kid, kid) == 0)
			return &cfg.data_keys[i];
	return NULL;
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

/* One origin as a browser sends it: http or https, a host (name, IPv4
 * or [IPv6]), an optional port, nothing after.  Lower-cased in place. */
static int
origin_valid(char *o)
{
	char *p, *h;
	long port;

	if (strncmp(o, "http://", 7) == 0)
		p = o + 7;
	else if (strncmp(o, "https://", 8) == 0)
		p = o + 8;
	else
		return 0;
	h = p;
	if (*p == '[') {
		while (*++p != '\0' && *p != ']')
			if (strchr("0123456789abcdefABCDEF:.", *p) == NULL)
				return 0;
		if (*p++ != ']')
			return 0;
	} else
		while (*p != '\0' && *p != ':' &&
		    (strchr("-.", *p) != NULL || (*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			p++;
	if (p == h || p[-1] == '.' || *h == '.' || *h == '-')
		return 0;
	if (*p == ':') {
		port = strtol(p + 1, &h, 10);
		if (h == p + 1 || *h != '\0' || port < 1 || port > 65535 ||
		    p[1] == '0')
			return 0;
		p = h;
	}
	if (*p != '\0')
		return 0;
	for (p = o; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 1;
}

/* BULWARK_CORS_ORIGINS: exact origins, separated by commas or spaces. */
static int
load_cors(struct config *c, char *err, size_t errlen)
{
	char *copy, *tok, *save = NULL;

	if (c->cors_origins == NULL)
		return 0;
	if ((copy = strdup(c->cors_origins)) == NULL)
		goto oom;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (strcmp(tok, "*") == 0 || strcmp(tok, "null") == 0) {
			snprintf(err, errlen, "BULWARK_CORS_ORIGINS takes exact "
			    "origins, not %s: the browser sends cookies to "
			    "a listed origin", tok);
			goto fail;
		}
		if (!origin_valid(tok)) {
			snprintf(err, errlen, "BULWARK_CORS_ORIGINS: %.200s is "
			    "not an origin (scheme://host[:port], no path, "
			    "no trailing /)", tok);
			goto fail;
		}
		if (c->cors_n == CORS_MAX) {
			snprintf(err, errlen, "BULWARK_CORS_ORIGINS: at most "
			    "%d origins", CORS_MAX);
			goto fail;
		}
		if ((c->cors_list[c->cors_n] = strdup(tok)) == NULL) {
			free(copy);
			goto oom;
		}
		c->cors_n++;
	}
	free(copy);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
fail:
	free(copy);
	return -1;
}

int
config_origin_listed(const char *origin)
{
	size_t i;

	for (i = 0; origin != NULL && i < cfg.cors_n; i++)
		if (strcasecmp(cfg.cors_list[i], origin) == 0)
			return 1;
	return 0;
}

/* Where key's value in force comes from: "environment", "<file>:<line>"
 * (into buf), or NULL for the default. */
static const char *
key_source(const char *key, char *buf, size_t cap)
{
	size_t i;

	if (getenv(key) != NULL)
		return "environment";
	for (i = file_nkv; i > 0; i--)
		if (strcmp(file_kv[i - 1].key, key) == 0) {
			snprintf(buf, cap, "%s:%d", cfg.config_file,
			    file_kv[i - 1].line);
			return buf;
		}
	return NULL;
}

/* A libpq URI or conninfo with its password replaced by ***. */
static void
mask_conninfo(const char *v, char *out, size_t cap)
{
	const char *p = v, *auth, *at, *colon, *q;
	size_t n = 0;

#define PUT(c) do { if (n + 1 < cap) out[n++] = (c); } while (0)
	if ((auth = strstr(v, "://")) != NULL) {
		auth += 3;
		at = strchr(auth, '@');
		colon = strchr(auth, ':');
		q = auth + strcspn(auth, "/?");
		if (at != NULL && at < q && colon != NULL && colon < at) {
			for (; p <= colon; p++)
				PUT(*p);
			PUT('*'); PUT('*'); PUT('*');
			p = at;
		}
	}
	while (*p != '\0') {
		if (strncasecmp(p, "password=", 9) == 0 &&
		    (p == v || strchr(" \t?&", p[-1]) != NULL)) {
			for (q = p + 9; p < q; p++)
				PUT(*p);
			PUT('*'); PUT('*'); PUT('*');
			if (*p == '\'') {
				for (p++; *p != '\0' && *p != '\''; p++)
					if (*p == '\\' && p[1] != '\0')
						p++;
				if (*p == '\'')
					p++;
			} else
				p += strcspn(p, " \t&");
			continue;
		}
		PUT(*p);
		p++;
	}
#undef PUT
	out[n] = '\0';
}

void
config_show(FILE *f)
{
	const struct config_key *k;
	const char *v, *src, *unknown[64];
	char where[512], masked[1024];
	size_t i, n;

	fprintf(f, "# The settings in force, as `bulwark serve` would run "
	    "with them.\n# A key without a source is at its default.\n");
	for (i = 0; i < NKNOWN; i++) {
		k = &known_keys[i];
		if (strcmp(k->name, "BULWARK_CONFIG") == 0) {
			v = getenv(k->name);
			fprintf(f, "%s=%s\n", k->name,
			    v != NULL && *v != '\0' ? v : k->def);
			continue;
		}
		v = config_get(k->name);
		src = key_source(k->name, where, sizeof where);
		if (v == NULL || *v == '\0')
			fprintf(f, "%s=%s\n", k->name, k->def);
		else if (k->show == SHOW_SECRET)
			fprintf(f, "%s=(set, %zu bytes, not shown)  # %s\n",
			    k->name, strlen(v), src);
		else if (k->show == SHOW_CONNINFO) {
			mask_conninfo(v, masked, sizeof masked);
			fprintf(f, "%s=%s  # %s\n", k->name, masked, src);
		} else
			fprintf(f, "%s=%s  # %s\n", k->name, v, src);
	}
	n = config_unknown_env(unknown, sizeof unknown / sizeof unknown[0]);
	for (i = 0; i < n; i++)
		fprintf(f, "# unknown, ignored: %.*s  # environment\n",
		    (int)strcspn(unknown[i], "="), unknown[i]);
}

static void
config_release(struct config *c)
{
	int i;

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
	free(c->cors_origins);
	while (c->cors_n > 0)
		free(c->cors_list[--c->cors_n]);
	free(c->totp_issuer);
	for (i = 0; i < c->n_data_keys; i++)
		seal_key_wipe(&c->data_keys[i]);
	memset(c, 0, sizeof *c);
}

int
config_load(int need_secret, char *err, size_t errlen)
{
	struct config c;
	const char *v, *file;
	long secure, verify;

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
	    dup_opt("BULWARK_TRUSTED_PROXIES", &c.trusted_proxies) < 0 ||
	    dup_opt("BULWARK_CORS_ORIGINS", &c.cors_origins) < 0)
		goto oom;
	if (load_cors(&c, err, errlen) < 0)
		goto fail;

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
	    &c.mail_retry_seconds, err, errlen) < 0 ||
	    get_long("BULWARK_VERIFY_TTL", 86400, 60, 30L * 86400,
	    &c.verify_ttl, err, errlen) < 0 ||
	    get_long("BULWARK_VERIFY_RESEND_LIMIT", 3, 1, 1000000000L,
	    &c.verify_resend_limit, err, errlen) < 0 ||
	    get_long("BULWARK_REQUIRE_EMAIL_VERIFICATION", 0, 0, 1, &verify,
	    err, errlen) < 0)
		goto fail;
	c.cookie_secure = (int)secure;
	c.require_email_verification = (int)verify;
	if (load_data_keys(&c, err, errlen) < 0)
		goto fail;
	if (dup_def("BULWARK_TOTP_ISSUER", "Bulwark", &c.totp_issuer) < 0)
		goto oom;
	if (*c.totp_issuer == '\0' || strlen(c.totp_issuer) > TOTP_ISSUER_MAX ||
	    strchr(c.totp_issuer, ':') != NULL) {
		snprintf(err, errlen, "BULWARK_TOTP_ISSUER must be 1 to %d bytes "
		    "without ':'", TOTP_ISSUER_MAX);
		goto fail;
	}
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
