/*
 * main.c - secretd: command line, start-up, and the choice of command.
 *
 *   secretd [-c CONF] [-d] [serve]
 *   secretd [-c CONF] init --admin NAME --key PUBKEYFILE
 *   secretd [-c CONF] migrate | keygen | rekey
 *   secretd [-c CONF] setup --admin-key FILE [...]   (setup.c)
 *   secretd [-c CONF] doctor [...]                   (doctor.c)
 *   secretd [-c CONF] stats --key FILE [...]         (stats_cmd.c)
 *   secretd --help | --version
 *
 * Start-up turns core dumps off before any secret is loaded, refuses a
 * bad config or keyring with a message that says how to fix it, and
 * then hands over to the server loop.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "admin.h"
#include "exec.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "doctor.h"
#include "get_hint.h"
#include "log.h"
#include "request.h"
#include "server.h"
#include "reload.h"
#include "setup.h"
#include "stats.h"
#include "stats_cmd.h"
#include "store.h"
#include "xmalloc.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: secretd [-c CONF] [-d] [serve]\n"
	    "       secretd [-c CONF] init --admin NAME --key PUBKEYFILE\n"
	    "       secretd [-c CONF] migrate | keygen | rekey\n"
	    "       secretd [-c CONF] setup --admin-key FILE [--admin NAME] "
	    "[--database CONNINFO] ...\n"
	    "       secretd [-c CONF] doctor [--sshd-config FILE] "
	    "[--login-user NAME] [--user NAME]\n"
	    "       secretd [-c CONF] stats --key PUBKEYFILE [--prometheus | "
	    "--json] [--output FILE]\n"
	    "       secretd --help | --version\n"
	    "\n"
	    "  -c CONF     configuration file (default $SECRETD_CONF, else "
	    CONFIG_DEFAULT_PATH ")\n"
	    "  -d          detach and run in the background\n"
	    "  -h, --help  this help\n"
	    "  --version   print the version\n"
	    "\n"
	    "  serve     run the daemon (default)\n"
	    "  init      create the schema, the keyring and the first admin\n"
	    "  migrate   apply pending schema migrations\n"
	    "  keygen    add a new key to the keyring (it seals new values "
	    "after SIGHUP or a restart)\n"
	    "  rekey     re-seal every stored value under the newest key\n"
	    "  setup     make this host a working server: users, PostgreSQL "
	    "role and database,\n"
	    "            configuration, schema, keyring, first admin, sshd "
	    "(\"setup --help\")\n"
	    "  doctor    check a deployment, one line per check "
	    "(\"doctor --help\")\n"
	    "  stats     the running daemon's counters, through its socket "
	    "(\"stats --help\")\n"
	    "\n"
	    "See secretd(8).\n");
}

static void
harden(void)
{
	struct rlimit rl = { 0, 0 };

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &rl);
}

static int
serve(const struct config *cfg, const char *conf, int detach)
{
	struct server_ctx ctx = { .cfg = cfg, .conf_path = conf };
	struct keyring *kr;
	char err[512];
	int r;

	if (keyring_load(cfg->keyring, &kr, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return 1;
	}
	if (admin_startup_check(cfg, kr) != 0) {
		keyring_free(kr);
		return 1;
	}
	if (detach && daemon(0, 0) != 0) {
		log_error("cannot detach");
		keyring_free(kr);
		return 1;
	}
	ctx.kr = kr;
	ctx.pool = db_pool_new(cfg->database, cfg->pool_size, store_stmts,
	    ST__COUNT);
	/* always: the audit chain's head goes to syslog after each seal,
	 * whatever audit_syslog says (audit_seal.c) */
	openlog("secretd", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	exec_start(cfg->database, &ctx);
	stats_start();
	r = server_run(&ctx);
	exec_stop();
	get_hint_clear();
	db_pool_free(ctx.pool);
	keyring_free((struct keyring *)ctx.kr);
	reload_free_all();	/* the configurations SIGHUP loaded */
	log_info("stopped");
	return r == 0 ? 0 : 1;
}

static int
init_cmd(const struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "admin", required_argument, NULL, 'a' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *admin = NULL, *key = NULL;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'a')
			admin = optarg;
		else if (ch == 'k')
			key = optarg;
		else {
			usage(stderr);
			return 2;
		}
	}
	if (admin == NULL || key == NULL || optind != argc) {
		fprintf(stderr, "secretd: init needs --admin NAME and "
		    "--key PUBKEYFILE\n");
		return 2;
	}
	return admin_init(cfg, admin, key) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg;
	const char *conf = getenv("SECRETD_CONF"), *cmd = "serve";
	char err[512];
	int ch, detach = 0, r;

	harden();
	if (conf == NULL || *conf == '\0')
		conf = CONFIG_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "+c:dh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'h':
			usage(stdout);
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		case 'V':
			printf("secretd %s\n", SECRETD_VERSION);
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		default:
			/* getopt has named the option */
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0)
		cmd = argv[0];

	log_init("secretd", LOG_LEVEL_INFO);
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	xmalloc_json_wipe_init();
	/* setup writes the configuration; doctor reports a bad one */
	if (strcmp(cmd, "setup") == 0)
		return setup_main(conf, argc, argv);
	if (strcmp(cmd, "doctor") == 0)
		return doctor_main(conf, argc, argv);
	/* stats runs as a shell user, who may not read the configuration */
	if (strcmp(cmd, "stats") == 0)
		return stats_main(conf, argc, argv);
	config_defaults(&cfg);
	if (config_load(&cfg, conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "secretd: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	log_set_level(cfg.log_level);

	if (strcmp(cmd, "serve") == 0 && argc <= 1)
		r = serve(&cfg, conf, detach);
	else if (strcmp(cmd, "init") == 0)
		r = init_cmd(&cfg, argc, argv);
	else if (strcmp(cmd, "migrate") == 0 && argc == 1)
		r = admin_migrate(&cfg) == 0 ? 0 : 1;
	else if (strcmp(cmd, "keygen") == 0 && argc == 1)
		r = admin_keygen(&cfg) == 0 ? 0 : 1;
	else if (strcmp(cmd, "rekey") == 0 && argc == 1)
		r = admin_rekey(&cfg) == 0 ? 0 : 1;
	else {
		fprintf(stderr, "secretd: unknown command \"%s\"\n", cmd);
		usage(stderr);
		r = 2;
	}
	config_free(&cfg);
	return r;
}
