/*
 * test_totp.c -- base32 (RFC 4648), HOTP (RFC 4226), TOTP (RFC 6238) and
 * the code check of two-factor login.
 */
#include <stdio.h>
#include <string.h>

#include "core/totp.h"
#include "tap.h"

#define KEY20 "12345678901234567890"
#define KEY32 "12345678901234567890123456789012"
#define KEY64 "1234567890123456789012345678901234567890123456789012345678901234"

/* Encodes in both ways and decodes both texts and the lower case of each. */
static void
b32_vector(const char *in, const char *padded)
{
	char enc[64], unpadded[64], lower[64];
	unsigned char dec[64];
	size_t n = strlen(in), len, i, ulen;
	ssize_t dl;

	ulen = strcspn(padded, "=");
	memcpy(unpadded, padded, ulen);
	unpadded[ulen] = '\0';
	len = base32_encode((const unsigned char *)in, n, enc, sizeof enc, 1);
	ok(len == strlen(padded), "encode \"%s\" padded: length %zu", in,
	    strlen(padded));
	is_str(enc, padded, "encode \"%s\" padded -> \"%s\"", in, padded);
	len = base32_encode((const unsigned char *)in, n, enc, sizeof enc, 0);
	ok(len == ulen, "encode \"%s\" unpadded: length %zu", in, ulen);
	is_str(enc, unpadded, "encode \"%s\" unpadded -> \"%s\"", in, unpadded);
	dl = base32_decode(padded, strlen(padded), dec, sizeof dec);
	ok(dl == (ssize_t)n && memcmp(dec, in, n) == 0,
	    "decode \"%s\" -> \"%s\"", padded, in);
	dl = base32_decode(unpadded, ulen, dec, sizeof dec);
	ok(dl == (ssize_t)n && memcmp(dec, in, n) == 0,
	    "decode \"%s\" -> \"%s\"", unpadded, in);
	for (i = 0; padded[i] != '\0'; i++)
		lower[i] = (char)(padded[i] >= 'A' && padded[i] <= 'Z' ?
		    padded[i] - 'A' + 'a' : padded[i]);
	lower[i] = '\0';
	dl = base32_decode(lower, strlen(lower), dec, sizeof dec);
	ok(dl == (ssize_t)n && memcmp(dec, in, n) == 0,
	    "decode lower case \"%s\" -> \"%s\"", lower, in);
	lower[ulen] = '\0';
	dl = base32_decode(lower, ulen, dec, sizeof dec);
	ok(dl == (ssize_t)n && memcmp(dec, in, n) == 0,
	    "decode lower case \"%s\" -> \"%s\"", lower, in);
}

static void
test_base32_vectors(void)
{
	/* RFC 4648 section 10. */
	b32_vector("", "");
	b32_vector("f", "MY======");
	b32_vector("fo", "MZXQ====");
	b32_vector("foo", "MZXW6===");
	b32_vector("foob", "MZXW6YQ=");
	b32_vector("fooba", "MZXW6YTB");
	b32_vector("foobar", "MZXW6YTBOI======");
}

