/*
 * core/validate.c -- email and new-password rules (see validate.h).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/utf8.h"
#include "core/validate.h"

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

int
uuid_valid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}
