/*
 * fuzz_mail.c -- building a message's headers: the To address (from the
 * queue row), BULWARK_MAIL_FROM and BULWARK_PUBLIC_URL (from the
 * configuration), the kind and the date.
 *
 * Input: NUL-separated: To, From, the public URL, the kind; the first
 * eight bytes are also the date.
 * Oracle: no header injection: a rendered message has exactly its nine
 * header lines, each ending in CRLF, with no CR or LF inside a line,
 * then the blank line; To is the address as the email rules keep it.
 */
#include <time.h>

#include "core/config.h"
#include "mail/mail.h"
#include "fuzz.h"

static struct arena arena;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena_init(&arena, 1 << 20);
	cfg.reset_ttl = 3600;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const unsigned char nonce[32] = { 1, 2, 3 };
	struct mail_msg m;
	char *part[4], *msg, *p, *eol;
	const char *why;
	size_t len, lines = 0;
	long long date = 0;

	fuzz_split(&arena, d, n, part, 4);
	if (n >= 8)
		memcpy(&date, d, 8);
	memset(&m, 0, sizeof m);
	m.id = (long long)n;
	m.to = part[0];
	m.kind = part[3][0] == 'p' ? "password_changed" :
	    part[3][0] == 'x' ? part[3] : "reset";
	m.nonce = part[3][0] == 'n' ? NULL : nonce;
	m.date = n % 3 == 0 ? (time_t)date : (time_t)1790000000;
	cfg.mail_from = part[1];
	cfg.public_url = part[2];
	if (mail_render(&arena, &m, &msg, &len, &why) == MAIL_OK) {
		FUZZ_ASSERT(strlen(msg) == len);
		for (p = msg;; p = eol + 2) {
			eol = strstr(p, "\r\n");
			FUZZ_ASSERT(eol != NULL);
			FUZZ_ASSERT(memchr(p, '\n', (size_t)(eol - p)) == NULL &&
			    memchr(p, '\r', (size_t)(eol - p)) == NULL);
			if (eol == p)
				break;
			lines++;
		}
		FUZZ_ASSERT(lines == 9);
	} else
		FUZZ_ASSERT(msg == NULL && why != NULL);
	cfg.mail_from = NULL;
	cfg.public_url = NULL;
	arena_reset(&arena);
	return 0;
}
