/*
 * cmd_audit.h - the auditor's commands of `secret`: audit query, verify,
 * hash and report (docs/protocol.md "audit.*"; all need the global
 * `audit` permission on the server).  Each handler returns the exit
 * status (errors already reported).
 *
 * The option tables live here, with identifiers of their own (100..199,
 * clear of enum cli_opt in commands.h), so that commands.c only carries
 * the table rows.
 */
#ifndef CLI_CMD_AUDIT_H
#define CLI_CMD_AUDIT_H

#include "client/commands.h"

enum cli_audit_opt {
	OPT_AUDIT_SINCE = 100,	/* --since 24h | RFC 3339 */
	OPT_AUDIT_UNTIL,	/* --until */
	OPT_AUDIT_PRINCIPAL,	/* --principal P */
	OPT_AUDIT_PATH,		/* --path PREFIX */
	OPT_AUDIT_ACTION,	/* --action A */
	OPT_AUDIT_RESULT,	/* --result ok|denied|error */
	OPT_AUDIT_LIMIT,	/* --limit N */
	OPT_AUDIT_ALL,		/* --all */
	OPT_AUDIT_STALE,	/* report --stale 90d */
	OPT_AUDIT_FORMAT,	/* report --format text|csv|json|html */
	OPT_AUDIT_OUTPUT,	/* report -o FILE */
	OPT_AUDIT_HEAD,		/* verify --head SEQ:HASH */
	OPT_AUDIT_ACK,		/* verify --acknowledge ID */
};

extern const struct cli_optspec cli_audit_query_opts[];
extern const struct cli_optspec cli_audit_report_opts[];
extern const struct cli_optspec cli_audit_verify_opts[];

int	cli_audit_query(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_audit_verify(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_audit_hash(struct cli_ctx *ctx, const struct cli_args *a);
int	cli_audit_report(struct cli_ctx *ctx, const struct cli_args *a);

#endif
