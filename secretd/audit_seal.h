/*
 * audit_seal.h - the seal chain over committed audit rows.
 *
 * Tamper evidence without a global lock: each row carries a MAC over its
 * canonical content (audit_row.h), computed by the thread that built it;
 * the sealer thread then chains committed rows into audit_seal, off the
 * request path.  Whoever commits a row hands its id and MAC here.
 */
#ifndef SECRETD_AUDIT_SEAL_H
#define SECRETD_AUDIT_SEAL_H

#include <stdint.h>

#include "request.h"

/* Start / stop the sealer (a connection of its own); stopping seals
 * what is queued. */
void	audit_seal_start(const char *conninfo, const struct server_ctx *ctx);
void	audit_seal_stop(void);

/* A row committed: seal it soon.  O(1); never waits for the database. */
void	audit_seal_enqueue(int64_t id, const unsigned char *mac);

/* The last seal this daemon committed (seq 0: none yet). */
void	audit_seal_head(int64_t *seq, unsigned char hash[AUDIT_HASH_LEN]);

/* For server.stats: rows committed but not sealed, and the age of the
 * oldest of those. */
void	audit_seal_stats(int *unsealed, double *seal_lag_s);

/* The action of the row the sealer writes when it finds the chain's
 * tail cut off (its detail: known_seq, known_head, found_seq,
 * found_head). */
#define AUDIT_TRUNCATED	"audit.truncated"

/* Now, in microseconds since 1970: a row's time. */
int64_t	audit_now_us(void);

#endif
