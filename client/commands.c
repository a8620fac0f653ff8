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
#include "client/cmd_audit.h"
#include "client/cmd_edit.h"
#include "client/cmd_enrol.h"
#include "client/cmd_credential.h"
#include "client/cmd_fetch.h"
#include "client/cmd_secret.h"
#include "client/commands.h"
#include "client/output.h"

static int cli_help(struct cli_ctx *ctx, const struct cli_args *a);

static const struct cli_optspec opts_none[] = { CLI_OPT_END };

static const struct cli_optspec opts_get[] = {
	{ "version",	0,   1, OPT_VERSION },
	{ "output",	'o', 1, OPT_OUTPUT },
	{ "wait",	0,   1, OPT_WAIT },
	CLI_OPT_END
};

static const struct cli_optspec opts_put[] = {
	{ "cas",	0,   1, OPT_CAS },
	{ "file",	'f', 1, OPT_FILE },
	{ "generate",	0,   1, OPT_GENERATE },
	{ "charset",	0,   1, OPT_CHARSET },
	{ "wait",	0,   1, OPT_WAIT },
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
	  "get PATH [--version N] [-o FILE] [--wait DURATION]",
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
	  "  --wait DURATION    while the server is unavailable, retry for up\n"
	  "                     to DURATION (30s, 5m, 1h); a read is safe to\n"
	  "                     repeat\n"
	  "\n"
	  "With --json the raw response is printed instead (with -o, the value\n"
	  "goes to FILE and the response printed has no value field).\n" },
	{ "put", cli_put, opts_put, 1, 1, 0,
	  "put PATH [--cas N] [--wait DURATION] [-f FILE | --generate LEN "
	  "[--charset SET]]",
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
	  "  --wait DURATION    while the server is unavailable, retry for up\n"
	  "                     to DURATION (30s, 5m, 1h).  Only a put with\n"
	  "                     --cas is sent again (it cannot apply twice);\n"
	  "                     one without is retried only until a session\n"
	  "                     opens, then sent once.  When an attempt's\n"
	  "                     outcome was unknown (the server lost its\n"
	  "                     database during the commit) and a later one\n"
	  "                     finds the version moved on, the put fails\n"
	  "                     with unavailable, not conflict: it may have\n"
	  "                     been committed; read it back\n"
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
	{ "undelete", cli_undelete, opts_none, 2, 2, 0,
	  "undelete PATH VERSION",
	  "bring back a deleted secret from one of its versions",
	  "Undo an rm: store the value of VERSION again as a new version of the\n"
	  "value at PATH (the server copies it; the value does not travel).  The\n"
	  "current version must be a deletion (else conflict, exit status 6);\n"
	  "VERSION must hold a value (else not_found, exit status 5).  Needs\n"
	  "read and write.  On a terminal the new version number is printed.\n"
	  PATH_HELP },
	{ "rollback", cli_rollback, opts_none, 2, 2, 0,
	  "rollback PATH VERSION",
	  "make an old version current again",
	  "Store the value of VERSION again as a new version of the value at\n"
	  "PATH, whatever the current version is (the server copies it; the\n"
	  "value does not travel).  VERSION must hold a value: a deleted or\n"
	  "destroyed one is not_found (exit status 5).  Needs read and write.\n"
	  "On a terminal the new version number is printed.\n"
	  PATH_HELP },
	{ "destroy", cli_destroy, opts_none, 2, -1, 0,
	  "destroy PATH VERSION...",
	  "erase versions of a secret for good",
	  "Erase the stored value of each VERSION of the value at PATH for\n"
	  "good; their history entries stay, in state \"destroyed\".  This\n"
	  "cannot be undone.  Destroying the current version leaves PATH\n"
	  "without a readable value.  A VERSION that does not exist is\n"
	  "not_found (exit status 5).  Needs write and manage.  On a terminal\n"
	  "the number of versions destroyed is printed.\n"
	  PATH_HELP },
	{ "edit", cli_edit, opts_none, 1, 1, 0,
	  "edit PATH",
	  "edit a secret in $VISUAL or $EDITOR",
	  "Fetch the value at PATH (none yet: start from an empty file), let\n"
	  "your editor change it, and store the result as a new version with\n"
	  "check-and-set: if someone else stored a version meanwhile, nothing\n"
	  "is stored and the exit status is 6 (conflict).  The file holds the\n"
	  "exact bytes, and its exact bytes are stored (an editor may add a\n"
	  "final newline).  A file left byte for byte unchanged stores\n"
	  "nothing (\"unchanged\" on a terminal).  Needs read and write.\n"
	  "\n"
	  "The editor is $VISUAL, else $EDITOR, run as\n"
	  "  /bin/sh -c 'exec $EDITOR \"$1\"' sh FILE\n"
	  "(so EDITOR=\"code --wait\" works), else vi.  It must exit with\n"
	  "status 0, or nothing is stored.  FILE (mode 0600) is in a new\n"
	  "private directory (mode 0700) under $XDG_RUNTIME_DIR, else on the\n"
	  "/dev/shm tmpfs; edit refuses to run if neither is usable.  However\n"
	  "edit ends (stored, unchanged, failed, conflict, or SIGINT, SIGTERM,\n"
	  "SIGHUP), every file in that directory is overwritten with zeros and\n"
	  "removed, and the directory too.  SIGTERM and SIGHUP are passed on\n"
	  "to the editor; SIGINT is left to it (an editor that dies of it ends\n"
	  "the edit).  The value is read and written in two SSH sessions, none\n"
	  "open while the editor runs.\n"
	  PATH_HELP },

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
	{ "acl who", cli_acl_who, opts_none, 1, 1, 0,
	  "acl who PATH",
	  "list who holds each permission on a node, and through what",
	  "List every principal holding a node permission at PATH, one line\n"
	  "each: \"PERMISSION  PRINCIPAL  via GROUP at GRANT-PATH\", where\n"
	  "GRANT-PATH is the node of the grant (PATH or an ancestor; the root\n"
	  "is \"/\"); sorted by permission, principal, grant path.  Needs manage\n"
	  "at PATH, or the audit global permission.  Global permissions are\n"
	  "shown by \"acl get --global\".\n"
	  PATH_HELP },

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

	/* Bootstrap: enrolment, and secrets at boot */
	{ "enrol-token create", cli_enrol_token_create,
	  cli_opts_enrol_token_create, 0, 0, 0,
	  "enrol-token create [--ttl DURATION] [--uses N] [--name-pattern GLOB] "
	  "[--group G]... [--allow-rekey] [--cidr CIDR]...",
	  "make an enrolment token for new hosts",
	  "Make a token with which hosts can enrol their SSH key (secret enrol)\n"
	  "and print it, alone, on stdout.  It is shown only this once: the\n"
	  "server keeps only its hash.  Needs the enrol permission.\n"
	  "\n"
	  "Options:\n"
	  "  --ttl DURATION     how long it is valid: seconds, or a number with\n"
	  "                     s, m, h or d (default 1h; the server allows at\n"
	  "                     most 30d)\n"
	  "  --uses N           how many enrolments it allows (default 1)\n"
	  "  --name-pattern GLOB  the principal names it may create, a shell\n"
	  "                     glob such as \"web*\" (default: any)\n"
	  "  --group G          a group every principal it creates joins\n"
	  "                     (repeatable; the group must exist, and you\n"
	  "                     must hold every permission it holds)\n"
	  "  --allow-rekey      let it give an existing principal of a matching\n"
	  "                     name a new key (a re-installed host): the old\n"
	  "                     keys of that principal stop working; needs a\n"
	  "                     --name-pattern other than *, and re-keys only\n"
	  "                     a principal in no other group and with no\n"
	  "                     global permission\n"
	  "  --cidr CIDR        accept it only from these client addresses\n"
	  "                     (repeatable; e.g. 192.0.2.0/24)\n"
	  "\n"
	  "With --json the raw response (token, token_id, expires_at) is\n"
	  "printed instead.\n" },
	{ "enrol-token list", cli_enrol_token_list, opts_none, 0, 0, 0,
	  "enrol-token list",
	  "list the enrolment tokens",
	  "List the enrolment tokens, never their secret, one per line: id,\n"
	  "state (active, expired, used or revoked), enrolments made and left,\n"
	  "expiry, name pattern, groups, whether it allows rekeying, and the\n"
	  "client addresses it is limited to.  Needs the enrol permission.\n" },
	{ "enrol-token revoke", cli_enrol_token_revoke, opts_none, 1, 1, 0,
	  "enrol-token revoke TOKEN_ID",
	  "end an enrolment token at once",
	  "End the token TOKEN_ID (the id enrol-token create and list show) at\n"
	  "once.  Needs the enrol permission.\n" },
	{ "enrol", cli_enrol, cli_opts_enrol, 0, 0, 0,
	  "enrol --name NAME [--token-file FILE] [--wait DURATION]",
	  "enrol this host's SSH key with a token",
	  "Become the principal NAME with an enrolment token: the key you log in\n"
	  "with becomes NAME's key, and NAME joins the token's groups.  Usually\n"
	  "run as root with the host key:\n"
	  "  secret -i /etc/ssh/ssh_host_ed25519_key enrol --name web7\n"
	  "The server must admit unknown keys (enrol_unknown_keys = yes).\n"
	  "\n"
	  "The token comes from FILE (\"-\": stdin), else $SECRET_ENROL_TOKEN,\n"
	  "else stdin (on a terminal: asked for, not echoed); never from the\n"
	  "command line.  Prints \"enrolled NAME (SHA256:...)\".  If the key\n"
	  "already is NAME's, prints \"already enrolled as NAME\" and spends no\n"
	  "token, so it is safe to run at every boot; a key of another\n"
	  "principal is an error.\n"
	  "\n"
	  "Options:\n"
	  "  --name NAME        the principal to become (required)\n"
	  "  --token-file FILE  read the token from FILE\n"
	  "  --wait DURATION    retry while the server cannot be reached (see\n"
	  "                     \"secret fetch --help\")\n" },
	{ "fetch", cli_fetch, cli_opts_fetch, 1, -1, 0,
	  "fetch PREFIX... --dest DIR [--mode MODE] [--owner USER[:GROUP]] "
	  "[--prune] [--wait DURATION]\n"
	  "fetch PREFIX... --env-file FILE [--env-prefix P] [--mode MODE] "
	  "[--owner USER[:GROUP]] [--wait DURATION]\n"
	  "fetch PREFIX... (--dest DIR | --env-file FILE) ... --watch "
	  "[--on-change CMD]",
	  "write the secrets below prefixes to files or an env file",
	  "Fetch every secret you may read below each PREFIX (its descendants:\n"
	  "a value at PREFIX itself is not included) in one session, then write\n"
	  "them all at once, or nothing at all when anything fails.\n"
	  "\n"
	  "--dest DIR: one file per secret, at its path below its PREFIX\n"
	  "(PREFIX app, secret app/db/password: DIR/db/password).  The set is\n"
	  "built in a new directory next to DIR and switched in with one\n"
	  "rename: a reader sees the whole old set or the whole new one.  Files\n"
	  "get MODE (default 0400); directories 0700, plus r-x for the group or\n"
	  "others when MODE lets them read.  Entries of the previous DIR that no\n"
	  "secret of the new set replaces (the files of deleted secrets, say)\n"
	  "are carried over, unless --prune.  A name that cannot be a file name\n"
	  "(\".\", \"..\" or one holding a '/'), a secret that would be a file\n"
	  "and a directory at once, or two secrets for one file is an error.\n"
	  "DIR cannot be a mount point (it is renamed): mount the tmpfs on its\n"
	  "parent (/run/secrets) and fetch into a directory below it.  A\n"
	  "warning when DIR is not on tmpfs or ramfs.\n"
	  "\n"
	  "--env-file FILE: a line NAME='value' per secret, sorted by NAME, that\n"
	  "both sh (set -a; . FILE) and systemd (EnvironmentFile=) read back\n"
	  "exactly.  NAME is the path below PREFIX with each name upper-cased,\n"
	  "every character that is not an ASCII letter or digit made '_', the\n"
	  "names joined with '_', and a '_' put before a leading digit:\n"
	  "app/db/password -> DB_PASSWORD, app/api-key -> API_KEY;\n"
	  "--env-prefix P puts P in front (APP_DB_PASSWORD with P = APP_).\n"
	  "A NAME on the deny-list (variables that make the loader, a shell\n"
	  "or an interpreter run code or trust data: LD_*, PATH, BASH_ENV,\n"
	  "PYTHON*, NODE_*, LANG, LC_*, ...; see secret(1)) is refused, so\n"
	  "that writing a secret never runs code on the hosts that fetch it.\n"
	  "A value holding a single quote, a line break or another control\n"
	  "character than tab, or that is not UTF-8, cannot be written;\n"
	  "neither can two secrets with one NAME: an error naming them, and\n"
	  "nothing written.\n"
	  "The file is written to a temporary file renamed over FILE, with MODE\n"
	  "(default 0600).\n"
	  PATH_HELP
	  "\n"
	  "Options:\n"
	  "  --dest DIR         write a tree of files into DIR\n"
	  "  --env-file FILE    write an env file\n"
	  "  --env-prefix P     with --env-file: put P before every NAME (P:\n"
	  "                     [A-Za-z_][A-Za-z0-9_]*, not on the deny-list)\n"
	  "  --mode MODE        octal mode of the files written\n"
	  "  --owner USER[:GROUP]  owner of what is written (as chown(1))\n"
	  "  --prune            with --dest: drop the files of secrets that\n"
	  "                     are gone instead of keeping them\n"
	  "  --wait DURATION    while the server cannot be reached (connection\n"
	  "                     refused or timed out, session lost, or the\n"
	  "                     server answers unavailable), retry with backoff\n"
	  "                     for up to DURATION (e.g. 30s, 5m); any other\n"
	  "                     error, a refused key included, is final\n"
	  "  --watch            stay connected: on every change below the\n"
	  "                     prefixes fetch again and switch the new set in;\n"
	  "                     reconnect with backoff when the session is lost\n"
	  "  --on-change CMD    with --watch: run CMD (split into words, no\n"
	  "                     shell) after each switch; its status is logged\n" },
	{ "exec", cli_exec, cli_opts_exec, 1, -1, 0,
	  "exec [--env VAR=PATH]... [--prefix PREFIX]... [--env-prefix P] "
	  "[--wait DURATION] -- CMD [ARG]...",
	  "run a command with secrets in its environment",
	  "Fetch secrets in one session, put them in the environment and run\n"
	  "CMD in place of secret (execvp: no shell, the session closed first).\n"
	  "--env VAR=PATH sets VAR to the value at PATH; --prefix PREFIX sets a\n"
	  "variable for every secret below PREFIX, named as fetch --env-file\n"
	  "names it, with --env-prefix P before it (an --env VAR wins over a\n"
	  "name made so).  A name so made that is on the deny-list (see\n"
	  "\"secret fetch --help\") is refused; --env VAR=PATH takes any VAR,\n"
	  "the caller chose it.  A missing or forbidden PATH, a value\n"
	  "holding a NUL byte, or two secrets for one name is an error naming\n"
	  "them, and CMD is not run.  Nothing is written to disk.  Put \"--\"\n"
	  "before CMD.  When CMD cannot be run the exit status is 127 (not\n"
	  "found) or 126.  CMD inherits the umask secret was started with,\n"
	  "and no core dumps (RLIMIT_CORE 0).\n"
	  PATH_HELP
	  "\n"
	  "Options:\n"
	  "  --env VAR=PATH     one variable (repeatable)\n"
	  "  --prefix PREFIX    every secret below PREFIX (repeatable)\n"
	  "  --env-prefix P     put P before the names --prefix makes\n"
	  "  --wait DURATION    retry while the server cannot be reached (see\n"
	  "                     \"secret fetch --help\")\n" },
	{ "template", cli_template, cli_opts_template, 1, 2, 0,
	  "template IN [OUT] [--mode MODE] [--owner USER[:GROUP]] "
	  "[--wait DURATION]",
	  "render a file with secrets in it",
	  "Copy IN (\"-\": stdin) to OUT (default, and \"-\": stdout), each\n"
	  "{{ secret \"a/b/c\" }} replaced by the value at a/b/c, byte for byte.\n"
	  "Inside {{ }} only that form is recognised (white space is free),\n"
	  "and {{ \"TEXT\" }} for literal text such as {{ \"{{\" }}; in a quoted\n"
	  "string \\\" and \\\\ are the only escapes.  Anything else inside {{ }}\n"
	  "is an error at IN:LINE:COLUMN.  Every value is fetched in one\n"
	  "request; a missing or forbidden path is an error naming it, and\n"
	  "nothing is written.  OUT is written to a temporary file renamed\n"
	  "over it, with MODE (default 0600).\n"
	  "\n"
	  "Options:\n"
	  "  --mode MODE        octal mode of OUT\n"
	  "  --owner USER[:GROUP]  owner of OUT (as chown(1))\n"
	  "  --wait DURATION    retry while the server cannot be reached (see\n"
	  "                     \"secret fetch --help\")\n" },

	{ "credential-server", cli_credential_server, cli_opts_credential,
	  0, 0, 0,
	  "credential-server [--config FILE]",
	  "serve systemd LoadCredential= from secretd (socket-activated)",
	  "Started by secretd-credentials.socket (/run/secretd/credentials.sock).\n"
	  "A unit with LoadCredential=ID:/run/secretd/credentials.sock gets\n"
	  "the value of the secret that FILE (default\n"
	  "/etc/secretd/credentials.conf) maps its unit name and ID to, one\n"
	  "line per credential: \"UNIT ID = secret/path\" ('#' comments).\n"
	  "Only systemd (peer uid 0) is served; an unmapped credential gets\n"
	  "nothing (the unit fails to start) and a log line on stderr.  The\n"
	  "secret is fetched with the identity and server of the environment\n"
	  "(SECRET_IDENTITY, SECRET_SERVER, ...), as any command.\n"
	  "\n"
	  "Options:\n"
	  "  --config FILE      the map (default /etc/secretd/credentials.conf)\n" },

	/* Audit (the global audit permission) */
	{ "audit query", cli_audit_query, cli_audit_query_opts, 0, 0, 0,
	  "audit query [--since T] [--until T] [--principal P] [--path PREFIX] "
	  "[--action A] [--result R] [--limit N | --all]",
	  "list audit rows, newest first",
	  "List the audit trail's rows that match every filter given, newest\n"
	  "first, one line each: ID, TIME, PRINCIPAL (or the key fingerprint\n"
	  "of an unknown key), ACTION, PATH, VERSION, RESULT, CODE (the error\n"
	  "code) and CLIENT (address:port), under a header line; \"-\" for\n"
	  "what a row does not have.  Pages are fetched until the limit.\n"
	  "With --json: each row as one JSON object per line (NDJSON), with\n"
	  "every field (session_id, request_id, value_hash, detail...).\n"
	  "\n"
	  "Options:\n"
	  "  --since T, --until T  only rows at or after / before T: a time\n"
	  "                     (2026-11-01T00:00:00Z) or a duration before now\n"
	  "                     (90s, 15m, 24h, 30d)\n"
	  "  --principal P      only rows of principal P\n"
	  "  --path PREFIX      only rows about PREFIX or a path below it\n"
	  "  --action A         only action A (secret.get, secret.put, ...)\n"
	  "  --result R         only results R: ok, denied or error\n"
	  "  --limit N          at most N rows (default 100; a warning says\n"
	  "                     when more match)\n"
	  "  --all              every matching row\n" },
	{ "audit verify", cli_audit_verify, cli_audit_verify_opts, 0, 0, 0,
	  "audit verify [--head SEQ:HASH] [--acknowledge ID]",
	  "check that the audit trail was not altered",
	  "Have the server recompute the audit trail's MACs and seal chain.\n"
	  "Intact: prints \"intact: N rows, M sealed, head SEQ:HASH\" and exits\n"
	  "0; keep that head (secretd also logs \"audit head SEQ:HASH\" to\n"
	  "syslog after each seal) to check later that the trail still\n"
	  "extends it.  Otherwise reports the first broken row on stderr,\n"
	  "  secret: tampered: audit trail broken at row ID: WHAT\n"
	  "(WHAT: altered, inserted, deleted, a broken chain, or the trail's\n"
	  "end cut off: truncated) and exits 1.\n"
	  "With --json the raw response is printed (exit status as above).\n"
	  "\n"
	  "Options:\n"
	  "  --head SEQ:HASH    also check that the trail still holds this head,\n"
	  "                     recorded earlier: if not, rows were cut off its\n"
	  "                     end (even across a restart of secretd)\n"
	  "  --acknowledge ID   mark the gap secretd recorded at row ID (action\n"
	  "                     audit.truncated) as explained; recorded in the\n"
	  "                     audit trail with who did it\n" },
	{ "audit hash", cli_audit_hash, opts_none, 1, 1, 0,
	  "audit hash PATH",
	  "find the audit rows that recorded a candidate value",
	  "Read a candidate value from stdin (all of it, exactly; on a\n"
	  "terminal: one line, not echoed; never from the command line) and\n"
	  "list, in the format of \"audit query\", newest first, the audit rows\n"
	  "at or below PATH whose keyed value hash is that of the candidate:\n"
	  "the writes that stored this value (none: a note on stderr).  PATH\n"
	  "\"/\" searches the whole tree.  The server never hands out the hash\n"
	  "itself; each call is audited and counted (30 per 10 minutes per\n"
	  "principal, then rate_limited).  With --json: the rows as NDJSON.\n"
	  PATH_HELP },
	{ "audit report", cli_audit_report, cli_audit_report_opts, 0, 0, 0,
	  "audit report [--since 30d] [--stale 90d] "
	  "[--format text|csv|json|html] [-o FILE]",
	  "summarise the audit trail and who can access what",
	  "Summarise the period: requests per day, accesses per principal and\n"
	  "per top-level path, denied attempts and their sources, live secrets\n"
	  "not changed for the --stale time, and the effective access matrix\n"
	  "(which principals hold which node permissions where, through which\n"
	  "groups).\n"
	  "\n"
	  "Options:\n"
	  "  --since T          the period: from T (a duration before now or a\n"
	  "                     time; default 30d) until now\n"
	  "  --stale T          a secret is stale when unchanged for T\n"
	  "                     (default 90d)\n"
	  "  --format F         text (default): readable tables; csv: one\n"
	  "                     RFC 4180 table whose first column is the\n"
	  "                     section; json: the server's report, indented;\n"
	  "                     html: one self-contained page with charts\n"
	  "                     (inline SVG and CSS; loads nothing, no script)\n"
	  "  -o, --output FILE  write to FILE (mode 0600, replaced atomically)\n"
	  "                     instead of stdout\n"
	  "\n"
	  "With --json the raw response is written, on one line.\n" },

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
