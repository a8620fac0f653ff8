/*
 * ratelimit.h - failed-enrolment limits per client address.
 *
 * Kept in the database (table enrol_attempt, sql/010), so that a restart
 * does not forget them and every secretd on the database counts
 * together.  A token is 256 random bits, so the limit is not what keeps
 * a guess from succeeding: it makes guessing noisy and slow, and every
 * attempt is audited regardless.
 */
#ifndef SECRETD_RATELIMIT_H
#define SECRETD_RATELIMIT_H

#include <stddef.h>

#include "request.h"

#define RATELIMIT_FAILURES	10	/* failures per bucket and window */
#define RATELIMIT_WINDOW_S	600	/* from the bucket's first failure */
#define RATELIMIT_BUCKET_MAX	64	/* with its NUL */

/*
 * The bucket of a client address: an IPv4 address as it is; an IPv6
 * address as its /64 ("2001:db8:1:2::/64"), since one host usually holds
 * a whole /64 and could otherwise start a fresh count per address; an
 * IPv4-mapped IPv6 address as its IPv4 address; anything else (""
 * when the address is unknown) as it is.
 */
void	ratelimit_bucket(const char *addr, char out[RATELIMIT_BUCKET_MAX]);

/* Has the request's client used up its failures?  0 with *blocked set,
 * or an SD_E* error. */
int	ratelimit_blocked(struct request *r, int *blocked);

/*
 * Count one failure for the request's client.  The count must outlive
 * the request's transaction, which rolls back when enrol is refused: so
 * this ends that transaction (call it only before the request changed
 * anything), counts in a statement of its own, and leaves a fresh
 * transaction pending for the caller to roll back.  0 or an SD_E* error.
 */
int	ratelimit_fail(struct request *r);

#endif
