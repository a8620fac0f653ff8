/*
 * main.c - entry point of `secret`, the command-line client of secretd.
 *
 * Hardens the process (no core dumps, jansson memory wiped on free,
 * private umask), parses the command line, runs one command from the
 * table in commands.c over at most one SSH session, and exits with the
 * status of DESIGN §5.  It must never take a secret from argv.
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <libssh/libssh.h>
#include <sodium.h>

#include "err.h"
#include "log.h"
#include "xmalloc.h"

#include "client/args.h"
#include "client/commands.h"
#include "client/config.h"
#include "client/output.h"
#include "client/rpc.h"

/*
 * Values pass through this process: keep them out of core files.
 * Returns the umask we were given (`exec` restores it for its command).
 */
static mode_t
harden(void)
{
	struct rlimit rl = { 0, 0 };

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
	return umask(077);
}

static int
run(int argc, char **argv, struct cli_config *cfg, struct cli_cmdline *cl)
{
	const struct cli_command *cmd;
	struct cli_ctx ctx;
	char why[512];
	int st;

	if ((st = cli_args_parse(argc, argv, cfg, cl)) != 0)
		return st;
	if (cl->version) {
		printf("secret %s (libssh %s)\n", SECRET_VERSION,
		    ssh_version(0));
		return cli_flush_stdout();
	}
	if (cl->help) {
		if (cl->cmd != NULL)
			cli_help_command(cl->cmd, stdout);
		else if (cl->group != NULL)
			cli_help_group(cl->group, stdout);
		else
			cli_help_general(stdout);
		return cli_flush_stdout();
	}
	if ((cmd = cl->cmd) == NULL) {
		if (cl->group != NULL)
			return cli_usage_group(cl->group, "\"%s\" needs a "
			    "command", cl->group);
		return cli_usage(NULL, "no command given");
	}
	if (cl->args.npos < cmd->min_args)
		return cli_usage(cmd, "missing argument");
	if (cmd->max_args >= 0 && cl->args.npos > cmd->max_args)
		return cli_usage(cmd, "unexpected argument \"%s\"",
		    cl->args.pos[cmd->max_args]);
	if (!(cmd->flags & CMD_NO_SERVER) &&
	    cli_config_finish(cfg, 1, why, sizeof(why)) != 0)
		return cli_usage(cmd, "%s", why);

	ctx.cfg = cfg;
	ctx.cmd = cmd;
	ctx.rpc = cli_rpc_new(cfg);
	st = cmd->handler(&ctx, &cl->args);
	cli_rpc_free(ctx.rpc);
	return st;
}

int
main(int argc, char **argv)
{
	struct cli_config cfg;
	struct cli_cmdline cl;
	mode_t um;
	int st;

	um = harden();
	xmalloc_json_wipe_init();
	log_init("secret", LOG_LEVEL_ERROR);
	if (sodium_init() < 0)
		return cli_err(SD_EINTERNAL, "cannot initialise libsodium");
	if (ssh_init() != SSH_OK)
		return cli_err(SD_EINTERNAL, "cannot initialise libssh");

	cli_config_init(&cfg);
	cfg.umask_orig = um;
	st = run(argc, argv, &cfg, &cl);
	cli_args_free(&cl.args);
	cli_config_free(&cfg);
	ssh_finalize();
	return st;
}
