/*
 * http/body.c -- JSON bodies and declarative validation.
 *
 * A route names its fields (struct field); body_validate parses the body
 * with bounded depth, rejects NUL bytes, invalid UTF-8 and whatever
 * core/sjson.h refuses (a key twice, a lone surrogate), and answers 400
 * with the contract's "issues" list: one entry per bad field.
 */
#include <string.h>

#include "core/arena.h"
#include "core/sjson.h"
#include "core/utf8.h"
#include "core/validate.h"
#include "http/http.h"

#define JSON_DEPTH 16

static void
put_json(void *o)
{
	json_object_put(o);
}

/* Appends {"path","message"} to issues; NULL (issues released) when out
 * of memory. */
static json_object *
add_issue(json_object *issues, const char *path, const char *message)
{
	return json_push(issues, json_of(J_STR("path", path),
	    J_STR("message", message)));
}

/* The contract's 400; issues is consumed (NULL: out of memory, a 500). */
static void
respond_issues(struct request *req, json_object *issues)
{
	respond_json(req, 400, J_STR("error", "Invalid request"),
	    J_OBJ("issues", issues));
}

void
respond_invalid(struct request *req, const char *path, const char *message)
{
	respond_issues(req, add_issue(json_object_new_array(), path, message));
}

static void
respond_one_issue(struct request *req, const char *message)
{
	respond_invalid(req, "", message);
}

/* The message of the 400 for a body that core/sjson.h refuses.  json-c
 * (0.16) would read some of these one way and a careful client another:
 * a key twice (json-c keeps the last), a lone surrogate escape (json-c
 * makes it U+FFFD), raw control characters (json-c lets them through even
 * in strict mode); so no body reaches json-c before sjson_check took it,
 * and what json-c then reads is the one meaning the body has. */
static const char *
strict_message(enum sjson_err e)
{
	switch (e) {
	case SJSON_DUP_KEY:
		return "Duplicate key";
	case SJSON_SURROGATE:
		return "Lone surrogate escape";
	case SJSON_NUL:
		return "Must not contain NUL characters";
	case SJSON_CONTROL:
		return "Control characters must be escaped";
	case SJSON_UTF8:
		return "Body must be valid UTF-8";
	default:
		return "Malformed JSON";
	}
}

int
body_validate(struct request *req, const struct field *f, size_t n,
    struct field_value *val)
{
	struct json_tokener *tok;
	json_object *root, *issues = NULL, *v;
	enum json_tokener_error jerr;
	enum sjson_err serr;
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
	if ((serr = sjson_check(req->body, req->body_len, JSON_DEPTH)) !=
	    SJSON_OK) {
		if (serr == SJSON_NOMEM)
			respond_internal(req, "json check");
		else
			respond_one_issue(req, strict_message(serr));
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
			if ((issues = add_issue(issues, f[i].name, msg)) == NULL) {
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
