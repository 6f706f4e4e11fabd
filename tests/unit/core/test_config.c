/*
 * test_config.c -- config_load from the environment and BULWARK_CONFIG.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "tap.h"

#define SECRET32 "0123456789abcdef0123456789abcdef"
#define SECRET31 "0123456789abcdef0123456789abcde"

static const char *keys[] = {
	"BULWARK_CONFIG", "DATABASE_URL", "BULWARK_JWT_SECRET",
	"BULWARK_JWT_SECRET_FILE", "BULWARK_LOG_FILE", "BULWARK_MAX_BODY_BYTES",
	"BULWARK_COOKIE_SECURE", "BULWARK_SESSION_TTL", "BULWARK_PASSWORD_HASH",
	"BULWARK_PASSWORD_COST", "BULWARK_LOGIN_IP_LIMIT",
	"BULWARK_LOGIN_EMAIL_LIMIT", "BULWARK_LOGIN_WINDOW",
	"BULWARK_LOCKOUT_THRESHOLD", "BULWARK_LOCKOUT_SECONDS",
	"BULWARK_TRUSTED_PROXIES",
};

static char err[512];
static char tmpfiles[16][64];
static int ntmp;

extern char **environ;

/* Unsets the known keys and any other BULWARK_* the caller's environment
 * may carry, so the defaults are really the defaults. */
static void
clear_env(void)
{
	char name[256];
	size_t i, n;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		unsetenv(keys[i]);
	for (i = 0; environ[i] != NULL;) {
		n = strcspn(environ[i], "=");
		if (strncmp(environ[i], "BULWARK_", 8) == 0 && n < sizeof name) {
			memcpy(name, environ[i], n);
			name[n] = '\0';
			unsetenv(name);
			i = 0; /* environ changed: start again */
		} else
			i++;
	}
}

