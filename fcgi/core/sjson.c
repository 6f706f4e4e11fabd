/*
 * core/sjson.c -- the strict JSON lexer and the body check (see sjson.h).
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sjson.h"
#include "core/utf8.h"

void
sjson_ws(struct sjson *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int
hex4(struct sjson *j, unsigned *out)
{
	unsigned v = 0, d;
	int i;

	if (j->end - j->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		d = *j->p++;
		if (d >= '0' && d <= '9')
			d -= '0';
		else if (d >= 'a' && d <= 'f')
			d = d - 'a' + 10;
		else if (d >= 'A' && d <= 'F')
			d = d - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* Appends n bytes to the decoded string begun at start. */
static enum sjson_err
emit(struct sjson *j, const char *start, const void *b, size_t n)
{
	/* One byte is kept back for the string's NUL. */
	if ((size_t)(j->oend - j->o) < n + 1 ||
	    (j->str_max > 0 && (size_t)(j->o - start) + n > j->str_max))
		return SJSON_LONG;
	memcpy(j->o, b, n);
	j->o += n;
	return SJSON_OK;
}

/* After the 'u' of \uXXXX: the code point, a surrogate pair joined, as
 * UTF-8 into u8, its length in *n. */
static enum sjson_err
unicode_escape(struct sjson *j, unsigned char u8[4], size_t *n)
{
	unsigned cp, lo;

	if (hex4(j, &cp) < 0)
		return SJSON_SYNTAX;
	if (cp == 0)
		return SJSON_NUL;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return SJSON_SURROGATE;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
			return SJSON_SURROGATE;
		j->p += 2;
		if (hex4(j, &lo) < 0)
			return SJSON_SYNTAX;
		if (lo < 0xdc00 || lo > 0xdfff)
			return SJSON_SURROGATE;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp < 0x80) {
		u8[0] = (unsigned char)cp;
		*n = 1;
	} else if (cp < 0x800) {
		u8[0] = (unsigned char)(0xc0 | cp >> 6);
		u8[1] = (unsigned char)(0x80 | (cp & 0x3f));
		*n = 2;
	} else if (cp < 0x10000) {
		u8[0] = (unsigned char)(0xe0 | cp >> 12);
		u8[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u8[2] = (unsigned char)(0x80 | (cp & 0x3f));
		*n = 3;
	} else {
		u8[0] = (unsigned char)(0xf0 | cp >> 18);
		u8[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u8[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u8[3] = (unsigned char)(0x80 | (cp & 0x3f));
		*n = 4;
	}
	return SJSON_OK;
}

enum sjson_err
sjson_string(struct sjson *j, const char **s, size_t *len)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *start = j->o, *e;
	unsigned char u8[4];
	enum sjson_err err;
	size_t k;

	if (j->o == j->oend)
		return SJSON_LONG;
	j->p++;
	for (;;) {
		if (j->p == j->end)
			return SJSON_SYNTAX;
		/* A run of plain ASCII (no quote, backslash or control): one
		 * copy; it fails where the byte-at-a-time loop would. */
		if ((k = json_plain_len(j->p,
		    (size_t)(j->end - j->p))) > 0) {
			if ((err = emit(j, start, j->p, k)) != SJSON_OK)
				return err;
			j->p += k;
			continue;
		}
		if (*j->p == '"') {
			j->p++;
			break;
		}
		if (*j->p == '\\') {
			if (++j->p == j->end)
				return SJSON_SYNTAX;
			if (*j->p == 'u') {
				j->p++;
				if ((err = unicode_escape(j, u8, &k)) !=
				    SJSON_OK ||
				    (err = emit(j, start, u8, k)) != SJSON_OK)
					return err;
				continue;
			}
			if ((e = memchr(from, *j->p, sizeof from - 1)) == NULL)
				return SJSON_SYNTAX;
			if ((err = emit(j, start, &to[e - from], 1)) !=
			    SJSON_OK)
				return err;
			j->p++;
			continue;
		}
		if (*j->p < 0x20)
			return SJSON_CONTROL;
		if ((k = utf8_seq(j->p, (size_t)(j->end - j->p))) == 0)
			return SJSON_UTF8;
		if ((err = emit(j, start, j->p, k)) != SJSON_OK)
			return err;
		j->p += k;
	}
	*s = start;
	*len = (size_t)(j->o - start);
	*j->o++ = '\0'; /* emit kept room for it */
	return SJSON_OK;
}

static int
digit(const struct sjson *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

enum sjson_err
sjson_number(struct sjson *j, int *fits, long long *num)
{
	unsigned long long v = 0, lim = LLONG_MAX;
	int neg = 0;
	unsigned d;

	*fits = 1;
	*num = 0;
	if (j->p < j->end && *j->p == '-') {
		neg = 1;
		lim = (unsigned long long)LLONG_MAX + 1;
		j->p++;
	}
	if (!digit(j))
		return SJSON_SYNTAX;
	if (*j->p == '0')
		j->p++;
	else
		while (digit(j)) {
			d = (unsigned)(*j->p++ - '0');
			if (v > (lim - d) / 10)
				*fits = 0;
			else
				v = v * 10 + d;
		}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!digit(j))
			return SJSON_SYNTAX;
		while (digit(j))
			j->p++;
		*fits = 0;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digit(j))
			return SJSON_SYNTAX;
		while (digit(j))
			j->p++;
		*fits = 0;
	}
	if (*fits)
		*num = !neg ? (long long)v :
		    v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN :
		    -(long long)v;
	return SJSON_OK;
}

