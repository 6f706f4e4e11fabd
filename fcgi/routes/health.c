/*
 * routes/health.c -- GET /health: the database answers, or 503.
 */
#include "db/db.h"
#include "http/http.h"
#include "routes/routes.h"

void
route_health(struct request *req)
{
	PGresult *r;
	int ok;

	ok = db_exec(req->arena, STMT_health, &r) == DB_OK;
	if (!ok)
		response_header(req, "Retry-After", "5");
	respond_json(req, ok ? 200 : 503,
	    J_STR("status", ok ? "ok" : "unavailable"));
}
