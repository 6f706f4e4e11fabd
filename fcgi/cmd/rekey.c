/*
 * cmd/rekey.c -- `bulwark rekey`: re-seals every stored TOTP secret (in
 * force or pending) under the current data key.
 *
 * Key rotation: put the new key first in BULWARK_DATA_KEY_FILE and keep
 * the old one after it, restart (both open, the new one seals), run
 * `bulwark rekey`, then drop the old key.  Each row is rewritten only if it
 * still holds what was read, so a concurrent enable or disable wins.  A
 * secret is open only on this process's stack, and wiped at once.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/seal.h"
#include "core/totp.h"
#include "db/db.h"

/* totp_rekey_list's columns. */
enum { REKEY_USER, REKEY_SECRET, REKEY_KID, REKEY_PENDING, REKEY_PENDING_KID };

#define SEALED_LEN (TOTP_SECRET_BYTES + SEAL_OVERHEAD)
#define REKEY_PASSES 5

/* Re-seals column col (hex, or NULL) of row i for user under the current
 * key: 1 with old and fresh filled, 0 when the column is NULL, -1 when it
 * cannot be opened (message printed). */
static int
reseal(PGresult *r, int i, int col, int kidcol, const char *user,
    unsigned char old[SEALED_LEN], unsigned char fresh[SEALED_LEN])
{
	unsigned char pt[TOTP_SECRET_BYTES];
	const struct seal_key *k;
	const char *hex;
	int rc = -1;

	if (PQgetisnull(r, i, col))
		return 0;
	hex = db_text(r, i, col);
	if ((k = config_data_key(db_text(r, i, kidcol))) == NULL) {
		fprintf(stderr, "bulwark: user %s: no data key with id %s is "
		    "configured (keep the old key after the new one)\n", user,
		    db_text(r, i, kidcol));
		return -1;
	}
	if (strlen(hex) == 2 * SEALED_LEN &&
	    hex_decode(hex, old, SEALED_LEN) == 0 &&
	    seal_decrypt(k, user, strlen(user), old, SEALED_LEN, pt,
	    sizeof pt) == (ssize_t)sizeof pt &&
	    seal_encrypt(&cfg.data_keys[0], user, strlen(user), pt, sizeof pt,
	    fresh, SEALED_LEN) == (ssize_t)SEALED_LEN)
		rc = 1;
	else
		fprintf(stderr, "bulwark: user %s: the stored secret does not "
		    "open\n", user);
	crypto_wipe(pt, sizeof pt);
	return rc;
}

int
cli_rekey(int argc, char **argv)
{
	unsigned char old[SEALED_LEN], fresh[SEALED_LEN];
	unsigned char oldp[SEALED_LEN], freshp[SEALED_LEN];
	struct arena a;
	PGresult *r, *x;
	const char *user;
	int i, n, s, p, done = 0, failed = 0, skipped, passes = 0, rc = 1;

	if (argc > 1) {
		if (cli_is_help(argv[1])) {
			printf("usage: bulwark rekey\nRe-seals every stored "
			    "two-factor secret under the first data key of "
			    "BULWARK_DATA_KEY(_FILE).\n");
			return 0;
		}
		fprintf(stderr, "usage: bulwark rekey\n");
		return 2;
	}
	if (cfg.n_data_keys == 0) {
		fprintf(stderr, "bulwark: no data key: set BULWARK_DATA_KEY or "
		    "BULWARK_DATA_KEY_FILE\n");
		return 1;
	}
	arena_init(&a, 1024 * 1024);
	/* A row changed meanwhile (an enable or disable won) is read again
	 * on the next pass, so exit 0 means nothing is left under old keys. */
again:
	if (db_exec(&a, STMT_totp_rekey_list, &r,
	    DB_TEXT(cfg.data_keys[0].kid)) != DB_OK) {
		fprintf(stderr, "bulwark: the database is not reachable\n");
		goto out;
	}
	n = PQntuples(r);
	skipped = 0;
	for (i = 0; i < n; i++) {
		user = db_text(r, i, REKEY_USER);
		s = reseal(r, i, REKEY_SECRET, REKEY_KID, user, old, fresh);
		p = reseal(r, i, REKEY_PENDING, REKEY_PENDING_KID, user, oldp,
		    freshp);
		if (s < 0 || p < 0) {
			failed++;
			continue;
		}
		if (db_exec(&a, STMT_totp_rekey_set, &x, DB_TEXT(user),
		    DB_BYTES_IF(s, old, SEALED_LEN),
		    DB_BYTES_IF(s, fresh, SEALED_LEN),
		    DB_BYTES_IF(p, oldp, SEALED_LEN),
		    DB_BYTES_IF(p, freshp, SEALED_LEN),
		    DB_TEXT(cfg.data_keys[0].kid)) != DB_OK) {
			fprintf(stderr, "bulwark: the database is not "
			    "reachable\n");
			goto out;
		}
		if (PQntuples(x) == 1)
			done++;
		else
			skipped++;
	}
	if (skipped > 0 && ++passes < REKEY_PASSES && failed == 0) {
		arena_reset(&a);
		goto again;
	}
	if (skipped > 0) {
		fprintf(stderr, "bulwark: %d secret%s changed while being "
		    "re-sealed: run bulwark rekey again\n", skipped,
		    skipped == 1 ? "" : "s");
		failed += skipped;
	}
	printf("re-sealed %d secret%s under key %s; %d failed\n", done,
	    done == 1 ? "" : "s", cfg.data_keys[0].kid, failed);
	rc = failed > 0 ? 1 : 0;
out:
	arena_free(&a);
	db_close();
	return rc;
}