/* A fresh temporary file holding text; its name (static storage). */
static const char *
temp_file(const char *text)
{
	char *path = tmpfiles[ntmp++];
	FILE *f;
	int fd;

	snprintf(path, sizeof tmpfiles[0], "/tmp/bulwark-test-cfg.XXXXXX");
	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

static int
load(int need_secret)
{
	memset(err, 0, sizeof err);
	return config_load(need_secret, err, sizeof err);
}

/* Loads with one variable set (plus a valid secret) and expects a failure
 * whose message names the key. */
static void
bad_number(const char *key, const char *val)
{
	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	setenv(key, val, 1);
	ok(load(1) == -1 && strstr(err, key) != NULL,
	    "%s=%s rejected, message names the key (%s)", key, val, err);
}

static void
good_number(const char *key, const char *val, const long *field, long want)
{
	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	setenv(key, val, 1);
	ok(load(1) == 0 && *field == want, "%s=%s accepted (%s)", key, val,
	    err);
}

static void
test_secret(void)
{
	const char *f;

	clear_env();
	ok(load(1) == -1, "no JWT secret, need_secret=1: refused");
	ok(strstr(err, "BULWARK_JWT_SECRET") != NULL,
	    "  the message names BULWARK_JWT_SECRET (%s)", err);
	ok(load(0) == 0 && cfg.jwt_secret == NULL && cfg.jwt_secret_len == 0,
	    "no JWT secret, need_secret=0: loads without one");

	setenv("BULWARK_JWT_SECRET", SECRET31, 1);
	ok(load(1) == -1 && strstr(err, "BULWARK_JWT_SECRET") != NULL &&
	    strstr(err, "32") != NULL, "31-byte secret rejected (%s)", err);
	ok(load(0) == -1, "31-byte secret rejected even when not required");
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	ok(load(1) == 0, "32-byte secret accepted");
	ok(cfg.jwt_secret != NULL && cfg.jwt_secret_len == 32 &&
	    memcmp(cfg.jwt_secret, SECRET32, 32) == 0, "  and stored as given");
	setenv("BULWARK_JWT_SECRET", "", 1);
	ok(load(1) == -1, "an empty BULWARK_JWT_SECRET counts as unset");

	clear_env();
	f = temp_file(SECRET32 "\n");
	setenv("BULWARK_JWT_SECRET_FILE", f, 1);
	ok(load(1) == 0, "BULWARK_JWT_SECRET_FILE with 32 bytes + newline (%s)",
	    err);
	ok(cfg.jwt_secret_len == 32 && cfg.jwt_secret != NULL &&
	    memcmp(cfg.jwt_secret, SECRET32, 33) == 0,
	    "  trailing newline stripped (len %zu)", cfg.jwt_secret_len);
	f = temp_file(SECRET32 "\r\n\n");
	setenv("BULWARK_JWT_SECRET_FILE", f, 1);
	ok(load(1) == 0 && cfg.jwt_secret_len == 32,
	    "  CR LF and extra blank lines stripped too");
	f = temp_file(SECRET31 "\n");
	setenv("BULWARK_JWT_SECRET_FILE", f, 1);
	ok(load(1) == -1, "a secret file with 31 bytes + newline is rejected");
	setenv("BULWARK_JWT_SECRET_FILE", "/nonexistent/bulwark-secret", 1);
	ok(load(1) == -1 && strstr(err, "BULWARK_JWT_SECRET_FILE") != NULL,
	    "a missing secret file fails naming the key (%s)", err);
	setenv("BULWARK_JWT_SECRET", "ZYXWVUTSRQPONMLKJIHGFEDCBA987654", 1);
	ok(load(1) == 0 && memcmp(cfg.jwt_secret, "ZYXW", 4) == 0,
	    "BULWARK_JWT_SECRET wins over BULWARK_JWT_SECRET_FILE");
}

static void
test_defaults(void)
{
	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	ok(load(1) == 0, "defaults load (%s)", err);
	ok(cfg.max_body_bytes == 65536, "max_body_bytes 65536 (%ld)",
	    cfg.max_body_bytes);
	ok(cfg.cookie_secure == 1, "cookie_secure 1");
	ok(cfg.session_ttl == 86400, "session_ttl 86400 (%ld)", cfg.session_ttl);
	ok(cfg.login_ip_limit == 20 && cfg.login_email_limit == 5 &&
	    cfg.login_window == 60, "login limits 20/5/60 (%ld/%ld/%ld)",
	    cfg.login_ip_limit, cfg.login_email_limit, cfg.login_window);
	ok(cfg.lockout_threshold == 10 && cfg.lockout_seconds == 900,
	    "lockout 10/900 (%ld/%ld)", cfg.lockout_threshold,
	    cfg.lockout_seconds);
	ok(cfg.pw_algo == PW_YESCRYPT && cfg.pw_cost == 5,
	    "yescrypt, cost 5 (%d, %ld)", (int)cfg.pw_algo, cfg.pw_cost);
	ok(cfg.database_url == NULL && cfg.log_file == NULL &&
	    cfg.trusted_proxies == NULL && cfg.config_file == NULL,
	    "optional strings unset");

	setenv("DATABASE_URL", "postgresql:///bulwark", 1);
	setenv("BULWARK_LOG_FILE", "/var/log/bulwark.log", 1);
	setenv("BULWARK_TRUSTED_PROXIES", "10.0.0.0/8", 1);
	ok(load(1) == 0 && cfg.database_url != NULL &&
	    strcmp(cfg.database_url, "postgresql:///bulwark") == 0 &&
	    cfg.log_file != NULL &&
	    strcmp(cfg.log_file, "/var/log/bulwark.log") == 0 &&
	    cfg.trusted_proxies != NULL &&
	    strcmp(cfg.trusted_proxies, "10.0.0.0/8") == 0,
	    "DATABASE_URL, BULWARK_LOG_FILE, BULWARK_TRUSTED_PROXIES copied");
}

static void
test_numbers(void)
{
	bad_number("BULWARK_MAX_BODY_BYTES", "abc");
	bad_number("BULWARK_MAX_BODY_BYTES", "-1");
	bad_number("BULWARK_MAX_BODY_BYTES", "-65536");
	bad_number("BULWARK_MAX_BODY_BYTES", "99999999999999999999999");
	bad_number("BULWARK_MAX_BODY_BYTES", "16777217");
	bad_number("BULWARK_MAX_BODY_BYTES", "1023");
	bad_number("BULWARK_MAX_BODY_BYTES", "12abc");
	bad_number("BULWARK_MAX_BODY_BYTES", "1e6");
	good_number("BULWARK_MAX_BODY_BYTES", "1024", &cfg.max_body_bytes, 1024);
	good_number("BULWARK_MAX_BODY_BYTES", "16777216", &cfg.max_body_bytes,
	    16777216);
	good_number("BULWARK_MAX_BODY_BYTES", "", &cfg.max_body_bytes, 65536);
	bad_number("BULWARK_COOKIE_SECURE", "2");
	bad_number("BULWARK_COOKIE_SECURE", "yes");
	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	setenv("BULWARK_COOKIE_SECURE", "0", 1);
	ok(load(1) == 0 && cfg.cookie_secure == 0, "BULWARK_COOKIE_SECURE=0");
	bad_number("BULWARK_SESSION_TTL", "59");
	bad_number("BULWARK_LOGIN_IP_LIMIT", "0");
	bad_number("BULWARK_LOGIN_EMAIL_LIMIT", "-3");
	bad_number("BULWARK_LOGIN_WINDOW", "86401");
	bad_number("BULWARK_LOCKOUT_THRESHOLD", "x");
	bad_number("BULWARK_LOCKOUT_SECONDS", "2592001");
	good_number("BULWARK_LOGIN_WINDOW", "86400", &cfg.login_window, 86400);
	good_number("BULWARK_LOCKOUT_SECONDS", "1", &cfg.lockout_seconds, 1);

	/* A failed load leaves cfg as it was. */
	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	setenv("BULWARK_MAX_BODY_BYTES", "2048", 1);
	ok(load(1) == 0 && cfg.max_body_bytes == 2048, "load with 2048");
	setenv("BULWARK_MAX_BODY_BYTES", "4096", 1);
	setenv("BULWARK_LOGIN_WINDOW", "0", 1);
	ok(load(1) == -1, "a later load with a bad value fails");
	ok(cfg.max_body_bytes == 2048 && cfg.login_window == 60,
	    "  and leaves cfg untouched (%ld)", cfg.max_body_bytes);
}

static void
test_file(void)
{
	const char *f;

	clear_env();
	f = temp_file(
	    "# Bulwark configuration\n"
	    "\n"
	    "BULWARK_JWT_SECRET=" SECRET32 "\n"
	    "   # an indented comment\n"
	    "  BULWARK_MAX_BODY_BYTES = 2048  \n"
	    "\t\n"
	    "BULWARK_LOGIN_WINDOW=120\r\n"
	    "DATABASE_URL=host=/tmp dbname=x\n"
	    "BULWARK_LOCKOUT_SECONDS=100\n"
	    "BULWARK_LOCKOUT_SECONDS=200\n"
	    "BULWARK_SESSION_TTL=3600");
	setenv("BULWARK_CONFIG", f, 1);
	ok(load(1) == 0, "BULWARK_CONFIG with comments, blank lines, spaces, "
	    "CRLF and no final newline loads (%s)", err);
	ok(cfg.jwt_secret_len == 32, "  secret from the file");
	ok(cfg.max_body_bytes == 2048, "  spaces around '=' trimmed (%ld)",
	    cfg.max_body_bytes);
	ok(cfg.login_window == 120, "  CRLF line read (%ld)", cfg.login_window);
	ok(cfg.database_url != NULL &&
	    strcmp(cfg.database_url, "host=/tmp dbname=x") == 0,
	    "  value split at the first '=' only (%s)",
	    cfg.database_url ? cfg.database_url : "(null)");
	ok(cfg.lockout_seconds == 200, "  the last line for a key wins (%ld)",
	    cfg.lockout_seconds);
	ok(cfg.session_ttl == 3600, "  the last line without a newline counts");
	ok(cfg.config_file != NULL && strcmp(cfg.config_file, f) == 0,
	    "  config_file records the path");
	is_str(config_get("BULWARK_LOGIN_WINDOW"), "120",
	    "config_get reads a file key");
	is_str(config_get("BULWARK_NOT_A_KEY"), NULL,
	    "config_get of an unknown key: NULL");

	setenv("BULWARK_MAX_BODY_BYTES", "4096", 1);
	ok(load(1) == 0 && cfg.max_body_bytes == 4096,
	    "the environment wins over the file (%ld)", cfg.max_body_bytes);
	is_str(config_get("BULWARK_MAX_BODY_BYTES"), "4096",
	    "  config_get too");
	unsetenv("BULWARK_MAX_BODY_BYTES");

	f = temp_file("BULWARK_JWT_SECRET=" SECRET32 "\nNOT A KEY VALUE LINE\n");
	setenv("BULWARK_CONFIG", f, 1);
	ok(load(1) == -1 && strstr(err, f) != NULL && strstr(err, ":2") != NULL,
	    "a line without '=' is rejected, with file and line (%s)", err);
	ok(cfg.max_body_bytes == 4096 && cfg.login_window == 120,
	    "  cfg kept from the last good load (%ld)", cfg.max_body_bytes);

	f = temp_file("BULWARK_MAX_BODY_BYTES=12x\n");
	setenv("BULWARK_CONFIG", f, 1);
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	ok(load(1) == -1 && strstr(err, "BULWARK_MAX_BODY_BYTES") != NULL,
	    "a bad number in the file fails naming the key (%s)", err);
	unsetenv("BULWARK_JWT_SECRET");

	setenv("BULWARK_CONFIG", "/nonexistent/bulwark.conf", 1);
	ok(load(0) == -1 && strstr(err, "BULWARK_CONFIG") != NULL,
	    "a missing config file fails naming BULWARK_CONFIG (%s)", err);
	clear_env();
}

static void
test_password_hash(void)
{
	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	setenv("BULWARK_PASSWORD_HASH", "bcrypt", 1);
	ok(load(1) == 0 && cfg.pw_algo == PW_BCRYPT && cfg.pw_cost == 12,
	    "bcrypt, default cost 12 (%ld)", cfg.pw_cost);
	setenv("BULWARK_PASSWORD_COST", "9", 1);
	ok(load(1) == -1 && strstr(err, "BULWARK_PASSWORD_COST") != NULL,
	    "bcrypt cost 9 rejected (%s)", err);
	setenv("BULWARK_PASSWORD_COST", "10", 1);
	ok(load(1) == 0 && cfg.pw_algo == PW_BCRYPT && cfg.pw_cost == 10,
	    "bcrypt cost 10 accepted");
	setenv("BULWARK_PASSWORD_COST", "32", 1);
	ok(load(1) == -1, "bcrypt cost 32 rejected");
	setenv("BULWARK_PASSWORD_HASH", "yescrypt", 1);
	setenv("BULWARK_PASSWORD_COST", "12", 1);
	ok(load(1) == -1, "yescrypt cost 12 rejected");
	setenv("BULWARK_PASSWORD_COST", "1", 1);
	ok(load(1) == 0 && cfg.pw_algo == PW_YESCRYPT && cfg.pw_cost == 1,
	    "yescrypt cost 1 accepted");
	setenv("BULWARK_PASSWORD_COST", "0", 1);
	ok(load(1) == -1, "yescrypt cost 0 rejected");
	setenv("BULWARK_PASSWORD_HASH", "md5", 1);
	unsetenv("BULWARK_PASSWORD_COST");
	ok(load(1) == -1 && strstr(err, "BULWARK_PASSWORD_HASH") != NULL,
	    "an unknown algorithm is rejected (%s)", err);
	clear_env();
}

/* A bad proxy list refuses the whole configuration and keeps the one in
 * force, addresses included (a refused SIGHUP reload). */
static void
test_proxies_atomic(void)
{
	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	setenv("BULWARK_TRUSTED_PROXIES", "10.0.0.0/8", 1);
	setenv("BULWARK_LOGIN_IP_LIMIT", "7", 1);
	ok(load(1) == 0, "a good proxy list loads (%s)", err);
	setenv("BULWARK_TRUSTED_PROXIES", "192.168.0.0/16, nonsense", 1);
	setenv("BULWARK_LOGIN_IP_LIMIT", "9", 1);
	ok(load(1) == -1 && strstr(err, "BULWARK_TRUSTED_PROXIES") != NULL,
	    "a bad proxy list is refused, message names the key (%s)", err);
	ok(cfg.login_ip_limit == 7 && cfg.trusted_proxies != NULL &&
	    strcmp(cfg.trusted_proxies, "10.0.0.0/8") == 0,
	    "the configuration in force is kept whole");
	ok(cfg.proxies.n == 1 && cfg.proxies.cidr[0].bits == 8 &&
	    cfg.proxies.cidr[0].addr[0] == 10,
	    "  the parsed proxy list with it (%zu entries)", cfg.proxies.n);
	clear_env();
}

/* Configuration that talks back: an unknown key in the file refuses with
 * its line, one in the environment is reported (not fatal), and what is
 * shown never holds a secret. */
static void
test_unknown_keys(void)
{
	const char *f, *names[8];
	char hint[96], *buf = NULL;
	size_t n, len = 0;
	FILE *mem;

	clear_env();
	f = temp_file("BULWARK_JWT_SECRET=" SECRET32 "\n# comment\n"
	    "BULWARK_LOGIN_LIMIT=5\n");
	setenv("BULWARK_CONFIG", f, 1);
	ok(load(1) == -1 && strstr(err, f) != NULL && strstr(err, ":3:") &&
	    strstr(err, "unknown key BULWARK_LOGIN_LIMIT") != NULL,
	    "an unknown key in the file is refused with file and line (%s)",
	    err);
	ok(strstr(err, "did you mean BULWARK_LOGIN_IP_LIMIT") != NULL,
	    "  and the nearest key is suggested");
	f = temp_file("BULWARK_JWT_SECRET=" SECRET32 "\nPGHOST=/tmp\n");
	setenv("BULWARK_CONFIG", f, 1);
	ok(load(1) == -1 && strstr(err, ":2:") && strstr(err, "PGHOST"),
	    "a key of another program in the file is refused too (%s)", err);
	unsetenv("BULWARK_CONFIG");

	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	setenv("BULWARK_LOGIN_LIMIT", "5", 1);
	setenv("BULWARK_TEST_STACK", "x", 1);
	setenv("BULWARK_DEV_PGPORT", "1", 1);
	setenv("BULWARK_BIN", "x", 1);
	ok(load(1) == 0, "an unknown key in the environment does not refuse");
	n = config_unknown_env(names, 8);
	ok(n == 1 && strncmp(names[0], "BULWARK_LOGIN_LIMIT=", 20) == 0,
	    "  it is the one unknown key reported (%zu), the scripts' keys "
	    "are not", n);
	config_suggest("BULWARK_LOCKOUT_SECOND", hint, sizeof hint);
	is_str(hint, " (did you mean BULWARK_LOCKOUT_SECONDS?)",
	    "a near miss gets a suggestion");
	config_suggest("BULWARK_WHATEVER_ELSE_ENTIRELY", hint, sizeof hint);
	is_str(hint, "", "a far one none");
	ok(config_key_known("BULWARK_CORS_ORIGINS") &&
	    config_key_known("DATABASE_URL") &&
	    !config_key_known("BULWARK_LOGIN_LIMIT"), "config_key_known");

	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32 "-very-secret", 1);
	setenv("DATABASE_URL", "postgresql://bob:hunter2-pw@db/x?"
	    "sslmode=require&password=other-pw", 1);
	setenv("BULWARK_LOGIN_WINDOW", "77", 1);
	ok(load(1) == 0, "loads (%s)", err);
	if ((mem = open_memstream(&buf, &len)) == NULL)
		abort();
	config_show(mem);
	fclose(mem);
	ok(strstr(buf, "very-secret") == NULL &&
	    strstr(buf, "hunter2-pw") == NULL && strstr(buf, "other-pw") ==
	    NULL, "config_show holds no secret");
	ok(strstr(buf, "BULWARK_JWT_SECRET=(set, 44 bytes, not shown)") !=
	    NULL, "  the secret is said to be set");
	ok(strstr(buf, "DATABASE_URL=postgresql://bob:***@db/x?sslmode=require"
	    "&password=***  # environment") != NULL, "  the URL is masked");
	ok(strstr(buf, "BULWARK_LOGIN_WINDOW=77  # environment\n") != NULL &&
	    strstr(buf, "BULWARK_LOCKOUT_SECONDS=900\n") != NULL,
	    "  a set key with its source, a default without");
	free(buf);
	setenv("DATABASE_URL", "host=db password='a b\\'c' user=x", 1);
	ok(load(1) == 0, "conninfo loads");
	buf = NULL;
	if ((mem = open_memstream(&buf, &len)) == NULL)
		abort();
	config_show(mem);
	fclose(mem);
	ok(strstr(buf, "DATABASE_URL=host=db password=*** user=x") != NULL,
	    "  a quoted conninfo password is masked");
	free(buf);
	clear_env();
}

