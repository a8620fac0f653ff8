/*
 * actions.h - the action handlers, one file per family:
 *   act_session.c    whoami
 *   act_secret.c     secret.get, put, list, history, delete
 *   act_version.c    secret.undelete, rollback, destroy
 *   act_batch.c      secret.get_many
 *   act_acl.c        acl.*
 *   act_group.c      group.*
 *   act_principal.c  principal.*
 *   act_enrol.c      enrol.token_*, enrol
 *   act_audit.c      audit.*
 *   act_stats.c      server.stats
 *   act_watch.c      secret.watch
 * Each returns 0 having filled r->resp, or an SD_E* code with r->why.
 */
#ifndef SECRETD_ACTIONS_H
#define SECRETD_ACTIONS_H

#include "request.h"

int	act_whoami(struct request *r);

int	act_secret_get_plan(struct request *r, struct plan *pl);
int	act_secret_put(struct request *r);
int	act_secret_put_plan(struct request *r, struct plan *pl);
int	act_secret_list(struct request *r);
int	act_secret_history(struct request *r);
int	act_secret_delete(struct request *r);
int	act_secret_get_many(struct request *r);
int	act_secret_undelete(struct request *r);
int	act_secret_rollback(struct request *r);
int	act_secret_destroy(struct request *r);

int	act_acl_get(struct request *r);
int	act_acl_set(struct request *r);
int	act_acl_who(struct request *r);

int	act_enrol_token_create(struct request *r);
int	act_enrol_token_list(struct request *r);
int	act_enrol_token_revoke(struct request *r);
int	act_enrol(struct request *r);

int	act_audit_query(struct request *r);
int	act_audit_verify(struct request *r);
int	act_audit_hash(struct request *r);
int	act_audit_report(struct request *r);

int	act_server_stats(struct request *r);
int	act_secret_watch(struct request *r);

int	act_group_create(struct request *r);
int	act_group_delete(struct request *r);
int	act_group_list(struct request *r);
int	act_group_member_add(struct request *r);
int	act_group_member_remove(struct request *r);
int	act_group_member_list(struct request *r);

int	act_principal_create(struct request *r);
int	act_principal_delete(struct request *r);
int	act_principal_list(struct request *r);
int	act_principal_show(struct request *r);
int	act_principal_key_add(struct request *r);
int	act_principal_key_remove(struct request *r);

/* Shared helpers (act_common.c). */

/* 1 if s is a valid principal or group name. */
int	name_valid(const char *s);
/* Read a name field (principal/group rules); SD_EBADREQ if invalid. */
int	req_name(struct request *r, const char *key, const char **out)
	    SD_MUST_CHECK;
/* Node permissions of the caller at r->path, and the node id there (0
 * when no node exists at the path). */
int	req_node_perms(struct request *r, int *perms, long long *node_id)
	    SD_MUST_CHECK;
/* Global permissions of the caller. */
int	req_global_perms(struct request *r, int *perms) SD_MUST_CHECK;
/* Id of a group / principal by name: 0, SD_ENOTFOUND, or db error. */
int	group_id(struct request *r, const char *name, long long *id)
	    SD_MUST_CHECK;
int	principal_id(struct request *r, const char *name, long long *id)
	    SD_MUST_CHECK;
/* The groups named in a JSON array (NULL: none) as a bigint[] literal
 * of the ids of those that exist (*ids, caller frees) and how many
 * distinct names name no group (*missing); SD_EBADREQ for a bad array. */
int	req_group_ids(struct request *r, const json_t *groups, char **ids,
	    int *missing) SD_MUST_CHECK;
/* Lock a node row (writers to one secret queue up) and read its current
 * version and whether that version is a live value. */
int	req_lock_node(struct request *r, long long node, int *current,
	    int *live) SD_MUST_CHECK;
/* Open the value in row/col (key_id, nonce, ciphertext at col..col+2) of
 * node/version; *pt is the caller's to freezero(*pt, *plen + 1). */
int	req_open_value(struct request *r, long long node, int version,
	    const PGresult *res, int row, int col, unsigned char **pt,
	    size_t *plen) SD_MUST_CHECK;
/* Seal val as version of node and add it to the request's transaction
 * (r->txn: its one put_version statement, which prunes old versions, is
 * sent with the COMMIT); note the version and value hash for the audit
 * row.  At most one version per node per transaction. */
int	req_put_sealed(struct request *r, long long node, int version,
	    const unsigned char *val, size_t len) SD_MUST_CHECK;

#endif
