/*
 * audit_row.h - one audit row: its columns, its canonical form and MAC,
 * and its syslog mirror.  Pure: no thread, no connection.
 *
 * AUDIT_COLUMNS is the one list of the row's columns, in canonical
 * order.  The row builder, the MAC, the INSERT (store.c, $1..$14 as
 * arrays, then the MAC as $15) and audit.verify's SELECT (column 0 the
 * id, then these, then the MAC) all follow it, so none of them can
 * disagree with another about which value sits where.
 *
 * A row never holds a value, a token or key material: values appear
 * only as a keyed hash (value_hash).
 */
#ifndef SECRETD_AUDIT_ROW_H
#define SECRETD_AUDIT_ROW_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "crypto.h"
#include "path.h"
#include "pg_array.h"

/*
 * X(enum, parameter number in audit_insert, column, array type of the
 * parameter, the INSERT's expression of unnest's column u.<column>,
 * verify's expression of the stored column)
 */
#define AUDIT_COLUMNS(X) \
	X(AC_AT, "1", "at", "bigint", \
	    "'epoch'::timestamptz + u.at * interval '1 microsecond'", \
	    "(extract(epoch FROM at) * 1000000)::bigint") \
	X(AC_PRINCIPAL, "2", "principal", "text", "u.principal", "principal") \
	X(AC_FINGERPRINT, "3", "fingerprint", "text", "u.fingerprint", \
	    "fingerprint") \
	X(AC_ACTION, "4", "action", "text", "u.action", "action") \
	X(AC_PATH, "5", "path", "text", "u.path::text[]", "path") \
	X(AC_VERSION, "6", "version", "integer", "u.version", "version") \
	X(AC_RESULT, "7", "result", "text", "u.result", "result") \
	X(AC_ERROR_CODE, "8", "error_code", "text", "u.error_code", \
	    "error_code") \
	X(AC_CLIENT_ADDR, "9", "client_addr", "text", "u.client_addr", \
	    "client_addr") \
	X(AC_CLIENT_PORT, "10", "client_port", "integer", "u.client_port", \
	    "client_port") \
	X(AC_SESSION_ID, "11", "session_id", "text", "u.session_id", \
	    "session_id") \
	X(AC_REQUEST_ID, "12", "request_id", "text", "u.request_id", \
	    "request_id") \
	X(AC_VALUE_HASH, "13", "value_hash", "bytea", "u.value_hash", \
	    "value_hash") \
	X(AC_DETAIL, "14", "detail", "text", "u.detail::json", "detail::text")

/* The MAC follows the canonical columns: its parameter and column. */
#define AUDIT_MAC_PARAM	"15"

#define AUDIT_COL_ENUM(e, n, c, t, ins, sel)	e,
enum audit_col {
	AUDIT_COLUMNS(AUDIT_COL_ENUM)
	AC_MAC,			/* not part of the canonical form */
	AUDIT_NCOLS
};
#undef AUDIT_COL_ENUM

/* SQL fragments from the list (string literals, for store.c). */
#define AUDIT_SQL_NAME(e, n, c, t, ins, sel)	c ", "
#define AUDIT_SQL_PARAM(e, n, c, t, ins, sel)	"$" n "::" t "[], "
#define AUDIT_SQL_INS(e, n, c, t, ins, sel)	ins ", "
#define AUDIT_SQL_SEL(e, n, c, t, ins, sel)	sel ", "
/* "INSERT INTO audit_log ...": the rows in the order sent (their
 * ordinality); from, if not "", names what to join them with, ending
 * in ", " (no row there: nothing inserted) */
#define AUDIT_INSERT_SQL_FROM(from) \
	"INSERT INTO audit_log (" AUDIT_COLUMNS(AUDIT_SQL_NAME) "mac) " \
	"SELECT " AUDIT_COLUMNS(AUDIT_SQL_INS) "u.mac " \
	"FROM " from "unnest(" AUDIT_COLUMNS(AUDIT_SQL_PARAM) \
	"$" AUDIT_MAC_PARAM "::bytea[]) WITH ORDINALITY " \
	"AS u(" AUDIT_COLUMNS(AUDIT_SQL_NAME) "mac, ord) ORDER BY u.ord "
