/*
 * core/sjson.h -- one strict reading of JSON text (RFC 8259).
 *
 * Two parsers reading one text differently is an attack: a body with
 * "email" twice, or with the lone surrogate "\ud800" (json-c makes it
 * U+FFFD, so many passwords become one), means what the reader chooses.
 * This module is the one lexer both JSON readers of Bulwark use: the flat
 * parser of JWT headers and payloads (core/jwt.c) and the check that every
 * request body passes before json-c reads it (http/body.c).  What it
 * accepts, json-c reads the same way.
 *
 * Strings (keys too) are decoded: the escapes \" \\ \/ \b \f \n \r \t and
 * \uXXXX, a surrogate pair joined into one code point, all as UTF-8.
 * Refused: \u0000, a lone surrogate (a low one, or a high one not followed
 * by a low one), a raw byte below 0x20, invalid UTF-8 (overlong forms and
 * encoded surrogates included), a string decoding to more than str_max
 * bytes.  Nothing here allocates but sjson_check, which frees what it takes.
 */
#ifndef CORE_SJSON_H
#define CORE_SJSON_H

#include <stddef.h>

enum sjson_err {
	SJSON_OK = 0,
	SJSON_SYNTAX,    /* not JSON, or something after the value */
	SJSON_DEPTH,     /* objects and arrays nested too deep */
	SJSON_DUP_KEY,   /* a key twice in one object, compared decoded */
	SJSON_SURROGATE, /* a \u escape of a surrogate that is not a pair */
	SJSON_NUL,       /* \u0000 */
	SJSON_CONTROL,   /* a raw byte below 0x20 inside a string */
	SJSON_UTF8,      /* invalid UTF-8 inside a string */
	SJSON_LONG,      /* a string longer than str_max, or than the output */
	SJSON_NOMEM
};

/* A reading position.  The caller owns both buffers; decoded strings are
 * written at o (never past oend) and are NUL-terminated. */
struct sjson {
	const unsigned char *p, *end; /* input still to read */
	char *o, *oend;               /* where decoded strings go */
	size_t str_max;               /* longest decoded string; 0: no limit */
};

/* Skips JSON whitespace (space, tab, CR, LF). */
void sjson_ws(struct sjson *);
/* At the opening quote: decodes the string to o, NUL-terminated; *s and
 * *len say where it is (len without the NUL). */
enum sjson_err sjson_string(struct sjson *, const char **s, size_t *len);
/* At '-' or a digit: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
 * *fits is 1 for an integer (no fraction, no exponent) that fits a long
 * long, whose value is then *num. */
enum sjson_err sjson_number(struct sjson *, int *fits, long long *num);
/* "true", "false" or "null" at p. */
enum sjson_err sjson_literal(struct sjson *, const char *word);

/*
 * Checks that in[0..n) is exactly one JSON value (whitespace around it
 * allowed) of any shape, objects and arrays nested at most max_depth deep,
 * every string as above and no object holding a key twice (keys compared
 * decoded: "email" and "\u0065mail" are the same).  Uses up to about 2n
 * bytes of heap while it runs (SJSON_NOMEM when it cannot have them).
 */
enum sjson_err sjson_check(const char *in, size_t n, unsigned max_depth);
/* A short constant name ("syntax", "dup_key", ...). */
const char *sjson_error_name(enum sjson_err);

#endif
