/*
 * cmd_enrol.h - enrolment: `secret enrol-token create|list|revoke` (an
 * operator with the enrol permission makes tokens) and `secret enrol`
 * (a new host turns a token into a principal for its SSH key).  Each
 * handler returns the exit status (errors already reported).
 */
#ifndef CLI_CMD_ENROL_H
#define CLI_CMD_ENROL_H

#include "client/args.h"
#include "client/commands.h"

/* Option identifiers of these commands (cli_optval.id; 200..299). */
enum cli_enrol_opt {
	OPT_ENROL_NAME_PATTERN = 200,	/* enrol-token create --name-pattern */
	OPT_ENROL_GROUP,		/* enrol-token create --group G */
	OPT_ENROL_TTL,			/* enrol-token create --ttl D */
	OPT_ENROL_USES,			/* enrol-token create --uses N */
	OPT_ENROL_ALLOW_REKEY,		/* enrol-token create --allow-rekey */
	OPT_ENROL_CIDR,			/* enrol-token create --cidr C */
	OPT_ENROL_NAME,			/* enrol --name NAME */
	OPT_ENROL_TOKEN_FILE,		/* enrol --token-file F */
	OPT_ENROL_WAIT,			/* enrol --wait D */
};

extern const struct cli_optspec cli_opts_enrol_token_create[];
extern const struct cli_optspec cli_opts_enrol[];

int	cli_enrol_token_create(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_enrol_token_list(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_enrol_token_revoke(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_enrol(struct cli_ctx *ctx, const struct cli_args *a);

#endif
