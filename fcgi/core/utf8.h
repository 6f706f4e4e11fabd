/*
 * core/utf8.h -- UTF-8 checks shared by the body parser, the log and the
 * command line, and the JSON string escaping of the log and the answers.
 */
#ifndef CORE_UTF8_H
#define CORE_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid
 * (overlong forms and surrogates included); n >= 1 bytes are readable. */
size_t utf8_seq(const unsigned char *s, size_t n);
/* 1 when s[0..n) is valid UTF-8. */
int utf8_valid(const char *s, size_t n);
/* Characters (code points) in s[0..n), which must be valid UTF-8. */
size_t utf8_chars(const char *s, size_t n);

/* JSON string text, one piece at a time.  json_plain_len: how many bytes
 * from s need no escape (printable ASCII but '"' and '\\'), to be copied as
 * they are.  json_escape_unit: the text for the unit at s[0..n) (n >= 1,
 * s[0] not plain) written to out, its length returned, the input bytes it
 * stands for in *used: \" and \\, \u00XX for a control character or
 * DEL, a valid UTF-8 sequence as it is, \ufffd for a byte that begins
 * none, so the text is always valid UTF-8 JSON. */
#define JSON_UNIT_MAX 6
size_t json_plain_len(const unsigned char *s, size_t n);
size_t json_escape_unit(const unsigned char *s, size_t n,
    char out[JSON_UNIT_MAX], size_t *used);

#endif
