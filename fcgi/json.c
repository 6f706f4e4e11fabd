/*
 * json.c -- JSON bodies, declarative validation, and the user object.
 *
 * A route names its fields (struct field); body_validate parses the body
 * with bounded depth, rejects NUL bytes and invalid UTF-8, and answers 400
 * with the contract's "issues" list: one entry per bad field.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "bulwark.h"

#define JSON_DEPTH 16
#define EMAIL_MAX 254
#define PASSWORD_MIN 8
#define PASSWORD_MAX 128
#define LOGIN_PASSWORD_MAX 1024

static void
put_json(void *o)
{
	json_object_put(o);
}

static int
add_issue(json_object *issues, const char *path, const char *message)
{
	json_object *i = json_object_new_object();

	if (i == NULL)
		return -1;
	json_object_object_add(i, "path", json_object_new_string(path));
	json_object_object_add(i, "message", json_object_new_string(message));
	return json_object_array_add(issues, i);
}

static void
respond_issues(struct request *req, json_object *issues)
{
	json_object *o = json_object_new_object();

	if (o == NULL) {
		json_object_put(issues);
		respond_internal(req, "validation response");
		return;
	}
	json_object_object_add(o, "error",
	    json_object_new_string("Invalid request"));
	json_object_object_add(o, "issues", issues);
	respond(req, 400, o);
}

static void
respond_one_issue(struct request *req, const char *message)
{
	json_object *issues = json_object_new_array();

	if (issues == NULL || add_issue(issues, "", message) < 0) {
		json_object_put(issues);
		respond_internal(req, "validation response");
		return;
	}
	respond_issues(req, issues);
}

static int
local_char(int c)
{
	/* strchr finds the terminator for c == 0: exclude NUL explicitly. */
	return c != '\0' &&
	    (isalnum(c) || strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

const char *
check_email(const char *in, size_t len, char *out, size_t outcap)
{
	size_t i, n, at = 0, ats = 0, label = 0;

	while (len > 0 && isspace((unsigned char)*in)) {
		in++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)in[len - 1]))
		len--;
	if (len == 0)
		return "Required";
	if (len > EMAIL_MAX || len + 1 > outcap)
		return "Must be at most 254 characters";
	for (i = 0; i < len; i++) {
		out[i] = (char)tolower((unsigned char)in[i]);
		if (out[i] == '@') {
			ats++;
			at = i;
		}
	}
	out[len] = '\0';
	n = len;
	if (ats != 1 || at == 0 || at == n - 1)
		return "Invalid email address";
	for (i = 0; i < at; i++)
		if (!local_char((unsigned char)out[i]))
			return "Invalid email address";
	/* Domain: dot-separated labels of letters, digits and inner hyphens,
	 * at least two labels. */
	for (i = at + 1; i <= n; i++) {
		if (i == n || out[i] == '.') {
			if (label == 0 || out[i - 1] == '-')
				return "Invalid email address";
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)out[i]) &&
		    (out[i] != '-' || label == 0))
			return "Invalid email address";
		label++;
	}
	if (memchr(out + at + 1, '.', n - at - 1) == NULL)
		return "Invalid email address";
	return NULL;
}

const char *
check_new_password(const char *pw, size_t len, const char *email)
{
	size_t chars = utf8_chars(pw, len);

	if (chars < PASSWORD_MIN)
		return "Must be at least 8 characters";
	if (chars > PASSWORD_MAX)
		return "Must be at most 128 characters";
	/* bcrypt reads 72 bytes and ignores the rest: refuse rather than
	 * store a password of which only a part counts. */
	if (cfg.pw_algo == PW_BCRYPT && len > BCRYPT_MAX_BYTES)
		return "Must be at most 72 bytes";
	if (email != NULL && strlen(email) == len &&
	    strncasecmp(pw, email, len) == 0)
		return "Must not be the same as the email";
	return NULL;
}

/* JSON forbids raw control characters inside strings; json-c (0.16) lets
 * them through even in strict mode.  Outside strings only the four
 * whitespace characters may appear.  1 when the body is clean. */
static int
no_raw_controls(const char *s, size_t n)
{
	size_t i;
	int in_str = 0, esc = 0;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (in_str) {
			if (c < 0x20)
				return 0;
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"')
			in_str = 1;
		else if (c < 0x20 && c != ' ' && c != '\t' && c != '\n' &&
		    c != '\r')
			return 0;
	}
	return 1;
}

int
body_validate(struct request *req, const struct field *f, size_t n,
    struct field_value *val)
{
	struct json_tokener *tok;
	json_object *root, *issues = NULL, *v;
	enum json_tokener_error jerr;
	const char *s, *msg, *email = NULL;
	char *norm;
	size_t i, len;
	int bad = 0;

