/*
 * put_rows.h - new secret versions, written by one statement.
 *
 * A put seals its value and adds the row here; put_rows_queue then sends
 * every row as one put_version statement (store.c), which inserts the
 * versions, moves each node's current version and prunes the versions
 * that fall out of the kept window.  A lone put sends a set of one; the
 * executor (exec.c) gathers its whole batch, which
 * PostgreSQL writes in about half the time of a statement per put
 * (docs/performance.md).  The rows must be for distinct nodes, each
 * locked by the caller's transaction.
 */
#ifndef SECRETD_PUT_ROWS_H
#define SECRETD_PUT_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "pg_array.h"

struct put_rows {
	struct pg_array	node, version, key_id, nonce, ciphertext, by;
	int		keep;		/* versions kept per secret */
	int		n;
};

void	put_rows_init(struct put_rows *pr, int keep);
void	put_rows_add(struct put_rows *pr, long long node, int version,
	    uint32_t key_id, const unsigned char *nonce, size_t nonce_len,
	    const unsigned char *ct, size_t ct_len, const char *by);
/* db_queue the statement (it travels with the next round trip). */
int	put_rows_queue(struct put_rows *pr, struct db *d) SD_MUST_CHECK;
void	put_rows_free(struct put_rows *pr);

#endif
