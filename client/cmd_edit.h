/*
 * cmd_edit.h - handler of `secret edit PATH`: the value in $VISUAL or
 * $EDITOR through a private file on a memory file system, wiped on every
 * way out, written back with check-and-set.  Returns the exit status
 * (errors already reported); dies of SIGINT, SIGTERM or SIGHUP received
 * while the editor runs, after cleaning up.
 */
#ifndef CLI_CMD_EDIT_H
#define CLI_CMD_EDIT_H

#include "client/commands.h"

int	cli_edit(struct cli_ctx *ctx, const struct cli_args *a);

#endif