enum sjson_err
sjson_literal(struct sjson *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return SJSON_SYNTAX;
	j->p += n;
	return SJSON_OK;
}

/* ---- the check of a whole text ------------------------------------------ */

struct key {
	const char *s;
	size_t len;
};

struct check {
	struct sjson j;
	struct key *keys;      /* the keys of the objects open now */
	size_t nkeys, capkeys;
	unsigned depth, max_depth;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static enum sjson_err check_value(struct check *);

static enum sjson_err
push_key(struct check *c, const char *s, size_t len)
{
	struct key *k;
	size_t cap;

	if (c->nkeys == c->capkeys) {
		cap = c->capkeys ? c->capkeys * 2 : 16;
		if ((k = realloc(c->keys, cap * sizeof *k)) == NULL)
			return SJSON_NOMEM;
		c->keys = k;
		c->capkeys = cap;
	}
	c->keys[c->nkeys].s = s;
	c->keys[c->nkeys].len = len;
	c->nkeys++;
	return SJSON_OK;
}

/* At '{': the members, then the duplicate check of this object's keys
 * (sorted, so n log n however many there are). */
static enum sjson_err
check_object(struct check *c)
{
	struct sjson *j = &c->j;
	char *omark = j->o;
	size_t kmark = c->nkeys, i, len;
	const char *s;
	enum sjson_err e = SJSON_OK;

	j->p++;
	sjson_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		goto out;
	}
	for (;;) {
		if (j->p == j->end || *j->p != '"') {
			e = SJSON_SYNTAX;
			goto out;
		}
		if ((e = sjson_string(j, &s, &len)) != SJSON_OK ||
		    (e = push_key(c, s, len)) != SJSON_OK)
			goto out;
		sjson_ws(j);
		if (j->p == j->end || *j->p++ != ':') {
			e = SJSON_SYNTAX;
			goto out;
		}
		sjson_ws(j);
		if ((e = check_value(c)) != SJSON_OK)
			goto out;
		sjson_ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			break;
		}
		if (j->p == j->end || *j->p++ != ',') {
			e = SJSON_SYNTAX;
			goto out;
		}
		sjson_ws(j);
	}
	qsort(c->keys + kmark, c->nkeys - kmark, sizeof *c->keys, key_cmp);
	for (i = kmark + 1; i < c->nkeys; i++)
		if (key_cmp(&c->keys[i - 1], &c->keys[i]) == 0) {
			e = SJSON_DUP_KEY;
			break;
		}
out:
	/* The keys of a closed object are not needed any more. */
	c->nkeys = kmark;
	j->o = omark;
	return e;
}

/* At '[': the elements. */
static enum sjson_err
check_array(struct check *c)
{
	struct sjson *j = &c->j;
	enum sjson_err e;

	j->p++;
	sjson_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return SJSON_OK;
	}
	for (;;) {
		if ((e = check_value(c)) != SJSON_OK)
			return e;
		sjson_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return SJSON_OK;
		}
		if (j->p == j->end || *j->p++ != ',')
			return SJSON_SYNTAX;
		sjson_ws(j);
	}
}

static enum sjson_err
check_value(struct check *c)
{
	struct sjson *j = &c->j;
	enum sjson_err e;
	const char *s;
	char *omark;
	size_t len;
	long long num;
	int fits;

	if (j->p == j->end)
		return SJSON_SYNTAX;
	switch (*j->p) {
	case '{':
	case '[':
		if (c->depth == c->max_depth)
			return SJSON_DEPTH;
		c->depth++;
		e = *j->p == '{' ? check_object(c) : check_array(c);
		c->depth--;
		return e;
	case '"':
		/* A value's text is checked, then dropped. */
		omark = j->o;
		e = sjson_string(j, &s, &len);
		j->o = omark;
		return e;
	case 't':
		return sjson_literal(j, "true");
	case 'f':
		return sjson_literal(j, "false");
	case 'n':
		return sjson_literal(j, "null");
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return sjson_number(j, &fits, &num);
		return SJSON_SYNTAX;
	}
}

enum sjson_err
sjson_check(const char *in, size_t n, unsigned max_depth)
{
	struct check c;
	char *out;
	enum sjson_err e;

	memset(&c, 0, sizeof c);
	/* A decoded string never outgrows its JSON form, quotes included,
	 * so n + 1 bytes hold all the keys that can be open at once. */
	if (n == SIZE_MAX || (out = malloc(n + 1)) == NULL)
		return SJSON_NOMEM;
	c.j.p = (const unsigned char *)in;
	c.j.end = c.j.p + n;
	c.j.o = out;
	c.j.oend = out + n + 1;
	c.max_depth = max_depth;
	sjson_ws(&c.j);
	if ((e = check_value(&c)) == SJSON_OK) {
		sjson_ws(&c.j);
		if (c.j.p != c.j.end)
			e = SJSON_SYNTAX;
	}
	free(c.keys);
	free(out);
	return e;
}

const char *
sjson_error_name(enum sjson_err e)
{
	switch (e) {
	case SJSON_OK:
		return "ok";
	case SJSON_SYNTAX:
		return "syntax";
	case SJSON_DEPTH:
		return "depth";
	case SJSON_DUP_KEY:
		return "dup_key";
	case SJSON_SURROGATE:
		return "surrogate";
	case SJSON_NUL:
		return "nul";
	case SJSON_CONTROL:
		return "control";
	case SJSON_UTF8:
		return "utf8";
	case SJSON_LONG:
		return "long";
	case SJSON_NOMEM:
		return "nomem";
	}
	return "unknown";
}
