/*
 * routes/routes.h -- the route handlers, one file per URL group, and the
 * table that dispatches to them (table.c).
 *
 * A handler reads like the contract: call the defense, check the result,
 * return early.  Each answers exactly once.
 */
#ifndef ROUTES_ROUTES_H
#define ROUTES_ROUTES_H

#include "http/http.h"

/* Matches req against the table, runs the shared checks, then the
 * handler.  Always answers. */
void routes_dispatch(struct request *);

/* health.c */
void route_health(struct request *);
/* account.c: the user's own account */
void route_signup(struct request *);
void route_login(struct request *);
void route_logout(struct request *);
void route_me(struct request *);
/* token.c: the /token/ routes */
void route_token_login(struct request *);
void route_token_me(struct request *);
void route_token_refresh(struct request *);
void route_token_logout(struct request *);
/* password.c: reset and change */
void route_forgot_password(struct request *);
void route_reset_password(struct request *);
void route_me_password(struct request *);
/* twofa.c: /me/2fa/ */
void route_twofa_enable(struct request *);
void route_twofa_verify(struct request *);
void route_twofa_disable(struct request *);
/* verify.c: /verify-email */
void route_verify_email_link(struct request *);
void route_verify_email(struct request *);
void route_verify_resend(struct request *);
/* sessions.c: /me/sessions */
void route_sessions_list(struct request *);
void route_sessions_delete(struct request *);
/* admin.c: /users */
void route_users_list(struct request *);
void route_users_delete(struct request *);
void route_users_unlock(struct request *);

#endif
