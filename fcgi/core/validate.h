/*
 * core/validate.h -- the contract's input rules for emails and passwords,
 * shared by the JSON body validator and the command line (user add).
 */
#ifndef CORE_VALIDATE_H
#define CORE_VALIDATE_H

#include <stddef.h>

#define EMAIL_MAX 254
#define PASSWORD_MIN 8
#define PASSWORD_MAX 128
#define LOGIN_PASSWORD_MAX 1024

/* Trims and lower-cases in[0..len) into out (outcap >= EMAIL_MAX + 1 for
 * any email to fit).  NULL when valid, else the message. */
const char *check_email(const char *in, size_t len, char *out, size_t outcap);
/* A password for signup, reset and change: 8..128 characters, not the
 * email (NULL: unknown), and at most 72 bytes under bcrypt.  pw must be
 * valid UTF-8.  NULL when valid, else the message. */
const char *check_new_password(const char *pw, size_t len, const char *email);

/* 1 when s is a UUID in the canonical 8-4-4-4-12 hex form. */
int uuid_valid(const char *s);

#endif
