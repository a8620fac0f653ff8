/*
 * acl.h - the permission model (DESIGN §3).
 *
 * Node permissions are inherited down the tree and additive; there is no
 * deny.  The bits below are stored in node_grant.perms and
 * global_grant.perms; the statements of store.c (walking the path with
 * sd_resolve) and sd_global_perms (sql/001_baseline.sql) compute a
 * principal's union over its groups.  A missing grant is no access.
 */
#ifndef SECRETD_ACL_H
#define SECRETD_ACL_H

#include <jansson.h>

#include "err.h"

enum node_perm {
	PERM_DISCOVER = 1 << 0,
	PERM_READ = 1 << 1,
	PERM_WRITE = 1 << 2,
	PERM_MANAGE = 1 << 3,
};
#define PERM_NODE_ALL	(PERM_DISCOVER | PERM_READ | PERM_WRITE | PERM_MANAGE)

enum global_perm {
	GPERM_GROUP_MANAGE = 1 << 0,
	GPERM_PRINCIPAL_MANAGE = 1 << 1,
	GPERM_ENROL = 1 << 2,
	GPERM_AUDIT = 1 << 3,
};
#define GPERM_ALL	(GPERM_GROUP_MANAGE | GPERM_PRINCIPAL_MANAGE | \
			 GPERM_ENROL | GPERM_AUDIT)

/*
 * Parse a JSON array of permission names of one kind (global or node)
 * into bits.  Unknown names, duplicates and non-strings are SD_EBADREQ
 * with *why set.
 */
int	acl_perms_from_json(const json_t *arr, int global, int *bits,
	    const char **why) SD_MUST_CHECK;

/* New JSON array of the names of the bits, in canonical order. */
json_t	*acl_perms_to_json(int bits, int global);

/* 1 if held contains every bit of needed. */
static inline int
acl_allows(int held, int needed)
{
	return needed != 0 && (held & needed) == needed;
}

#endif
