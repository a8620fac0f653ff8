/*
 * commands.c - the command table of `secret` and the help texts built
 * from it.  One row per command (Redis redisCommandTable style); the
 * handlers live in cmd_secret.c and cmd_admin.c.
 *
 * Help goes to stdout (it was asked for); usage errors to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client/cmd_admin.h"
#include "client/cmd_secret.h"
#include "client/commands.h"
#include "client/output.h"

static int cli_help(struct cli_ctx *ctx, const struct cli_args *a);

static const struct cli_optspec opts_none[] = { CLI_OPT_END };

static const struct cli_optspec opts_get[] = {
	{ "version",	0,   1, OPT_VERSION },
	{ "output",	'o', 1, OPT_OUTPUT },
	CLI_OPT_END
};

static const struct cli_optspec opts_put[] = {
	{ "cas",	0,   1, OPT_CAS },
	{ "file",	'f', 1, OPT_FILE },
	{ "generate",	0,   1, OPT_GENERATE },
	{ "charset",	0,   1, OPT_CHARSET },
	CLI_OPT_END
};

static const struct cli_optspec opts_recursive[] = {
	{ "recursive",	'r', 0, OPT_RECURSIVE },
	CLI_OPT_END
};

static const struct cli_optspec opts_acl[] = {
	{ "global",	0,   0, OPT_GLOBAL },
	CLI_OPT_END
};

static const struct cli_optspec opts_principal_create[] = {
	{ "key",	0,   1, OPT_KEY },
	{ "group",	0,   1, OPT_GROUP },
	CLI_OPT_END
};

static const struct cli_optspec opts_key[] = {
	{ "key",	0,   1, OPT_KEY },
	CLI_OPT_END
};

#define PATH_HELP \
	"PATH is written a/b/c (one leading or trailing '/' is ignored).\n"

static const struct cli_command commands[] = {
	/* Identity */
	{ "whoami", cli_whoami, opts_none, 0, 0, 0,
	  "whoami",
	  "show the principal, groups and global permissions of your key",
	  "Show which principal the server maps your SSH key to, its groups\n"
	  "and its global permissions, one \"name  value\" line each\n"
	  "(principal, groups, global, enrol_only).  On an enrol-only session\n"
	  "(an unknown key admitted only to enrol) the principal is \"-\" and\n"
	  "enrol_only is \"yes\".\n" },

	/* Secrets */
	{ "get", cli_get, opts_get, 1, 1, 0,
	  "get PATH [--version N] [-o FILE]",
	  "print a secret's value",
	  "Write the value stored at PATH, byte for byte, to stdout.  A newline\n"
	  "is added only when stdout is a terminal.\n"
	  PATH_HELP
	  "\n"
	  "Options:\n"
	  "  --version N        that version instead of the current one\n"
	  "  -o, --output FILE  write the value to FILE instead (created with\n"
	  "                     mode 0600; an existing file is truncated; a\n"
	  "                     symbolic link is refused; \"-\" is stdout)\n"
	  "\n"
	  "With --json the raw response is printed instead (with -o, the value\n"
	  "goes to FILE and the response printed has no value field).\n" },
	{ "put", cli_put, opts_put, 1, 1, 0,
	  "put PATH [--cas N] [-f FILE | --generate LEN [--charset SET]]",
	  "store a new version of a secret",
	  "Store a new version of the value at PATH, creating the node and its\n"
	  "parents as needed.  The value is read from stdin (all of it, exactly;\n"
	  "on a terminal: one line, not echoed), from FILE, or generated.  It is\n"
	  "never taken from the command line.  At most 1 MiB is read; the\n"
	  "server has its own, usually smaller, limit.  On a terminal the new\n"
	  "version number is printed; nothing secret ever is.\n"
	  PATH_HELP
	  "\n"
	  "Options:\n"
	  "  --cas N            check-and-set: succeed only if the current\n"
	  "                     version is N (0: only if there is no value);\n"
	  "                     else fail with conflict (exit status 6)\n"
	  "  -f, --file FILE    read the value from FILE (\"-\": stdin)\n"
	  "  --generate LEN     generate a random value of LEN characters\n"
	  "                     (1..1048576) and store it without printing it\n"
	  "  --charset SET      characters for --generate: alnum (default),\n"
	  "                     alpha, hex, base64url, or print (printable\n"
	  "                     ASCII without space)\n" },
	{ "ls", cli_ls, opts_recursive, 0, 1, 0,
	  "ls [PATH] [-r]",
	  "list the children of a node",
	  "List the children of PATH (default: the root), one per line,\n"
	  "relative to PATH; a name ending in \"/\" has children of its own.\n"
	  PATH_HELP
	  "\n"
	  "Options:\n"
	  "  -r, --recursive    list every descendant, depth first\n" },
	{ "history", cli_history, opts_none, 1, 1, 0,
	  "history PATH",
	  "list the versions of a secret",
	  "List the versions of the value at PATH, newest first: version,\n"
	  "state (current, previous, deleted or destroyed), when and by whom\n"
	  "it was created.\n"
	  PATH_HELP },
	{ "rm", cli_rm, opts_recursive, 1, 1, 0,
	  "rm PATH [-r]",
	  "delete a secret (soft delete)",
	  "Delete the value at PATH: a deletion version is written; older\n"
	  "versions stay readable with get --version.  On a terminal the number\n"
	  "of values deleted is printed.\n"
	  PATH_HELP
	  "\n"
	  "Options:\n"
	  "  -r, --recursive    delete every value at or below PATH\n" },

	/* Access control */
	{ "acl get", cli_acl_get, opts_acl, 0, 1, 0,
	  "acl get PATH\nacl get --global",
	  "show the grants on a node, or the global grants",
	  "Show the grants at PATH and at every ancestor, one per line:\n"
	  "path, group, permissions, and \"(inherited)\" for an ancestor's.\n"
	  "The root is shown as \"/\".  With --global: the global grants, one\n"
	  "line per group.\n"
	  PATH_HELP
	  "\n"
	  "Options:\n"
	  "  --global           the global grants instead of a node's\n" },
	{ "acl set", cli_acl_set, opts_acl, 2, 3, 0,
	  "acl set PATH GROUP PERMS|-\nacl set --global GROUP PERMS|-",
	  "replace a group's permissions on a node, or its global ones",
	  "Replace the permissions GROUP holds at PATH (or globally) with PERMS,\n"
	  "a comma-separated list; \"-\" removes the grant.\n"
	  "Node permissions: discover, read, write, manage (inherited by every\n"
	  "descendant).  Global permissions: group_manage, principal_manage,\n"
	  "enrol, audit; you can only grant or take away global permissions\n"
	  "you hold yourself.\n"
	  PATH_HELP
	  "\n"
	  "Options:\n"
	  "  --global           set a global grant (then no PATH)\n" },

	/* Groups */
	{ "group create", cli_group_create, opts_none, 1, 1, 0,
	  "group create NAME",
	  "create a group",
	  "Create the group NAME ([a-z0-9][a-z0-9._@-]*, at most 64 bytes).\n" },
	{ "group delete", cli_group_delete, opts_none, 1, 1, 0,
	  "group delete NAME",
	  "delete a group",
	  "Delete the group NAME, with its memberships and grants.\n" },
	{ "group list", cli_group_list, opts_none, 0, 0, 0,
	  "group list",
	  "list the groups",
	  "List the groups, one per line: name and number of members.\n" },
	{ "group members", cli_group_members, opts_none, 1, 1, 0,
	  "group members NAME",
	  "list the members of a group",
	  "List the principals in the group NAME, one per line.\n" },
	{ "group add", cli_group_add, opts_none, 2, 2, 0,
	  "group add GROUP PRINCIPAL",
	  "add a principal to a group",
	  "Add PRINCIPAL to GROUP.\n" },
	{ "group remove", cli_group_remove, opts_none, 2, 2, 0,
	  "group remove GROUP PRINCIPAL",
	  "remove a principal from a group",
	  "Remove PRINCIPAL from GROUP.\n" },

	/* Principals */
	{ "principal create", cli_principal_create, opts_principal_create,
	  1, 1, 0,
	  "principal create NAME --key FILE|- [--group G]...",
	  "create a principal (a host or a person) with its first key",
	  "Create the principal NAME ([a-z0-9][a-z0-9._@-]*, at most 64 bytes)\n"
	  "with the SSH public key in FILE (\"-\": stdin), in the \"type base64\n"
	  "[comment]\" form of a .pub file; the comment is not sent.  Prints the\n"
	  "key's fingerprint.\n"
	  "\n"
	  "Options:\n"
	  "  --key FILE|-       the public key (required)\n"
	  "  --group G          also add the principal to group G (repeatable;\n"
	  "                     needs group_manage too)\n" },
	{ "principal delete", cli_principal_delete, opts_none, 1, 1, 0,
	  "principal delete NAME",
	  "delete a principal",
	  "Delete the principal NAME with its keys and memberships.\n" },
	{ "principal show", cli_principal_show, opts_none, 1, 1, 0,
	  "principal show NAME",
	  "show a principal's groups and keys",
	  "Show the principal NAME: creation time, groups, and one line per\n"
	  "key (type and fingerprint).\n" },
	{ "principal list", cli_principal_list, opts_none, 0, 0, 0,
	  "principal list",
	  "list the principals",
	  "List the principals, one per line: name and number of keys.\n" },
	{ "principal key-add", cli_principal_key_add, opts_key, 1, 1, 0,
	  "principal key-add NAME --key FILE|-",
	  "add an SSH key to a principal",
	  "Add the SSH public key in FILE (\"-\": stdin) to the principal NAME.\n"
	  "A key belongs to at most one principal.  Prints the fingerprint.\n"
	  "\n"
	  "Options:\n"
	  "  --key FILE|-       the public key (required)\n" },
	{ "principal key-remove", cli_principal_key_remove, opts_key, 1, 1, 0,
	  "principal key-remove NAME --key FILE|SHA256:FP",
	  "remove an SSH key from a principal",
	  "Remove a key from the principal NAME, given as a public key file\n"
	  "(\"-\": stdin) or as its fingerprint (SHA256:..., as ssh-keygen -l\n"
	  "prints it).\n"
	  "\n"
	  "Options:\n"
	  "  --key FILE|-|SHA256:FP  the key to remove (required)\n" },

	/* Local */
	{ "help", cli_help, opts_none, 0, 2, CMD_NO_SERVER,
	  "help [COMMAND]",
	  "show help for a command",
	  "Show the help of COMMAND (e.g. \"help acl set\"), or the list of\n"
	  "commands.\n" },
	{ NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL }
};