static void
test_cors(void)
{
	static const char *bad[] = { "*", "null", "localhost:5173",
	    "http://localhost:5173/", "http://a.example/app", "ftp://x.example",
	    "http://", "http://x.example:0", "http://x.example:99999",
	    "http://x y.example", "http://.x.example", "http://x.example?q" };
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		clear_env();
		setenv("BULWARK_JWT_SECRET", SECRET32, 1);
		setenv("BULWARK_CORS_ORIGINS", bad[i], 1);
		ok(load(1) == -1 && strstr(err, "BULWARK_CORS_ORIGINS") != NULL,
		    "BULWARK_CORS_ORIGINS=%s refused (%s)", bad[i], err);
	}
	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	setenv("BULWARK_CORS_ORIGINS", "http://localhost:5173, "
	    "https://App.Example.com  http://[::1]:8080", 1);
	ok(load(1) == 0 && cfg.cors_n == 3, "three origins, commas or spaces "
	    "(%s)", err);
	ok(config_origin_listed("http://localhost:5173") &&
	    config_origin_listed("https://app.example.com") &&
	    config_origin_listed("http://[::1]:8080"), "each is listed");
	ok(!config_origin_listed("http://localhost:5174") &&
	    !config_origin_listed("https://localhost:5173") &&
	    !config_origin_listed("http://app.example.com") &&
	    !config_origin_listed("https://app.example.com.evil.example") &&
	    !config_origin_listed("null") && !config_origin_listed(NULL),
	    "exact: another port, scheme or suffix is not");
	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	ok(load(1) == 0 && cfg.cors_n == 0 &&
	    !config_origin_listed("http://localhost:5173"),
	    "unset: nothing is listed");
	clear_env();
}

