/*
 * commands.h - the command table of `secret`: one row per command with
 * its handler, options, argument count, usage line and help text.
 * Adding a command is adding a row (and its handler) and its text in
 * client/help.txt (and a place for it in docs/secret.1.in).
 */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

#include <stdio.h>

#include "client/args.h"
#include "client/config.h"
#include "client/rpc.h"

/* What a handler works with: the options and the (lazy) session. */
struct cli_ctx {
	const struct cli_config	 *cfg;
	struct cli_rpc		 *rpc;
	const struct cli_command *cmd;	/* the row being run */
};

/* Returns the exit status; errors already reported. */
typedef int (*cli_handler)(struct cli_ctx *ctx, const struct cli_args *a);

/* Identifiers of command options (cli_optval.id). */
enum cli_opt {
	OPT_VERSION = 1,	/* get --version N */
	OPT_OUTPUT,		/* get -o FILE */
	OPT_CAS,		/* put --cas N */
	OPT_FILE,		/* put -f FILE */
	OPT_GENERATE,		/* put --generate LEN */
	OPT_CHARSET,		/* put --charset SET */
	OPT_RECURSIVE,		/* ls/rm -r */
	OPT_GLOBAL,		/* acl --global */
	OPT_KEY,		/* principal --key */
	OPT_GROUP,		/* principal create --group G */
	OPT_WAIT,		/* get/put --wait D */
};

#define CMD_NO_SERVER	0x01	/* runs without a server (help) */

struct cli_command {
	const char		 *name;		/* "get", "acl get" */
	cli_handler		  handler;
	const struct cli_optspec *opts;		/* CLI_OPT_END-terminated */
	int			  min_args;	/* positional arguments */
	int			  max_args;	/* -1: no limit */
	int			  flags;	/* CMD_* */
	const char		 *usage;	/* after "secret " */
	const char		 *summary;	/* one line for the list */
	const char		 *help;		/* the rest of --help */
};

/*
 * The row for "w1" or "w1 w2" (w2 NULL: one word).  When w1 alone names a
 * group of commands ("acl"), returns NULL and sets *is_group (if given).
 */
const struct cli_command *cli_command_find(const char *w1, const char *w2,
	    int *is_group);

/*
 * Report a usage error: "secret: usage: <message>" and the usage line of
 * cmd (or the general one when cmd is NULL) on stderr.  Returns 2.
 */
int	cli_usage(const struct cli_command *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The same for a group word ("acl"): lists the group's usage lines. */
int	cli_usage_group(const char *group, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* --help texts on f. */
void	cli_help_general(FILE *f);
void	cli_help_group(const char *group, FILE *f);
void	cli_help_command(const struct cli_command *cmd, FILE *f);

#endif
