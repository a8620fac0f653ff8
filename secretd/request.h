/*
 * request.h - what a handler sees of one request and its session.
 *
 * A handler reads fields from r->req, checks the permission it needs,
 * does its work through r->db (in r->txn, for a change), and either
 * fills r->resp and returns 0, or returns an SD_E* code with a message
 * in r->why.  It also records, for the audit row, the path, version and
 * value hash it acted on.  The executor (exec.h) owns everything else:
 * the connection, the transaction, the audit row; the session loop
 * (session.c) the response line.
 */
#ifndef SECRETD_REQUEST_H
#define SECRETD_REQUEST_H

#include <stdint.h>
#include <jansson.h>

#include "config.h"
#include "crypto.h"
#include "db.h"
#include "path.h"
#include "params.h"
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

struct txn;

struct request {
	const struct server_ctx	*ctx;
	struct session		*sess;
	struct db		*db;		/* while the handler runs */
	struct txn		*txn;		/* a change's transaction
						   (exec.h), while it runs */
	const json_t		*req;
	json_t			*resp;		/* handler adds its fields */
	const char		*why;		/* error message, static */
	int			 refused;	/* an item was refused (a batch
						   that succeeds) */
	char			 whybuf[384];	/* or formatted here */

	/* what the audit row records */
	struct sd_path		 path;
	int			 has_path;
	long long		 version;	/* -1: none */
	unsigned char		 value_hash[AUDIT_HASH_LEN];
	int			 has_hash;
	json_t			*detail;	/* extra audit fields or NULL */
	struct audit_extra	*extra;		/* one row per item of a batch */
	int			 n_extra;
};

/* A request as it arrives, for action name's handler. */
void	req_init(struct request *r, const struct server_ctx *ctx,
	    struct session *sess, const json_t *req);
/* Forget everything a handler did to r (its answer, its audit fields),
 * as if it had not run; req_init's fields stay. */
void	req_reset(struct request *r);
/* Free what r holds (its answer is the caller's: take it first). */
void	req_free(struct request *r);

/*
 * A plan: the one statement of a request that can run batched with
 * other requests' (exec.h), and the step that turns its row of the
 * result into the answer.  The handler's first half (struct action's
 * plan) fills it from the request; the executor runs it alone or in a
 * batch, the statement taking each parameter as an array with an
 * element per request, and returning a row per request, in order.
 *
 * finish returns 0 or an SD_E* code, as a handler does, or DEFER_ALONE:
 * nothing was done, and the request must run whole, by its handler.
 * A change's finish runs in the batch's transaction (r->db, r->txn).
 */
struct plan {
	int		 stmt;
	/* the same statement for a batch of one, its parameters scalars:
	 * planned once per connection, where an array statement is
	 * planned anew on every call (store.c, REQS_ONE) */
	int		 stmt_one;
	struct params	 p;		/* this request's elements */
	long long	 arg;		/* for finish */
	int		(*finish)(struct request *r, const struct plan *pl,
			    const PGresult *res, int row);
	/* a change: two with the same key never share a batch */
	const char	*lock_key;
	/*
	 * A read alone may send its audit row of success with its
	 * statement, when it can guess the version it will read (guess:
	 * that version, or 0): audited_stmt takes the row's columns
	 * ($1..$15 as arrays of one), then the plan's parameters (scalars,
	 * as stmt_one's), then the version and the permission needed, and
	 * returns stmt's row plus the row's id (NULL when the read was not
	 * as guessed).
	 */
	int		 audited_stmt;		/* 0: none */
	int		 audited_perm;
	int		(*guess)(const struct plan *pl);
};
void	plan_free(struct plan *pl);

/* From finish: nothing was done; run the request whole, alone.  Positive,
 * so that it is none of the SD_E* codes (all negative). */
#define DEFER_ALONE	1

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

/*
 * The caller, as statement parameters: its principal id, and the
 * fingerprint of the key the session authenticated with, sent with the
 * id wherever SQL reads the caller's grants (WHO in store.c), so that a
 * removed key holds none.
 */
void	params_principal(struct params *p, const struct request *r);
void	params_key(struct params *p, const struct request *r);

#endif
