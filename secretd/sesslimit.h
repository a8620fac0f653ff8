/*
 * sesslimit.h - how many sessions of each kind are open, so that no kind
 * of client can take the others' places.
 *
 * Known principals share max_connections sessions, and none may hold
 * more than max_sessions_per_principal of them; enrol-only sessions
 * (unknown keys, with enrol_unknown_keys = yes) are counted apart, up to
 * max_enrol_sessions, so that any number of unknown keys can never take
 * a known principal's place.  server.c bounds the connections it
 * accepts to the sum (plus those still on their hello line).
 */
#ifndef SECRETD_SESSLIMIT_H
#define SECRETD_SESSLIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * Count one more session of principal pid (0: enrol-only).  0, or an
 * SD_E* code (SD_EUNAVAIL: the daemon is full; SD_ERATE: this principal,
 * or enrol-only sessions, hold all they may) with a message in why.
 */
int	sesslimit_begin(const struct config *cfg, int64_t pid,
	    char *why, size_t whylen);
/* The end of a session counted by sesslimit_begin. */
void	sesslimit_end(int64_t pid);
/* The sessions open now: of known principals, and enrol-only. */
void	sesslimit_counts(int *known, int *enrol);

#endif
