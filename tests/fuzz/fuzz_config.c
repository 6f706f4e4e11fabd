/*
 * fuzz_config.c -- the BULWARK_CONFIG file: KEY=value lines, every number
 * range-checked, the trusted proxies, the mail settings.  The input is
 * the file (a memfd); the environment holds no BULWARK_ key, so the file
 * decides everything.
 *
 * Oracle: loaded whole or not at all: a refused file leaves cfg as it
 * was (the same numbers and the same proxies).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "fuzz.h"

static int fd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((fd = memfd_create("bulwark-fuzz-config", 0)) < 0)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	setenv("BULWARK_CONFIG", path, 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct config before;
	char err[512];

	/* No file names outside the input: a key file on /dev or /proc
	 * could block or be huge, and says nothing about the parser. */
	if (memmem(d, n, "/dev", 4) != NULL || memmem(d, n, "/proc", 5) !=
	    NULL || memmem(d, n, "/sys", 4) != NULL)
		return 0;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, d, n, 0) != (ssize_t)n)
		abort();
	memcpy(&before, &cfg, sizeof cfg);
	if (config_load(0, err, sizeof err) < 0) {
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) != NULL);
		FUZZ_ASSERT(memcmp(&before, &cfg, sizeof cfg) == 0);
	} else {
		FUZZ_ASSERT(cfg.max_body_bytes >= 1024 &&
		    cfg.lockout_threshold >= 1 && cfg.proxies.n <=
		    IP_MAX_PROXIES);
		(void)config_get("BULWARK_LOCKOUT_THRESHOLD");
	}
	return 0;
}