/* The data key ring (BULWARK_DATA_KEY, BULWARK_DATA_KEY_FILE). */
static void
test_data_keys(void)
{
	const char *f;
	char kid0[SEAL_KID_LEN + 1];

	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	ok(load(1) == 0 && cfg.n_data_keys == 0, "no data key: none, loads");
	ok(config_data_key("0123456789abcdef") == NULL, "  and no key opens");
	setenv("BULWARK_DATA_KEY", SECRET31, 1);
	ok(load(1) == -1 && strstr(err, "BULWARK_DATA_KEY") != NULL &&
	    strstr(err, "32") != NULL, "a 31-byte data key refused (%s)", err);
	setenv("BULWARK_DATA_KEY", SECRET32, 1);
	ok(load(1) == 0 && cfg.n_data_keys == 1 &&
	    strlen(cfg.data_keys[0].kid) == SEAL_KID_LEN,
	    "a 32-byte data key: one key with a %d-character id",
	    SEAL_KID_LEN);
	snprintf(kid0, sizeof kid0, "%s", cfg.data_keys[0].kid);
	ok(config_data_key(kid0) == &cfg.data_keys[0], "  found by its id");

	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	f = temp_file("ZYXWVUTSRQPONMLKJIHGFEDCBA987654\r\n\n" SECRET32 "\n");
	setenv("BULWARK_DATA_KEY_FILE", f, 1);
	ok(load(1) == 0 && cfg.n_data_keys == 2, "a file of two keys (%s)", err);
	ok(strcmp(cfg.data_keys[1].kid, kid0) == 0 &&
	    strcmp(cfg.data_keys[0].kid, kid0) != 0,
	    "  the first line seals, the older key keeps its id");
	ok(config_data_key(kid0) == &cfg.data_keys[1], "  the older one opens");
	f = temp_file(SECRET32 "\n" SECRET32 "\n");
	setenv("BULWARK_DATA_KEY_FILE", f, 1);
	ok(load(1) == -1 && strstr(err, "twice") != NULL,
	    "the same key twice refused (%s)", err);
	f = temp_file("\n\n");
	setenv("BULWARK_DATA_KEY_FILE", f, 1);
	ok(load(1) == -1 && strstr(err, "no key") != NULL,
	    "a file with no key refused (%s)", err);
	f = temp_file(SECRET32 "\nshort\n");
	setenv("BULWARK_DATA_KEY_FILE", f, 1);
	ok(load(1) == -1 && strstr(err, "BULWARK_DATA_KEY_FILE") != NULL,
	    "a short key on a later line refused (%s)", err);
	setenv("BULWARK_DATA_KEY", SECRET32, 1);
	ok(load(1) == -1 && strstr(err, "not both") != NULL,
	    "BULWARK_DATA_KEY and the file together refused (%s)", err);

	clear_env();
	setenv("BULWARK_JWT_SECRET", SECRET32, 1);
	ok(load(1) == 0 && strcmp(cfg.totp_issuer, "Bulwark") == 0 &&
	    cfg.verify_ttl == 86400 && cfg.verify_resend_limit == 3 &&
	    cfg.require_email_verification == 0,
	    "2FA and verification defaults");
	setenv("BULWARK_TOTP_ISSUER", "Acme:Corp", 1);
	ok(load(1) == -1 && strstr(err, "BULWARK_TOTP_ISSUER") != NULL,
	    "an issuer with ':' refused (%s)", err);
}

int
main(void)
{
	int i;

	test_secret();
	test_defaults();
	test_numbers();
	test_file();
	test_password_hash();
	test_proxies_atomic();
	test_data_keys();
	test_unknown_keys();
	test_cors();
	for (i = 0; i < ntmp; i++)
		unlink(tmpfiles[i]);
	return done_testing();
}
