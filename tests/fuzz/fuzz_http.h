/*
 * tests/fuzz/fuzz_http.h -- a FastCGI request without a socket, for the
 * drivers of http/: envp from the input, stdin from the input, stdout into
 * a buffer that is emptied whenever it fills (FCGX_PutStr calls
 * emptyBuffProc), so respond() runs all the way.
 */
#ifndef FUZZ_HTTP_H
#define FUZZ_HTTP_H

#include <fcgiapp.h>

#include "core/config.h"
#include "core/log.h"
#include "http/http.h"
#include "fuzz.h"

static unsigned char fuzz_outbuf[4096];
static size_t fuzz_out_total;

static void
fuzz_empty(FCGX_Stream *s, int doClose)
{
	(void)doClose;
	fuzz_out_total += (size_t)(s->wrNext - fuzz_outbuf);
	s->wrNext = fuzz_outbuf;
}

static void
fuzz_fill(FCGX_Stream *s)
{
	s->isClosed = 1; /* the input has no more */
}

/* fr with the given environment, stdin in[0..n) and a fresh stdout. */
static inline void
fuzz_fcgx(FCGX_Request *fr, FCGX_Stream *in, FCGX_Stream *out, char **envp,
    const void *body, size_t n)
{
	memset(fr, 0, sizeof *fr);
	memset(in, 0, sizeof *in);
	memset(out, 0, sizeof *out);
	in->rdNext = in->stopUnget = (unsigned char *)(uintptr_t)body;
	in->stop = in->rdNext + n;
	in->wrNext = in->stop;
	in->isReader = 1;
	in->fillBuffProc = fuzz_fill;
	out->wrNext = fuzz_outbuf;
	out->stop = fuzz_outbuf + sizeof fuzz_outbuf;
	out->rdNext = out->stop;
	out->emptyBuffProc = fuzz_empty;
	fr->in = in;
	fr->out = out;
	fr->envp = envp;
	fr->ipcFd = -1;
}

/* What the worker's configuration would hold: defaults, trusted proxies,
 * a key ring.  The log goes to /dev/null. */
static inline void
fuzz_http_config(void)
{
	char err[256];

	if (config_load(0, err, sizeof err) < 0) {
		fprintf(stderr, "config_load: %s\n", err);
		abort();
	}
	if (ip_list_parse("10.0.0.0/8, 192.168.0.0/16, ::1, fd00::/8",
	    &cfg.proxies, err, sizeof err) < 0)
		abort();
	log_open("/dev/null");
}

#endif
