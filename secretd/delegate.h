/*
 * delegate.h - the delegation rule (DESIGN §3, docs/security.md
 * "Delegation is monotone"): no action by a caller C may leave any
 * principal (or any key) holding a permission, global or a node
 * permission at a path, that it did not hold before, unless C itself
 * holds that permission (globally, or at that path).
 *
 * Every action that can give someone a permission asks here first:
 *
 *   acl.set (node)        delegate_node_grant: the bits newly granted
 *   acl.set (global)      delegate_global_grant: the bits changed
 *   group.member_add      delegate_groups: everything the group holds
 *   principal.create      delegate_groups: everything its groups hold
 *   principal.key_add     delegate_principal: everything it holds
 *   enrol.token_create    delegate_token_create, then delegate_groups
 *   enrol                 delegate_token_use: the creator's authority,
 *                         now; delegate_rekey_target for a takeover
 *
 * The others only take permissions away (group.delete,
 * group.member_remove, principal.delete, principal.key_remove,
 * enrol.token_revoke, and removing bits with acl.set) or give none
 * (group.create, principal.create without groups): a removal cannot
 * make anyone hold more, because grants are positive and there is no
 * deny.
 *
 * Each returns 0 or SD_EPERM with r->why naming the permission that is
 * missing and where (and the audit row's detail "delegation" saying
 * the same), or a database error.  Group ids travel as bigint[]
 * literals ("{3,7}").
 */
#ifndef SECRETD_DELEGATE_H
#define SECRETD_DELEGATE_H

#include "request.h"

/* The caller may make a principal a member of every group in gids. */
int	delegate_groups(struct request *r, const char *gids) SD_MUST_CHECK;

/* The caller may act as principal pid (name): it holds all it holds. */
int	delegate_principal(struct request *r, long long pid,
	    const char *name) SD_MUST_CHECK;

/*
 * acl.set on the node at r->path: the caller holds held there (manage
 * already checked); group had old there and gets want.  The bits newly
 * granted must be among held.
 */
int	delegate_node_grant(struct request *r, int held, int old, int want,
	    const char *group) SD_MUST_CHECK;

/*
 * acl.set global: the caller holds held globally; the group had old and
 * gets want.  Every bit changed, granted or taken away, must be among
 * held (and held must not be empty).  Called first with old = want,
 * before the group is looked up (so that a caller with no global
 * permission gets the same answer whether the group exists or not),
 * then with the group's old bits.
 */
int	delegate_global_grant(struct request *r, int held, int old, int want)
	    SD_MUST_CHECK;

/* enrol.token_create: a token with allow_rekey needs a name pattern
 * that names something (SD_EBADREQ otherwise). */
int	delegate_token_create(struct request *r, int allow_rekey,
	    const char *pattern) SD_MUST_CHECK;

/*
 * enrol: a token carries its creator's authority, checked again at use
 * against what the creator (by name) holds now: it must still exist and
 * hold every permission of the token's groups gids.
 */
int	delegate_token_use(struct request *r, const char *creator,
	    const char *gids) SD_MUST_CHECK;

/*
 * enrol with allow_rekey over existing principal pid (name): it may be
 * taken over only if it holds nothing beyond what the token gives: no
 * global permission, and no group outside gids.
 */
int	delegate_rekey_target(struct request *r, long long pid,
	    const char *name, const char *gids) SD_MUST_CHECK;

#endif
