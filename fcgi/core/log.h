/*
 * core/log.h -- structured logs: one JSON object per line, one write(2)
 * each, to standard error or an O_APPEND file.
 *
 * Callers pass only what may be logged: never a password, token, session
 * id, secret or request body.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stddef.h>

struct log_field {
	const char *key;
	const char *str; /* used when kind == 0; NULL values are skipped */
	long long num;   /* kind 1: an integer; kind 2: thousandths */
	int kind;
};

#define LF_S(k, v) ((struct log_field){ (k), (v), 0, 0 })
#define LF_I(k, v) ((struct log_field){ (k), NULL, (long long)(v), 1 })
/* A number with three decimals, given in thousandths. */
#define LF_MILLI(k, v) ((struct log_field){ (k), NULL, (long long)(v), 2 })

/* Opens path (O_APPEND) or, for NULL or "", uses standard error. */
int log_open(const char *path);
void log_fields(const char *level, const char *event,
    const struct log_field *, size_t);
#define log_event(level, event, ...)                                         \
	do {                                                                 \
		const struct log_field lf_[] = { __VA_ARGS__ };              \
		log_fields((level), (event), lf_, sizeof lf_ / sizeof lf_[0]); \
	} while (0)
/* Plain message for operators: {"event":"message","message":...}. */
void log_msg(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends s as a JSON string literal (quotes included) to buf of size cap
 * at *len; invalid UTF-8 becomes U+FFFD; truncates to fit.  Never
 * overflows; always NUL-terminates. */
void json_escape_append(char *buf, size_t cap, size_t *len, const char *s);

#endif