	memset(val, 0, n * sizeof *val);
	if (req->body_len == 0) {
		respond_one_issue(req, "Expected a JSON object");
		return -1;
	}
	if (memchr(req->body, '\0', req->body_len) != NULL) {
		respond_one_issue(req, "Body must not contain NUL bytes");
		return -1;
	}
	if (!utf8_valid(req->body, req->body_len)) {
		respond_one_issue(req, "Body must be valid UTF-8");
		return -1;
	}
	if (!no_raw_controls(req->body, req->body_len)) {
		respond_one_issue(req, "Control characters must be escaped");
		return -1;
	}
	if ((tok = json_tokener_new_ex(JSON_DEPTH)) == NULL) {
		respond_internal(req, "json tokener");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
	jerr = json_tokener_get_error(tok);
	if (root != NULL && (jerr != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != req->body_len)) {
		/* Trailing bytes after one complete value are not JSON. */
		size_t end = json_tokener_get_parse_end(tok);
		while (end < req->body_len && strchr(" \t\r\n",
		    req->body[end]) != NULL)
			end++;
		if (jerr != json_tokener_success || end != req->body_len) {
			json_object_put(root);
			root = NULL;
		}
	}
	json_tokener_free(tok);
	if (root == NULL) {
		respond_one_issue(req, "Malformed JSON");
		return -1;
	}
	if (arena_defer(req->arena, put_json, root) < 0) {
		/* root has been released already. */
		respond_internal(req, "validation");
		return -1;
	}
	if (!json_object_is_type(root, json_type_object)) {
		respond_one_issue(req, "Expected a JSON object");
		return -1;
	}
	if ((issues = json_object_new_array()) == NULL) {
		respond_internal(req, "validation");
		return -1;
	}
	for (i = 0; i < n; i++) {
		msg = NULL;
		if (!json_object_object_get_ex(root, f[i].name, &v) ||
		    json_object_is_type(v, json_type_null)) {
			if (!f[i].optional)
				msg = "Required";
			goto next;
		}
		if (!json_object_is_type(v, json_type_string)) {
			msg = "Expected string";
			goto next;
		}
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (strlen(s) != len) {
			msg = "Must not contain NUL characters";
			goto next;
		}
		switch (f[i].kind) {
		case F_EMAIL:
			if ((norm = arena_alloc(req->arena, EMAIL_MAX + 2)) ==
			    NULL) {
				msg = "Too long";
				break;
			}
			if ((msg = check_email(s, len, norm,
			    EMAIL_MAX + 2)) == NULL) {
				s = norm;
				len = strlen(norm);
				email = norm;
			}
			break;
		case F_NEW_PASSWORD:
			msg = check_new_password(s, len, email);
			break;
		case F_LOGIN_PASSWORD:
			if (len == 0)
				msg = "Required";
			else if (len > LOGIN_PASSWORD_MAX)
				msg = "Must be at most 1024 bytes";
			break;
		case F_STRING:
			if (len == 0)
				msg = "Required";
			else if (f[i].max > 0 && len > f[i].max)
				msg = "Too long";
			break;
		}
		if (msg == NULL) {
			val[i].str = s;
			val[i].len = len;
			val[i].present = 1;
		}
next:
		if (msg != NULL) {
			bad = 1;
			if (add_issue(issues, f[i].name, msg) < 0) {
				json_object_put(issues);
				respond_internal(req, "validation");
				return -1;
			}
		}
	}
	if (bad) {
		respond_issues(req, issues);
		return -1;
	}
	json_object_put(issues);
	return 0;
}

json_object *
user_json(const struct user *u)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(u->id));
	json_object_object_add(o, "email", json_object_new_string(u->email));
	json_object_object_add(o, "role", json_object_new_string(u->role));
	json_object_object_add(o, "emailVerified",
	    json_object_new_boolean(u->email_verified));
	json_object_object_add(o, "twoFactorEnabled",
	    json_object_new_boolean(u->two_factor_enabled));
	json_object_object_add(o, "createdAt",
	    json_object_new_string(u->created_at));
	return o;
}

void
respond_user(struct request *req, int status, const struct user *u)
{
	json_object *o = json_object_new_object(), *uj = user_json(u);

	if (o == NULL || uj == NULL) {
		json_object_put(o);
		json_object_put(uj);
		respond_internal(req, "user response");
		return;
	}
	json_object_object_add(o, "user", uj);
	respond(req, status, o);
}

const char *
rfc3339(struct arena *a, const char *pg)
{
	char frac[4] = "000", *out;
	size_t i, n = strlen(pg);
	const char *p;

	/* "YYYY-MM-DD HH:MM:SS[.f{1,6}]+00" -> "YYYY-MM-DDTHH:MM:SS.mmmZ" */
	if (n < 22 || pg[10] != ' ' || strcmp(pg + n - 3, "+00") != 0)
		return pg;
	p = pg + 19;
	if (*p == '.')
		for (i = 0, p++; i < 3 && *p >= '0' && *p <= '9'; i++, p++)
			frac[i] = *p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p != pg + n - 3 || (out = arena_alloc(a, 25)) == NULL)
		return pg;
	memcpy(out, pg, 19);
	out[10] = 'T';
	out[19] = '.';
	memcpy(out + 20, frac, 3);
	out[23] = 'Z';
	out[24] = '\0';
	return out;
}

void
user_from_row(struct request *req, PGresult *r, int row, int col,
    struct user *u)
{
	/* Values point into r, which the arena keeps until the request ends. */
	u->id = PQgetvalue(r, row, col);
	u->email = PQgetvalue(r, row, col + 1);
	u->role = PQgetvalue(r, row, col + 2);
	u->email_verified = PQgetvalue(r, row, col + 3)[0] == 't';
	u->two_factor_enabled = PQgetvalue(r, row, col + 4)[0] == 't';
	u->created_at = rfc3339(req->arena, PQgetvalue(r, row, col + 5));
}