static void
test_base32_secret(void)
{
	unsigned char raw[TOTP_SECRET_BYTES], dec[TOTP_SECRET_BYTES + 8];
	char enc[TOTP_SECRET_B32_LEN + 1], small[TOTP_SECRET_B32_LEN];
	size_t i, n, len, bad = 0;
	ssize_t dl;

	for (i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(0xff - i * 13);
	len = base32_encode(raw, sizeof raw, enc, sizeof enc, 0);
	ok(len == TOTP_SECRET_B32_LEN && strlen(enc) == TOTP_SECRET_B32_LEN,
	    "a 20-byte secret is %d base32 characters", TOTP_SECRET_B32_LEN);
	len = base32_encode(raw, sizeof raw, enc, sizeof enc, 1);
	ok(len == TOTP_SECRET_B32_LEN && strchr(enc, '=') == NULL,
	    "and needs no padding");
	dl = base32_decode(enc, len, dec, sizeof dec);
	ok(dl == TOTP_SECRET_BYTES && memcmp(dec, raw, sizeof raw) == 0,
	    "it decodes to the same 20 bytes");
	ok(base32_encode(raw, sizeof raw, small, sizeof small, 0) == 0,
	    "encode refuses an output with no room for the NUL");
	ok(base32_decode(enc, len, dec, TOTP_SECRET_BYTES - 1) == -1,
	    "decode refuses an output one byte short");
	/* Every length 0..40, both ways, through every byte value. */
	for (n = 0; n <= 40; n++) {
		unsigned char in[40], out[48];
		char text[72];

		for (i = 0; i < n; i++)
			in[i] = (unsigned char)(i * 71 + n * 5 +
			    (i % 2 ? 0x80 : 0));
		for (int pad = 0; pad <= 1; pad++) {
			len = base32_encode(in, n, text, sizeof text, pad);
			if (len != (pad ? (n + 4) / 5 * 8 : (n * 8 + 4) / 5) ||
			    strlen(text) != len ||
			    strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=") !=
			    len)
				bad++;
			dl = base32_decode(text, len, out, sizeof out);
			if (dl != (ssize_t)n || memcmp(out, in, n) != 0)
				bad++;
		}
	}
	ok(bad == 0, "lengths 0..40 round-trip, padded and not (%zu bad)",
	    bad);
}

/* s with every byte outside printable ASCII as \xNN, for a TAP line. */
static const char *
shown(const char *s)
{
	static char buf[128];
	size_t o = 0;

	for (; *s != '\0' && o + 5 < sizeof buf; s++) {
		if (*s >= ' ' && *s <= '~')
			buf[o++] = *s;
		else
			o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x",
			    (unsigned char)*s);
	}
	buf[o] = '\0';
	return buf;
}

static void
test_base32_bad(void)
{
	static const char *bad[] = {
		"M",                /* 1 character: no whole byte */
		"MZX",              /* 3 */
		"MZXW6Y",           /* 6 */
		"MZXW6YTBO",        /* 9 */
		"MZ======",         /* spare bits 01 of "f" + 'Z' */
		"MZ",
		"MZXR====",         /* "fo" with spare bit 1 */
		"MZXW7===",         /* "foo" with spare bit 1 */
		"MZXW6YR=",         /* "foob" with spare bits 1 */
		"MY=====",          /* one '=' too few */
		"MY=======",        /* one too many */
		"MY==",             /* short group */
		"MY=",
		"MZXW6YQ",          /* fine... */
		"MZXQ==",
		"MZXW6==",
		"MZXW6YQ==",
		"MZXW6YTB========", /* a whole group of padding */
		"========",
		"=",
		"=MY=====",
		"MY=A====",         /* data after padding */
		"MY======MY======", /* padding in the middle */
		"MY ======",        /* spaces */
		" MY======",
		"MZXW 6YTB",
		"MZXW6YTB ",
		"MZXW6YTB\n",
		"MZXW-6YT",
		"MZXW6YT1",         /* 0, 1, 8, 9 are not base32 */
		"MZXW6YT0",
		"MZXW6YT8",
		"MZXW6YT9",
		"MZXW6YT@",
		"MZXW6YT[",
		"MZXW6YT`",
		"MZXW6YT{",
		"MZXW6YT\xc3",
		"MZXW6YT\xc2\xa0",
	};
	unsigned char out[32];
	size_t i;
	ssize_t dl;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (strcmp(bad[i], "MZXW6YQ") == 0) {
			/* The control: unpadded "foob" is accepted, so the
			 * lines around it fail for the reason they name. */
			ok(base32_decode(bad[i], strlen(bad[i]), out,
			    sizeof out) == 4, "control: \"MZXW6YQ\" decodes");
			continue;
		}
		dl = base32_decode(bad[i], strlen(bad[i]), out, sizeof out);
		ok(dl == -1, "refused: \"%s\"", shown(bad[i]));
	}
	/* A NUL inside the given length is a bad character too. */
	ok(base32_decode("MZXW6\0TB", 8, out, sizeof out) == -1,
	    "refused: a NUL inside the length");
}