static const char global_help[] =
	"Global options (before or after the command):\n"
	"  -s, --server USER@HOST[:PORT]  server to use ($SECRET_SERVER);\n"
	"                     USER defaults to \"secret\", PORT to 22\n"
	"  -i, --identity FILE  private key to log in with ($SECRET_IDENTITY);\n"
	"                     default: ssh-agent, then ~/.ssh/id_ed25519\n"
	"  --known-hosts FILE known_hosts file ($SECRET_KNOWN_HOSTS);\n"
	"                     default ~/.ssh/known_hosts\n"
	"  --host-key SHA256:FP  accept only a server host key with this\n"
	"                     fingerprint ($SECRET_HOST_KEY); known_hosts is\n"
	"                     then not used\n"
	"  --accept-new-host-key  trust an unknown server host key and add it\n"
	"                     to known_hosts (a changed key is never accepted)\n"
	"  --json             print the raw response objects, one per line\n"
	"  -q, --quiet        print no informational messages or warnings\n"
	"  -h, --help         show help (of the command, if one is given)\n"
	"  --version          show the program version\n";

static const char exit_help[] =
	"Exit status: 0 success, 1 other error, 2 usage, 3 connection or\n"
	"authentication failure, 4 permission denied, 5 not found,\n"
	"6 conflict.  Errors are reported on stderr as one line:\n"
	"\"secret: <code>: <message>\".\n";

