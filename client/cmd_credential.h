/*
 * cmd_credential.h - `secret credential-server`: serves systemd's
 * LoadCredential=ID:/run/secretd/credentials.sock from secretd.
 */
#ifndef CLI_CMD_CREDENTIAL_H
#define CLI_CMD_CREDENTIAL_H

#include "client/args.h"
#include "client/commands.h"

/* Option identifiers (cli_optval.id; 400..409). */
enum cli_credential_opt {
	OPT_CRED_CONFIG = 400,	/* --config FILE */
};

extern const struct cli_optspec cli_opts_credential[];

int	cli_credential_server(struct cli_ctx *ctx, const struct cli_args *a);

#endif
