/*
 * audit.h - audit rows.  One row per audited request, written in the
 * request's own transaction when it succeeds (so the action and its row
 * commit together or not at all), and on its own after a failure.
 * A row never holds a value, a token or key material: values appear only
 * as a keyed hash.
 */
#ifndef SECRETD_AUDIT_H
#define SECRETD_AUDIT_H

#include "request.h"

/*
 * Insert the audit row for request r running action with outcome err
 * (0 ok, SD_EPERM/SD_EUNAUTH "denied", anything else "error").  Uses
 * r->db.  Returns 0 or the database error.
 */
int	audit_write(struct request *r, const char *action, int err)
	    SD_MUST_CHECK;

#endif
