/*
 * dispatch.h - the table of actions: one row per action with its handler,
 * the global permission it needs before the handler runs, and whether it
 * runs in a transaction and is audited.  Adding an action is adding a row.
 */
#ifndef SECRETD_DISPATCH_H
#define SECRETD_DISPATCH_H

#include "request.h"

enum action_flags {
	A_AUDIT = 1 << 0,	/* write an audit row (ok, denied or error) */
	A_TXN = 1 << 1,		/* run the handler inside BEGIN/COMMIT */
	A_ENROL_OK = 1 << 2,	/* allowed in an enrol-only session */
};

struct action {
	const char	*name;
	/* the whole request, on a connection (in a transaction for A_TXN);
	 * NULL: its plan, run there as a batch of one */
	int		(*handler)(struct request *r);
	int		 gperm;		/* global permission needed, or 0 */
	unsigned	 flags;
	/* its plan, whose statement may run in a batch with others'
	 * (struct plan, exec.h), or NULL */
	int		(*plan)(struct request *r, struct plan *pl);
};

/* The row for name, or NULL. */
const struct action *dispatch_find(const char *name);

/* A row's index in the table (its slot in stats.h's counters), and the
 * name of the row at an index (NULL past the end). */
int	dispatch_slot(const struct action *a);
const char *dispatch_name(int slot);

#endif
