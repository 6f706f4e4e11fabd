/*
 * http/router.c -- matching a request against a route table: the route,
 * or 404 for an unknown path and 405 (with Allow) for a known path asked
 * with another method.  What a route's flags mean is the table's owner's
 * business (routes/table.c).
 */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "http/http.h"

#define PARAM_MAX 128

/* Matches path against pattern; fills req->param on success. */
static int
match(struct request *req, const char *pattern, const char *path)
{
	const char *p = pattern, *s = path, *seg;
	size_t n;

	req->nparam = 0;
	while (*p != '\0' && *s != '\0') {
		if (*p == ':') {
			while (*p != '\0' && *p != '/')
				p++;
			seg = s;
			while (*s != '\0' && *s != '/')
				s++;
			n = (size_t)(s - seg);
			if (n == 0 || n > PARAM_MAX ||
			    req->nparam == MAX_ROUTE_PARAMS)
				return 0;
			if ((req->param[req->nparam++] =
			    arena_strndup(req->arena, seg, n)) == NULL)
				return 0;
			continue;
		}
		if (*p++ != *s++)
			return 0;
	}
	return *p == '\0' && *s == '\0';
}

int
router_methods(struct request *req, const struct route *table, size_t n,
    char *allow, size_t cap)
{
	size_t i, len = 0;
	int path_known = 0;

	if (cap == 0)
		return 0;
	allow[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!match(req, table[i].pattern, req->path))
			continue;
		path_known = 1;
		if (strstr(allow, table[i].method) == NULL &&
		    len + strlen(table[i].method) + 3 < cap) {
			len += (size_t)snprintf(allow + len, cap - len,
			    "%s%s", len ? ", " : "", table[i].method);
		}
	}
	return path_known;
}

const struct route *
router_match(struct request *req, const struct route *table, size_t n)
{
	char allow[128];
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].method, req->method) == 0 &&
		    match(req, table[i].pattern, req->path))
			return &table[i];
	if (router_methods(req, table, n, allow, sizeof allow)) {
		response_header(req, "Allow", allow);
		respond_error(req, 405, "Method not allowed");
	} else
		respond_error(req, 404, "Not found");
	return NULL;
}