static void
test_hotp_rfc4226(void)
{
	/* RFC 4226 Appendix D: secret "12345678901234567890", counts 0..9. */
	static const long want[10] = { 755224, 287082, 359152, 969429, 338314,
	    254676, 287922, 162583, 399871, 520489 };
	unsigned long long c;

	for (c = 0; c < 10; c++)
		ok(hotp(TOTP_SHA1, (const unsigned char *)KEY20, 20, c, 6) ==
		    want[c], "RFC 4226 HOTP count %llu = %06ld", c, want[c]);
	ok(hotp(TOTP_SHA1, (const unsigned char *)KEY20, 20, 0, 5) == -1,
	    "hotp refuses 5 digits");
	ok(hotp(TOTP_SHA1, (const unsigned char *)KEY20, 20, 0, 9) == -1,
	    "hotp refuses 9 digits");
	ok(hotp(TOTP_SHA1, NULL, 0, 0, 6) == -1, "hotp refuses no key");
	ok(hotp((enum totp_alg)7, (const unsigned char *)KEY20, 20, 0, 6) ==
	    -1, "hotp refuses an unknown algorithm");
}

static void
test_totp_rfc6238(void)
{
	/* RFC 6238 Appendix B: each mode with its own ASCII seed. */
	static const struct {
		long long t;
		long long step;
		long sha1, sha256, sha512;
	} v[] = {
		{ 59LL, 0x1LL, 94287082, 46119246, 90693936 },
		{ 1111111109LL, 0x23523ECLL, 7081804, 68084774, 25091201 },
		{ 1111111111LL, 0x23523EDLL, 14050471, 67062674, 99943326 },
		{ 1234567890LL, 0x273EF07LL, 89005924, 91819424, 93441116 },
		{ 2000000000LL, 0x3F940AALL, 69279037, 90698825, 38618901 },
		{ 20000000000LL, 0x27BC86AALL, 65353130, 77737706, 47863826 },
	};
	size_t i;
	unsigned long long s;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		ok(totp_step(v[i].t) == v[i].step, "T of %lld is 0x%llX",
		    v[i].t, (unsigned long long)v[i].step);
		s = (unsigned long long)totp_step(v[i].t);
		ok(hotp(TOTP_SHA1, (const unsigned char *)KEY20, 20, s, 8) ==
		    v[i].sha1, "RFC 6238 SHA1 at %lld = %08ld", v[i].t,
		    v[i].sha1);
		ok(hotp(TOTP_SHA256, (const unsigned char *)KEY32, 32, s, 8) ==
		    v[i].sha256, "RFC 6238 SHA256 at %lld = %08ld", v[i].t,
		    v[i].sha256);
		ok(hotp(TOTP_SHA512, (const unsigned char *)KEY64, 64, s, 8) ==
		    v[i].sha512, "RFC 6238 SHA512 at %lld = %08ld", v[i].t,
		    v[i].sha512);
	}
	ok(totp_step(0) == 0 && totp_step(29) == 0 && totp_step(30) == 1,
	    "steps start at 0 and turn every 30 seconds");
	ok(totp_step(-1) == -1, "a negative time has no step");
}

/* The 6-digit text of the code of step s under the RFC key. */
static void
code_at(unsigned long long s, char out[TOTP_DIGITS + 1])
{
	long c = hotp(TOTP_SHA1, (const unsigned char *)KEY20, 20, s, 6);
	int i;

	for (i = TOTP_DIGITS; i-- > 0; c /= 10)
		out[i] = (char)('0' + c % 10);
	out[TOTP_DIGITS] = '\0';
}

/* totp_verify of code at time t: 0 and the step, or -1 (*got -99). */
static int
check(const char *code, size_t len, long long t, long long *got)
{
	*got = -99;
	return totp_verify((const unsigned char *)KEY20, 20, code, len, t,
	    got);
}

