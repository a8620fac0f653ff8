/*
 * cmd_fetch.h - the boot-time commands that take many secrets at once in
 * one SSH session: `secret fetch` (into a directory tree or an env
 * file), `secret exec` (into a command's environment) and
 * `secret template` (into a rendered file).  Each handler returns the
 * exit status (errors already reported).
 */
#ifndef CLI_CMD_FETCH_H
#define CLI_CMD_FETCH_H

#include "client/args.h"
#include "client/commands.h"

/* Option identifiers of these commands (cli_optval.id; 300..399). */
enum cli_fetch_opt {
	OPT_FETCH_DEST = 300,	/* fetch --dest DIR */
	OPT_FETCH_ENV_FILE,	/* fetch --env-file FILE */
	OPT_FETCH_MODE,		/* fetch/template --mode M */
	OPT_FETCH_OWNER,	/* fetch/template --owner U[:G] */
	OPT_FETCH_PRUNE,	/* fetch --prune */
	OPT_FETCH_WAIT,		/* fetch/exec/template --wait D */
	OPT_FETCH_ENV,		/* exec --env VAR=PATH */
	OPT_FETCH_PREFIX,	/* exec --prefix P */
	OPT_FETCH_ENV_PREFIX,	/* fetch/exec --env-prefix P */
	OPT_FETCH_WATCH,	/* fetch --watch */
	OPT_FETCH_ON_CHANGE,	/* fetch --watch --on-change CMD */
};

extern const struct cli_optspec cli_opts_fetch[];
extern const struct cli_optspec cli_opts_exec[];
extern const struct cli_optspec cli_opts_template[];

int	cli_fetch(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_exec(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_template(struct cli_ctx *ctx, const struct cli_args *a);

#endif