const struct cli_command *
cli_command_find(const char *w1, const char *w2, int *is_group)
{
	const struct cli_command *c;
	size_t l1 = strlen(w1);

	if (is_group != NULL)
		*is_group = 0;
	for (c = commands; c->name != NULL; c++) {
		if (w2 == NULL) {
			if (strcmp(c->name, w1) == 0)
				return c;
			if (strncmp(c->name, w1, l1) == 0 &&
			    c->name[l1] == ' ' && is_group != NULL)
				*is_group = 1;
		} else if (strncmp(c->name, w1, l1) == 0 &&
		    c->name[l1] == ' ' && strcmp(c->name + l1 + 1, w2) == 0)
			return c;
	}
	return NULL;
}

/* Whether c belongs to group (the first word of its name). */
static int
in_group(const struct cli_command *c, const char *group)
{
	size_t l = strlen(group);

	return strncmp(c->name, group, l) == 0 && c->name[l] == ' ';
}

/*
 * The usage lines of c (its usage may hold alternatives, one per line),
 * the first one after "usage:", the others aligned under it.
 */
static void
print_usage(FILE *f, const struct cli_command *c, int *first)
{
	const char *u = c->usage, *nl;

	while (*u != '\0') {
		nl = strchr(u, '\n');
		fprintf(f, "%s secret %.*s\n", *first ? "usage:" : "      ",
		    (int)(nl != NULL ? nl - u : (long)strlen(u)), u);
		*first = 0;
		u = nl != NULL ? nl + 1 : u + strlen(u);
	}
}

