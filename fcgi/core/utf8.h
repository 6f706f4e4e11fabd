/*
 * core/utf8.h -- UTF-8 checks shared by the body parser, the log and the
 * command line.
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

#endif
