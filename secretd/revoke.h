/*
 * revoke.h - a session whose key was revoked ends on its next request.
 *
 * The grants a request uses are read, in the statement it runs anyway,
 * through the session's key (WHO in store.c): once the key is removed,
 * its principal deleted, or the key given to another principal, the
 * session holds no permission at all and its next request is refused.
 * Only then, off the fast path, these ask the database why, so that the
 * answer is unauthenticated and the session closes rather than a
 * permission_denied that would leave it open (docs/security.md).
 */
#ifndef SECRETD_REVOKE_H
#define SECRETD_REVOKE_H

#include "request.h"

/* 1 if the session's key still belongs to its principal, 0 if not, or a
 * negative SD_E* code. */
int	revoke_key_valid(struct db *db, const struct session *s);

/*
 * After a refused request of session s (not enrol-only): 1 if its key
 * was revoked (s->revoked is set: the caller answers unauthenticated
 * and closes), else 0, also when the database cannot say (the refusal
 * stands).
 */
int	revoke_check(const struct server_ctx *ctx, struct session *s);

/* The answer's message for a revoked session, in buf. */
const char *revoke_message(const struct session *s, char *buf, size_t len);

#endif
