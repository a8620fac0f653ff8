/*
 * main.c - secret-shell: the sshd forced command in front of secretd.
 *
 *	secret-shell [-S SOCKET]                          session (forced command)
 *	secret-shell [-S SOCKET] authorized-keys USER TYPE BASE64
 *	secret-shell unavailable              outage session (forced command)
 *	secret-shell --version
 *
 * It runs as the unprivileged login user, one process per SSH session.
 * It holds no key and no database credential and decides no access: it
 * frames and bounds what the client sends, injects the hello carrying the
 * identity sshd verified, and translates the human command form.  It must
 * never run a shell, never trust an identity the client states, and never
 * log a value or a token.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "authkeys.h"
#include "conn.h"
#include "human.h"
#include "log.h"
#include "outage.h"
#include "session.h"
#include "shellerr.h"
#include "xmalloc.h"

static void
usage(void)
{
	fprintf(stderr, "usage: secret-shell [-S SOCKET]\n"
	    "       secret-shell [-S SOCKET] authorized-keys USER TYPE "
	    "BASE64\n"
	    "       secret-shell unavailable\n");
	exit(SHELL_EXIT_USAGE);
}

/* No core files, no ptrace by our own uid, no SIGPIPE deaths. */
static void
harden(void)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE): %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	umask(077);
}

int
main(int argc, char **argv)
{
	struct shell_error e;
	struct session s;
	const char *sockopt = NULL, *socket_path;
	int ch, status;

	log_init("secret-shell", LOG_LEVEL_WARN);
	harden();
	if (sodium_init() == -1)
		fatal("sodium_init failed");
	xmalloc_json_wipe_init();

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("secret-shell %s\n", SECRETD_VERSION);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	while ((ch = getopt(argc, argv, "+S:")) != -1) {
		switch (ch) {
		case 'S':
			sockopt = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	socket_path = conn_socket_path(sockopt);

	if (argc == 4 && strcmp(argv[0], "authorized-keys") == 0)
		return authkeys_main(socket_path, argv[1], argv[2], argv[3]);
	/* Only sshd's forced command for a key that could not be looked
	 * up says this (authkeys.c); nothing the client sends can. */
	if (argc == 1 && strcmp(argv[0], OUTAGE_ARG) == 0)
		return outage_main(getenv("SSH_ORIGINAL_COMMAND"));
	if (argc != 0)
		usage();

	memset(&e, 0, sizeof(e));
	session_init(&s, socket_path);
	status = human_main(&s, getenv("SSH_ORIGINAL_COMMAND"), &e);
	if (status != 0)
		shell_error_print(&e);
	session_free(&s);
	return status;
}
