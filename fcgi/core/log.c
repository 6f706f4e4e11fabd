/*
 * core/log.c -- structured logs: one JSON object per line, one write(2) each.
 *
 * The file is opened O_APPEND so lines from many workers (and hosts sharing
 * a file system that honours it) never interleave.  Callers pass only what
 * may be logged: never a password, token, session id or body.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/utf8.h"

#define LOG_LINE_MAX 8192
#define LOG_VALUE_MAX 512  /* bytes of one value kept before truncation */

static int log_fd = 2;

int
log_open(const char *path)
{
	int fd;

	if (path == NULL || *path == '\0') {
		if (log_fd > 2)
			close(log_fd);
		log_fd = 2;
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (log_fd > 2)
		close(log_fd);
	log_fd = fd;
	return 0;
}

/* v in decimal, at least w digits, into out (24 bytes); returns the length.
 * (snprintf's format parsing was a tenth of a request's instructions.) */
static size_t
fmt_u(char *out, unsigned long long v, int w)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 || (int)n < w);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static void
put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len >= cap - 1)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

void
json_escape_append(char *buf, size_t cap, size_t *len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k, used, start = *len;
	char esc[JSON_UNIT_MAX];

	if (cap == 0)
		return;
	if (*len + 3 > cap) { /* not even "" fits: a lone '"' is not JSON */
		if (*len < cap)
			buf[*len] = '\0';
		return;
	}
	/* Room for the closing quote and "..." is kept back while copying. */
	put(buf, cap, len, "\"", 1);
	while (i < n) {
		if (*len + 12 >= cap || i >= LOG_VALUE_MAX) {
			put(buf, cap, len, "...", 3);
			break;
		}
		/* A run of printable ASCII needs no escape: one copy, with the
		 * same limits as byte by byte. */
		k = json_plain_len(p + i, (n < LOG_VALUE_MAX ? n : LOG_VALUE_MAX) -
		    i);
		if (k > cap - 13 - *len)
			k = cap - 13 - *len;
		if (k > 0) {
			put(buf, cap, len, (const char *)p + i, k);
			i += k;
			continue;
		}
		k = json_escape_unit(p + i, n - i, esc, &used);
		put(buf, cap, len, esc, k);
		i += used;
	}
	if (*len + 1 < cap)
		put(buf, cap, len, "\"", 1);
	else { /* no room at all: an empty string keeps the line valid */
		*len = start;
		buf[start] = '\0';
		put(buf, cap, len, "\"\"", 2);
	}
}

static void
write_line(const char *line, size_t len)
{
	ssize_t w;

	do
		w = write(log_fd, line, len);
	while (w < 0 && errno == EINTR);
	/* A short or failed write drops the line: a log must never block or
	 * kill a request. */
}

static size_t
line_start(char *buf, size_t cap, const char *level, const char *event)
{
	struct timeval tv;
	struct tm tm;
	size_t len = 0, t = 0;
	char ts[96];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	/* %04d-%02d-%02dT%02d:%02d:%02d.%03ldZ */
	t += fmt_u(ts + t, (unsigned long long)(tm.tm_year + 1900), 4);
	ts[t++] = '-';
	t += fmt_u(ts + t, (unsigned long long)(tm.tm_mon + 1), 2);
	ts[t++] = '-';
	t += fmt_u(ts + t, (unsigned long long)tm.tm_mday, 2);
	ts[t++] = 'T';
	t += fmt_u(ts + t, (unsigned long long)tm.tm_hour, 2);
	ts[t++] = ':';
	t += fmt_u(ts + t, (unsigned long long)tm.tm_min, 2);
	ts[t++] = ':';
	t += fmt_u(ts + t, (unsigned long long)tm.tm_sec, 2);
	ts[t++] = '.';
	t += fmt_u(ts + t, (unsigned long long)(tv.tv_usec / 1000), 3);
	ts[t++] = 'Z';
	put(buf, cap, &len, "{\"time\":\"", 9);
	put(buf, cap, &len, ts, t);
	put(buf, cap, &len, "\",\"level\":", 10);
	json_escape_append(buf, cap, &len, level);
	put(buf, cap, &len, ",\"event\":", 9);
	json_escape_append(buf, cap, &len, event);
	return len;
}

void
log_fields(const char *level, const char *event, const struct log_field *f,
    size_t n)
{
	static const char cut[] = ",\"truncated\":true";
	/* One field: a key and a value of at most LOG_VALUE_MAX bytes each,
	 * 6 output bytes per input byte at worst, quotes, "...", ',' ':'. */
	char buf[LOG_LINE_MAX], fld[2 * (LOG_VALUE_MAX * 6 + 8) + 40], num[32];
	/* Room kept back for cut, '}' and '\n'. */
	size_t lim = sizeof buf - (sizeof cut - 1) - 2, len, flen, i;
	int dropped = 0;

	len = line_start(buf, lim, level, event);
	for (i = 0; i < n; i++) {
		if (f[i].key == NULL || (f[i].kind == 0 && f[i].str == NULL))
			continue;
		flen = 0;
		put(fld, sizeof fld, &flen, ",", 1);
		json_escape_append(fld, sizeof fld, &flen, f[i].key);
		put(fld, sizeof fld, &flen, ":", 1);
		if (f[i].kind != 0) {
			unsigned long long u = f[i].num < 0 ?
			    -(unsigned long long)f[i].num :
			    (unsigned long long)f[i].num;
			size_t nl = 0;

			if (f[i].num < 0)
				num[nl++] = '-';
			if (f[i].kind == 1)
				nl += fmt_u(num + nl, u, 1);
			else { /* milli: %lld.%03lld */
				nl += fmt_u(num + nl, u / 1000, 1);
				num[nl++] = '.';
				nl += fmt_u(num + nl, u % 1000, 3);
			}
			put(fld, sizeof fld, &flen, num, nl);
		} else
			json_escape_append(fld, sizeof fld, &flen, f[i].str);
		/* A field goes in whole or not at all: a cut key or value
		 * would break the line. */
		if (len + flen >= lim) {
			dropped = 1;
			continue;
		}
		memcpy(buf + len, fld, flen);
		len += flen;
	}
	if (dropped) {
		memcpy(buf + len, cut, sizeof cut - 1);
		len += sizeof cut - 1;
	}
	buf[len++] = '}';
	buf[len++] = '\n';
	write_line(buf, len);
}

void
log_msg(const char *level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_event(level, "message", LF_S("message", msg),
	    LF_I("pid", getpid()));
}
