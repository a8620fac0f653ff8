/*
 * ratelimit.h - failed-attempt limits per client address (enrolment).
 *
 * In memory: a restart forgets the counts, which is acceptable because a
 * token is 256 random bits; the limit is there to make guessing noisy
 * and slow, and every attempt is audited regardless.
 */
#ifndef SECRETD_RATELIMIT_H
#define SECRETD_RATELIMIT_H

#define RATELIMIT_FAILURES	10
#define RATELIMIT_WINDOW_S	600

/* 1 if addr has RATELIMIT_FAILURES failures within the window. */
int	ratelimit_blocked(const char *addr);
/* Count one failure for addr. */
void	ratelimit_fail(const char *addr);

#endif
