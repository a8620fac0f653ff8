/*
 * get_hint.h - the version a path's latest value had when last read.
 *
 * A lone secret.get that knows which version it will most likely read
 * can send its audit row with its statement (ST_GET_AUDITED: one round
 * trip, not two).  The hint is only a guess: the statement writes the
 * row only if the read returns that version, and a wrong or missing
 * guess costs nothing but the second round trip.  A fixed table of
 * paths and version numbers, no values; a path evicts whatever shared
 * its slot.
 */
#ifndef SECRETD_GET_HINT_H
#define SECRETD_GET_HINT_H

/* path as store_path_param gives it.  Returns the version, or 0. */
int	get_hint_lookup(const char *path);
void	get_hint_store(const char *path, int version);
/* Forget every hint (at exit). */
void	get_hint_clear(void);

#endif
