/*
 * request.h - what a handler sees of one request and its session.
 *
 * A handler reads fields from r->req, checks the permission it needs,
 * does its work through r->db, and either fills r->resp and returns 0, or
 * returns an SD_E* code with a message in r->why.  It also records, for
 * the audit row, the path, version and value hash it acted on.  The
 * session loop (session.c) owns everything else: transactions, the audit
 * row, and the response line.
 */
#ifndef SECRETD_REQUEST_H
#define SECRETD_REQUEST_H

#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "path.h"
#include "pg_array.h"
#include "put_rows.h"
#include "sshkey.h"

/*
 * Shared by every connection; read-only once serving, but for kr and
 * cfg.  cfg is swapped whole by SIGHUP (reload.c): every read of
 * ctx->cfg is an atomic load, and a configuration, once published, is
 * never changed nor freed while the daemon serves, so a request may
 * keep the pointer it read.
 */
struct server_ctx {
	const struct config *_Atomic cfg;
	struct db_pool		*pool;
	const struct keyring	*kr;	/* swapped on SIGHUP: use ctx_keyring */
	const char		*conf_path;
};

/* The keyring to use for this request. */
static inline const struct keyring *
ctx_keyring(const struct server_ctx *ctx)
{
	return __atomic_load_n(&ctx->kr, __ATOMIC_ACQUIRE);
}

struct watcher;

struct session {
	char		 id[17];		/* random, hex */
	int64_t		 principal_id;		/* 0: none */
	char		 principal[65];
	char		 fingerprint[SSHKEY_FP_LEN + 1];
	struct sshkey_pub key;			/* the key sshd verified */
	int		 enrol_only;
	int		 revoked;		/* its key is gone: close */
	int		 counted;		/* in sesslimit.h's counts */
	char		 whybuf[160];		/* a refused hello's message */
	char		 client_addr[64];	/* "" when unknown */
	int		 client_port;		/* 0 when unknown */
	struct watcher	*watch;			/* secret.watch, or NULL */
};

/* One more audit row of a batch request (secret.get_many). */
struct audit_extra {
	struct sd_path		 path;
	long long		 version;	/* -1: none */
	int			 err;
	json_t			*detail;	/* owned, or NULL */
};

struct request {
	const struct server_ctx	*ctx;
	struct session		*sess;
	struct db		*db;
	const json_t		*req;
	json_t			*resp;		/* handler adds its fields */
	const char		*why;		/* error message, static */
	int			 refused;	/* an item was refused (a batch
						   that succeeds) */
	char			 whybuf[384];	/* or formatted here */

	/* for the audit row */
	struct sd_path		 path;
	int			 has_path;
	long long		 version;	/* -1: none */
	unsigned char		 value_hash[AUDIT_HASH_LEN];
	int			 has_hash;
	json_t			*detail;	/* extra audit fields or NULL */
	struct audit_extra	*extra;		/* one row per item of a batch */
	int			 n_extra;
	PGresult		*audit_res;	/* its INSERT's, once sent */
	int64_t			 audit_id;	/* row written in this txn */
	unsigned char		 audit_mac[AUDIT_HASH_LEN];
	char			*audit_mirror;	/* syslog line after commit */
	/* run alone, a read may commit its row of success with its
	 * statement (audit_exec_with_row): its action, and whether done */
	const char		*lone_action;
	int			 row_written;
	/* in a write batch: where its new versions go, for one statement
	 * (put_rows.h); NULL: a put sends its own */
	struct put_rows		*put_rows;
	/* ... and its audit row (audit.h), or NULL */
	struct audit_batch	*audit_batch;
};

/*
 * The first statement of a handler, named by its first half so that it
 * can run elsewhere: on the request's connection, or in a batch with
 * those of other requests.  A read's is its one statement, which the
 * audit writer batches (audit_submit_read); a put's locks the node it
 * changes, in the write batcher's transaction (write_batch.c).  A batch
 * runs one statement for all of its requests, batch_stmt: it takes each
 * parameter as an array, an element per request (deferred_read_arrays),
 * and returns a row per request, in that order.  finish, the handler's second
 * half, turns its row of the result into the answer (or an SD_E* code,
 * or DEFER_ALONE); the caller clears the result.
 */
struct deferred_read {
	int		 stmt;		/* alone */
	int		 batch_stmt;	/* in a batch: arrays, as above */
	int		 n;
	const char	*v[4];		/* parameters, into own[] */
	char		*own[4];
	long long	 arg;		/* for finish (get: the version asked) */
	int		(*finish)(struct request *r,
			    const struct deferred_read *rd,
			    const PGresult *res, int row);
};
/*
 * The parameters of the n reads rds (of one statement) as arrays: col
 * (rds[0]->n of them, pg_array_free()d by the caller) and v, which
 * points into them.
 */
void	deferred_read_arrays(const struct deferred_read *const *rds, int n,
	    struct pg_array *col, const char **v);
void	deferred_read_free(struct deferred_read *rd);

/* From finish: nothing was done; run the request again, alone. */
#define DEFER_ALONE	(-1)

/* Set a formatted error message; returns err for "return req_fail(...)". */
int	req_fail(struct request *r, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Read the "path" field into r->path (marks it for the audit row). */
int	req_path(struct request *r, const char *key) SD_MUST_CHECK;

/* Add an audit row for one item of a batch request (path is copied). */
void	req_audit_item(struct request *r, const struct sd_path *path,
	    long long version, int err);
/* The same with the row's detail (consumed: a new reference). */
void	req_audit_item_detail(struct request *r, const struct sd_path *path,
	    long long version, int err, json_t *detail);

/* The caller's principal id as a decimal string (static per thread). */
const char *req_principal_param(const struct request *r);

/*
 * The fingerprint of the key the session authenticated with: sent with
 * the principal id wherever SQL reads the caller's grants (WHO in
 * store.c), so that a removed key holds none.
 */
static inline const char *
req_key_param(const struct request *r)
{
	return r->sess->fingerprint;
}

#endif