static void vusage_line(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static void
vusage_line(const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	(void)cli_err_status("usage", CLI_EXIT_USAGE, "%s", msg);
}

int
cli_usage(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;
	int first = 1;

	va_start(ap, fmt);
	vusage_line(fmt, ap);
	va_end(ap);
	if (cmd != NULL) {
		print_usage(stderr, cmd, &first);
		fprintf(stderr, "(\"secret %s --help\" for more)\n", cmd->name);
	} else
		fprintf(stderr, "usage: secret [OPTION]... COMMAND [ARG]...\n"
		    "(\"secret --help\" lists the commands)\n");
	return CLI_EXIT_USAGE;
}

int
cli_usage_group(const char *group, const char *fmt, ...)
{
	const struct cli_command *c;
	va_list ap;
	int first = 1;

	va_start(ap, fmt);
	vusage_line(fmt, ap);
	va_end(ap);
	for (c = commands; c->name != NULL; c++)
		if (in_group(c, group))
			print_usage(stderr, c, &first);
	return CLI_EXIT_USAGE;
}

void
cli_help_general(FILE *f)
{
	const struct cli_command *c;

	fprintf(f,
	    "usage: secret [OPTION]... COMMAND [ARG]...\n"
	    "\n"
	    "Client of the secretd secrets store, over SSH.\n"
	    "\n"
	    "Commands:\n");
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "  %-22s %s\n", c->name, c->summary);
	fprintf(f, "\n%s\n"
	    "\"secret COMMAND --help\" shows the usage of a command.\n"
	    "$SECRET_DEBUG=1..4 makes the SSH library log to stderr.\n\n%s",
	    global_help, exit_help);
}

void
cli_help_group(const char *group, FILE *f)
{
	const struct cli_command *c;
	int first = 1;

	for (c = commands; c->name != NULL; c++)
		if (in_group(c, group))
			print_usage(f, c, &first);
	fprintf(f, "\n");
	for (c = commands; c->name != NULL; c++)
		if (in_group(c, group))
			fprintf(f, "  %-22s %s\n", c->name, c->summary);
	fprintf(f, "\n\"secret %s COMMAND --help\" shows the usage of a "
	    "command.\n", group);
}

void
cli_help_command(const struct cli_command *cmd, FILE *f)
{
	int first = 1;

	print_usage(f, cmd, &first);
	fprintf(f, "\n%s", cmd->help);
	if (!(cmd->flags & CMD_NO_SERVER))
		fprintf(f, "\nThe global options (\"secret --help\") are "
		    "accepted too.\n");
}

static int
cli_help(struct cli_ctx *ctx, const struct cli_args *a)
{
	const struct cli_command *c;
	int is_group = 0;

	if (a->npos == 0) {
		cli_help_general(stdout);
		return cli_flush_stdout();
	}
	c = cli_command_find(a->pos[0], a->npos > 1 ? a->pos[1] : NULL,
	    &is_group);
	if (c != NULL)
		cli_help_command(c, stdout);
	else if (is_group && a->npos == 1)
		cli_help_group(a->pos[0], stdout);
	else if (a->npos > 1)
		return cli_usage(ctx->cmd, "unknown command \"%s %s\"",
		    a->pos[0], a->pos[1]);
	else
		return cli_usage(ctx->cmd, "unknown command \"%s\"", a->pos[0]);
	return cli_flush_stdout();
}
