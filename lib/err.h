/*
 * err.h - the one error vocabulary of secretd, secret-shell and secret.
 *
 * Functions return 0 on success or a negative SD_E* value.  Each value maps
 * to exactly one protocol error code string (DESIGN §4) and to one client
 * exit status (DESIGN §5).  Never invent a code outside this table.
 */
#ifndef SD_ERR_H
#define SD_ERR_H

#define SD_MUST_CHECK __attribute__((warn_unused_result))

enum sd_err {
	SD_OK = 0,
	SD_EBADREQ = -1,	/* bad_request */
	SD_EUNAUTH = -2,	/* unauthenticated */
	SD_EPERM = -3,		/* permission_denied */
	SD_ENOTFOUND = -4,	/* not_found */
	SD_EEXISTS = -5,	/* exists */
	SD_ECONFLICT = -6,	/* conflict */
	SD_ETOOLARGE = -7,	/* too_large */
	SD_ERATE = -8,		/* rate_limited */
	SD_EUNAVAIL = -9,	/* unavailable */
	SD_EINTERNAL = -10,	/* internal */
};

/* Protocol code string ("bad_request", ...) for an SD_E* value; "internal"
 * for anything unknown.  Never NULL; static storage. */
const char *sd_err_code(int err);

/* SD_E* value for a protocol code string; SD_EINTERNAL if unknown. */
int sd_err_from_code(const char *code);

/* Client exit status (DESIGN §5) for an SD_E* value:
 * unauthenticated 3, permission_denied 4, not_found 5, conflict 6,
 * everything else 1; SD_OK is 0. */
int sd_err_exit_status(int err);

#endif
