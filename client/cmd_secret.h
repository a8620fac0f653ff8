/*
 * cmd_secret.h - handlers of the secret commands: get, put, ls, history,
 * rm, undelete, rollback, destroy (edit: cmd_edit.h).  Each returns the exit status (errors already reported).
 */
#ifndef CLI_CMD_SECRET_H
#define CLI_CMD_SECRET_H

#include "client/commands.h"

int	cli_get(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_put(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_ls(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_history(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_rm(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_undelete(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_rollback(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_destroy(struct cli_ctx *ctx, const struct cli_args *a);

/* The raw response with --json, else "version N" on a TTY; takes resp. */
int	cli_print_version(struct cli_ctx *ctx, json_t *resp);

#endif
