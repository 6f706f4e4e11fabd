/*
 * core/utf8.c -- UTF-8 validation and counting, and JSON string escaping.
 */
#include <string.h>

#include "core/utf8.h"

size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (n >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0; /* overlong, or a surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

int
utf8_valid(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = utf8_seq((const unsigned char *)s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

size_t
utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

size_t
json_plain_len(const unsigned char *s, size_t n)
{
	size_t k = 0;

	while (k < n && s[k] >= 0x20 && s[k] < 0x7f && s[k] != '"' &&
	    s[k] != '\\')
		k++;
	return k;
}

size_t
json_escape_unit(const unsigned char *s, size_t n, char out[JSON_UNIT_MAX],
    size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	size_t k;

	*used = 1;
	if (s[0] == '"' || s[0] == '\\') {
		out[0] = '\\';
		out[1] = (char)s[0];
		return 2;
	}
	if (s[0] < 0x20 || s[0] == 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[s[0] >> 4];
		out[5] = hex[s[0] & 15];
		return 6;
	}
	if ((k = utf8_seq(s, n)) == 0) {
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	memcpy(out, s, k);
	*used = k;
	return k;
}