static void
test_verify(void)
{
	const unsigned char *key = (const unsigned char *)KEY20;
	long long t = 1234567890LL, now = totp_step(t), got, b;
	char code[TOTP_DIGITS + 1], longer[16];
	int k;

	for (k = -1; k <= 1; k++) {
		code_at((unsigned long long)(now + k), code);
		ok(check(code, TOTP_DIGITS, t, &got) == 0 && got == now + k,
		    "the code of now%+d (%s) is accepted, step %lld", k, code,
		    now + k);
	}
	code_at((unsigned long long)(now - 2), code);
	ok(check(code, TOTP_DIGITS, t, &got) == -1 && got == -99,
	    "the code of now-2 (%s) is refused, step untouched", code);
	code_at((unsigned long long)(now + 2), code);
	ok(check(code, TOTP_DIGITS, t, &got) == -1,
	    "the code of now+2 (%s) is refused", code);
	/* 1234567890 has the code 005924: leading zeros are part of it. */
	code_at((unsigned long long)now, code);
	is_str(code, "005924", "the code at 1234567890 is 005924");
	ok(check("005924", 6, t, &got) == 0 && got == now,
	    "005924 accepted at 1234567890");
	ok(check("5924", 4, t, &got) == -1, "5924 (zeros dropped) refused");
	ok(check("05924", 5, t, &got) == -1, "a 5-digit code refused");
	ok(check("0005924", 7, t, &got) == -1, "a 7-digit code refused");
	memcpy(longer, "0059240", 8);
	ok(check(longer, 7, t, &got) == -1,
	    "the right code with a digit after it refused");
	ok(check("005924\n", 7, t, &got) == -1,
	    "the right code with a newline refused");
	ok(check(" 05924", 6, t, &got) == -1, "a space refused");
	ok(check("+05924", 6, t, &got) == -1, "a sign refused");
	ok(check("00592a", 6, t, &got) == -1, "a letter refused");
	ok(check("00592\xd9", 6, t, &got) == -1, "a high byte refused");
	ok(check("00592\0", 6, t, &got) == -1, "a NUL refused");
	ok(check("", 0, t, &got) == -1, "an empty code refused");
	ok(totp_verify(key, 20, NULL, 6, t, &got) == -1, "no code refused");
	/* The right code under another key is wrong. */
	ok(totp_verify((const unsigned char *)"12345678901234567891", 20,
	    "005924", 6, t, &got) == -1, "the code of another key refused");
	ok(totp_verify(key, 20, "005924", 6, -1, &got) == -1,
	    "a negative time refused");

	/* A step boundary: 1234567890 (b) is the first second of step now;
	 * b - 1 is the last second of now-1. */
	b = 1234567890LL - 1234567890LL % TOTP_STEP; /* first second of now */
	code_at((unsigned long long)(now - 2), code);
	ok(check(code, 6, b + TOTP_STEP - 1, &got) == -1,
	    "at b+29, the last second of now, now-2 is still refused");
	code_at((unsigned long long)(now - 1), code);
	ok(check(code, 6, b - 1, &got) == 0 && got == now - 1,
	    "at b-1 the code of now-1 is the current one (step now-1)");
	code_at((unsigned long long)(now + 1), code);
	ok(check(code, 6, b - 1, &got) == -1,
	    "at b-1 the code of now+1 is two steps ahead: refused");
	code_at((unsigned long long)now, code);
	ok(check(code, 6, b - 1, &got) == 0 && got == now,
	    "at b-1 the code of now is one ahead: accepted, step now");
	code_at((unsigned long long)(now - 2), code);
	ok(check(code, 6, b - 1, &got) == 0 && got == now - 2,
	    "at b-1 the code of now-2 is one behind: accepted");
	ok(check(code, 6, b, &got) == -1,
	    "at b, one second later, the code of now-2 is refused");

	/* Steps 47079327 and 47079328 have the same code, 453154 (found by
	 * a python3 hmac search from 1234567890/30 up): the highest wins. */
	code_at(47079327ULL, code);
	is_str(code, "453154", "step 47079327 has the code 453154");
	code_at(47079328ULL, longer);
	is_str(longer, "453154", "so has step 47079328");
	ok(check("453154", 6, 47079327LL * 30, &got) == 0 && got == 47079328,
	    "with both in the window the higher step is answered (now)");
	ok(check("453154", 6, 47079328LL * 30, &got) == 0 && got == 47079328,
	    "(and as now-1 and now)");
	ok(check("453154", 6, 47079326LL * 30, &got) == 0 && got == 47079327,
	    "one step earlier only 47079327 is in the window");

	/* The first steps of 1970 (no step -1). */
	code_at(0, code);
	ok(check(code, 6, 0, &got) == 0 && got == 0, "step 0 at time 0");
	code_at(1, code);
	ok(check(code, 6, 0, &got) == 0 && got == 1, "step 1 at time 0");
}

int
main(void)
{
	test_base32_vectors();
	test_base32_secret();
	test_base32_bad();
	test_hotp_rfc4226();
	test_totp_rfc6238();
	test_verify();
	return done_testing();
}
