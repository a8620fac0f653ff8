/*
 * quota.h - per-principal budgets of costly or abusable events, in
 * memory: denied paths of secret.get_many (each would otherwise be work
 * and a trace for nothing) and audit.hash calls (each tests one guess
 * of a value against the trail).
 *
 * Counts live in this process only: a restart or another secretd on the
 * same database starts from zero.  That is acceptable here because the
 * budgets bound the rate of abuse, not its total, and every call and
 * every denial is in the audit trail regardless.
 */
#ifndef SECRETD_QUOTA_H
#define SECRETD_QUOTA_H

#include <stdint.h>

enum quota_kind {
	QUOTA_DENIALS,		/* get_many paths refused */
	QUOTA_AUDIT_HASH,	/* audit.hash calls */
	QUOTA__COUNT
};

#define QUOTA_WINDOW_S		600	/* a budget is per 10 minutes */
#define QUOTA_DENIALS_MAX	1000
#define QUOTA_AUDIT_HASH_MAX	30

/* 1 if principal has spent its budget of kind in the current window. */
int	quota_exhausted(enum quota_kind kind, int64_t principal);
/* How many more events of kind principal may have in this window. */
long	quota_left(enum quota_kind kind, int64_t principal);
/* Count n events of kind for principal. */
void	quota_add(enum quota_kind kind, int64_t principal, long n);

#endif