#define AUDIT_INSERT_SQL	AUDIT_INSERT_SQL_FROM("")
/* id, the canonical columns, mac */
#define AUDIT_SELECT_COLUMNS \
	"id, " AUDIT_COLUMNS(AUDIT_SQL_SEL) "mac"

/* What a row records of one request (or of one item of a batch). */
struct audit_input {
	int64_t			 at_us;		/* microseconds since 1970 */
	const char		*principal;	/* NULL: none */
	const char		*fingerprint;	/* NULL: none */
	const char		*action;
	const struct sd_path	*path;		/* NULL: none */
	long long		 version;	/* -1: none */
	int			 err;		/* 0, or SD_E* */
	const char		*err_code;	/* NULL: sd_err_code(err) */
	const char		*client_addr;	/* NULL: unknown */
	int			 client_port;	/* 0: unknown */
	const char		*session_id;
	const json_t		*request_id;	/* NULL: none */
	const unsigned char	*value_hash;	/* AUDIT_HASH_LEN, or NULL */
	const json_t		*detail;	/* NULL: none */
	int			 mirror;	/* make the syslog line */
};

struct audit_row {
	char		*v[AUDIT_NCOLS];	/* text, or raw bytes for the
						   value hash and the MAC */
	unsigned char	 mac[AUDIT_HASH_LEN];
	char		*mirror;		/* syslog line, or NULL */
};

/* Build row (zeroed by the caller) from in, MACed with kr's audit key. */
void	audit_row_build(struct audit_row *row, const struct keyring *kr,
	    const struct audit_input *in);
void	audit_row_free(struct audit_row *row);
/* "ok", "denied" (SD_EPERM, SD_EUNAUTH) or "error". */
const char *audit_result(int err);

/*
 * Rows as the parameters of one audit insert (AUDIT_INSERT_SQL): each
 * column an array literal, an element per row.
 */
struct audit_cols {
	struct pg_array	 col[AUDIT_NCOLS];
	const char	*v[AUDIT_NCOLS];
	int		 n;
};
void	audit_cols_init(struct audit_cols *c);
void	audit_cols_add(struct audit_cols *c, const struct audit_row *row);
const char *const *audit_cols_params(struct audit_cols *c);
void	audit_cols_free(struct audit_cols *c);

/*
 * The id of the row with MAC mac in an insert's result (id, MAC in hex
 * per row, in the order sent): row i is looked at first, and the others
 * should the order ever differ.  0 if no row has it.
 */
int64_t	audit_result_id(const PGresult *res, int i, const unsigned char *mac);

/*
 * Canonical content, as MACed: each canonical column in AUDIT_COLUMNS
 * order as a 4-byte big-endian length and its bytes (0xffffffff for
 * NULL); the time as decimal microseconds, the path as its names (each
 * length + bytes), the value hash as its 32 raw bytes, the detail as
 * JSON text.
 */
struct audit_canon {
	unsigned char	*p;
	size_t		 len, cap;
};
void	audit_canon_field(struct audit_canon *c, const void *v, size_t n);
void	audit_canon_null(struct audit_canon *c);
void	audit_canon_path(struct audit_canon *c, const struct sd_path *p);
void	audit_canon_free(struct audit_canon *c);

/* The MAC of row i of res (AUDIT_SELECT_COLUMNS), as the database holds
 * it now. */
void	audit_row_mac(const struct keyring *kr, const PGresult *res, int i,
	    unsigned char *out);
/* 1 if column col of row i is the AUDIT_HASH_LEN bytes want. */
int	audit_bytea_eq(const PGresult *res, int i, int col,
	    const unsigned char *want);

/* Seal hash: MAC(prev || id || row mac). */
void	audit_seal_hash(const struct keyring *kr, const unsigned char *prev,
	    int64_t id, const unsigned char *mac, unsigned char *out);

#endif
