/*
 * fuzz_ip.c -- BULWARK_TRUSTED_PROXIES (addresses and CIDRs) and the
 * client address from REMOTE_ADDR and X-Forwarded-For.
 *
 * Input: NUL-separated: the proxy list, REMOTE_ADDR, X-Forwarded-For.
 * Oracles: a list that fails leaves the old one untouched; the answer is
 * a NUL-terminated string within IP_TEXT_MAX, "unknown" or an address
 * that parses again; ip_limit_key of it fits too.
 */
#include <arpa/inet.h>
#include <string.h>

#include "core/ip.h"
#include "fuzz.h"

static struct arena arena;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena_init(&arena, 1 << 20);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct ip_list list, before;
	char *part[3], out[IP_TEXT_MAX], key[IP_TEXT_MAX], err[256];
	unsigned char bin[16];
	const char *ip;

	fuzz_split(&arena, d, n, part, 3);
	memcpy(&before, &list, sizeof list);
	if (ip_list_parse(part[0], &list, err, sizeof err) < 0)
		FUZZ_ASSERT(memcmp(&before, &list, sizeof list) == 0);
	else
		FUZZ_ASSERT(list.n <= IP_MAX_PROXIES);
	ip = ip_client(n > 0 && d[0] == 'N' ? NULL : part[1],
	    n > 1 && d[1] == 'N' ? NULL : part[2], &list, out);
	FUZZ_ASSERT(ip == out && memchr(out, '\0', IP_TEXT_MAX) != NULL);
	FUZZ_ASSERT(strcmp(ip, "unknown") == 0 ||
	    inet_pton(AF_INET, ip, bin) == 1 ||
	    inet_pton(AF_INET6, ip, bin) == 1);
	ip_limit_key(ip, key);
	FUZZ_ASSERT(memchr(key, '\0', IP_TEXT_MAX) != NULL);
	arena_reset(&arena);
	return 0;
}
