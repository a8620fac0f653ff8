/*
 * cmd_admin.h - handlers of the identity and administration commands:
 * whoami, acl, group, principal.  Each returns the exit status (errors
 * already reported).
 */
#ifndef CLI_CMD_ADMIN_H
#define CLI_CMD_ADMIN_H

#include "client/commands.h"

int	cli_whoami(struct cli_ctx *ctx, const struct cli_args *a);

int	cli_acl_get(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_acl_set(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_acl_who(struct cli_ctx *ctx, const struct cli_args *a);

int	cli_group_create(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_group_delete(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_group_list(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_group_members(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_group_add(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_group_remove(struct cli_ctx *ctx, const struct cli_args *a);

int	cli_principal_create(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_principal_delete(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_principal_show(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_principal_list(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_principal_key_add(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_principal_key_remove(struct cli_ctx *ctx, const struct cli_args *a);

#endif
