/*
 * fuzz_totp.c -- the two-factor parsers: base32 (an otpauth secret, the
 * recovery codes' alphabet) and the code a user types.
 *
 * Input: the first byte picks a window of clock; the rest is text fed to
 * base32_decode and, cut to 32 bytes, to totp_verify as a typed code.
 * Oracles: what decodes encodes back to the same bytes, and re-decodes to
 * them; a decode never writes past its buffer (the sanitizers); a code
 * totp_verify accepts is 6 ASCII digits and names a step within one of
 * now; an encoding is only A-Z and 2-7 (and '=' with padding).
 */
#include <string.h>
#include <sys/types.h>

#include "core/totp.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const unsigned char key[TOTP_SECRET_BYTES] = "12345678901234567890";
	unsigned char out[256], again[256];
	char enc[512], code[33];
	long long now, step = -7;
	ssize_t k, k2;
	size_t e, i, c;

	if (n == 0)
		return 0;
	now = 1700000000LL + (long long)d[0] * 7919;
	d++;
	n--;
	k = base32_decode((const char *)d, n, out, sizeof out);
	if (k >= 0) {
		FUZZ_ASSERT((size_t)k <= sizeof out);
		for (i = 0; i < 2; i++) {
			e = base32_encode(out, (size_t)k, enc, sizeof enc, (int)i);
			FUZZ_ASSERT(e > 0 || k == 0);
			FUZZ_ASSERT(strlen(enc) == e);
			FUZZ_ASSERT(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=") == e);
			k2 = base32_decode(enc, e, again, sizeof again);
			FUZZ_ASSERT(k2 == k && memcmp(out, again, (size_t)k) == 0);
		}
	}
	c = n < sizeof code - 1 ? n : sizeof code - 1;
	memcpy(code, d, c);
	code[c] = '\0';
	if (totp_verify(key, sizeof key, code, c, now, &step) == 0) {
		FUZZ_ASSERT(c == TOTP_DIGITS &&
		    strspn(code, "0123456789") == TOTP_DIGITS);
		FUZZ_ASSERT(step >= totp_step(now) - 1 &&
		    step <= totp_step(now) + 1);
	} else
		FUZZ_ASSERT(step == -7);
	return 0;
}
