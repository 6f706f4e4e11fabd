/*
 * tests/fuzz/regress_main.c -- runs a driver's LLVMFuzzerTestOneInput over
 * files and directories (one level) named on the command line, without
 * clang: what make test runs over the seed corpus and the inputs that once
 * crashed (tests/fuzz/regress/<driver>/).  Exit 0 when every input ran;
 * a crash is the sanitizer's or abort()'s own exit.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
run_file(const char *path, size_t *count)
{
	FILE *f;
	uint8_t *buf = NULL;
	long n;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0)
		goto out;
	/* One byte more, so that an empty file is a valid pointer too. */
	if ((buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto out;
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	(*count)++;
	rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "%s: cannot read\n", path);
	free(buf);
	fclose(f);
	return rc;
}

int
main(int argc, char **argv)
{
	struct dirent *e;
	struct stat st;
	size_t count = 0;
	char path[4096];
	DIR *d;
	int i, bad = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			if (errno == ENOENT) /* no regress inputs yet */
				continue;
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			bad = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i], &count) < 0;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			bad = 1;
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[i],
			    e->d_name);
			bad |= run_file(path, &count) < 0;
		}
		closedir(d);
	}
	printf("%s: %zu inputs\n", argv[0], count);
	return bad;
}
