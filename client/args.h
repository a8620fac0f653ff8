/*
 * args.h - the command-line grammar of `secret`:
 *
 *   secret [GLOBAL-OPTION]... COMMAND [SUBCOMMAND] [OPTION|ARG]... [-- ARG...]
 *
 * Global options are accepted anywhere before "--"; a command's own
 * options only after its name, and they win over a global option of the
 * same spelling (so `get PATH --version 3` is the get option, while
 * `secret --version` prints the program version).  Long options take
 * their argument as "--opt ARG" or "--opt=ARG"; short ones as "-o ARG"
 * or "-oARG", and flag-only short options can be bundled ("-rq").  A lone
 * "-" is an argument.  No argument string is ever copied: the parsed
 * result points into argv.
 */
#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <jansson.h>

#include "client/config.h"

/* One option a command (or the global set) accepts. */
struct cli_optspec {
	const char	*lname;		/* "version" for --version, or NULL */
	char		 sname;		/* 'o' for -o, or 0 */
	int		 has_arg;	/* 1: takes an argument */
	int		 id;		/* handler's identifier (< 1000) */
};
#define CLI_OPT_END	{ NULL, 0, 0, 0 }

struct cli_optval {
	int		 id;
	const char	*arg;		/* NULL for flags */
};

/* A command's arguments after parsing: positional words and options. */
struct cli_args {
	int		  npos;
	char		**pos;
	int		  nopt;
	struct cli_optval *opt;		/* in command-line order */
};

struct cli_command;

struct cli_cmdline {
	const struct cli_command *cmd;	/* NULL: no (complete) command */
	const char	*group;		/* "acl" when only the group word came */
	int		 help;		/* -h/--help */
	int		 version;	/* --version (global) */
	struct cli_args	 args;
};

/*
 * Parse argv: global options into cfg, the rest into out.  Returns 0, or
 * CLI_EXIT_USAGE after reporting the usage error.  Positional counts are
 * not checked here (a --help must still work without them).
 */
int	cli_args_parse(int argc, char **argv, struct cli_config *cfg,
	    struct cli_cmdline *out);
void	cli_args_free(struct cli_args *a);

/* Number of times option id was given. */
int	cli_arg_count(const struct cli_args *a, int id);
/* The argument of the n-th (0-based) occurrence of id, or NULL. */
const char *cli_arg_nth(const struct cli_args *a, int id, int n);
/* The argument of the last occurrence of id (last one wins), or NULL. */
const char *cli_arg_last(const struct cli_args *a, int id);

/*
 * Parse a decimal integer in [min, max]: digits only, no sign, no spaces.
 * Returns 0 or -1.
 */
int	cli_parse_num(const char *s, long long min, long long max,
	    long long *out);

/*
 * A PATH argument ("a/b/c") as the JSON array the protocol wants.
 * Returns 0 with *out set, or an exit status after reporting bad_request.
 */
int	cli_arg_path(const char *s, json_t **out);

#endif
