/*
 * args.c - command-line parsing for `secret`: global options anywhere,
 * command words, command options and positional arguments.
 *
 * Grammar and precedence are described in args.h.  This file reports
 * usage errors (exit status 2) and never looks at the environment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "path.h"
#include "xmalloc.h"

#include "client/args.h"
#include "client/commands.h"
#include "client/output.h"

static const struct cli_optspec global_opts[] = {
	{ "server",		 's', 1, GOPT_SERVER },
	{ "identity",		 'i', 1, GOPT_IDENTITY },
	{ "known-hosts",	 0,   1, GOPT_KNOWN_HOSTS },
	{ "host-key",		 0,   1, GOPT_HOST_KEY },
	{ "accept-new-host-key", 0,   0, GOPT_ACCEPT_NEW },
	{ "json",		 0,   0, GOPT_JSON },
	{ "quiet",		 'q', 0, GOPT_QUIET },
	{ "help",		 'h', 0, GOPT_HELP },
	{ "version",		 0,   0, GOPT_VERSION },
	CLI_OPT_END
};

static const struct cli_optspec *
find_long(const struct cli_optspec *spec, const char *name, size_t len)
{
	for (; spec != NULL && (spec->lname != NULL || spec->sname != 0);
	    spec++)
		if (spec->lname != NULL && strlen(spec->lname) == len &&
		    strncmp(spec->lname, name, len) == 0)
			return spec;
	return NULL;
}

static const struct cli_optspec *
find_short(const struct cli_optspec *spec, char c)
{
	for (; spec != NULL && (spec->lname != NULL || spec->sname != 0);
	    spec++)
		if (spec->sname == c)
			return spec;
	return NULL;
}

/* Command options first: they win over a global of the same spelling. */
static const struct cli_optspec *
lookup(const struct cli_cmdline *cl, const char *lname, size_t len, char c)
{
	const struct cli_optspec *o = NULL;

	if (cl->cmd != NULL)
		o = lname != NULL ? find_long(cl->cmd->opts, lname, len) :
		    find_short(cl->cmd->opts, c);
	if (o == NULL)
		o = lname != NULL ? find_long(global_opts, lname, len) :
		    find_short(global_opts, c);
	return o;
}

static void
record(struct cli_cmdline *cl, struct cli_config *cfg,
    const struct cli_optspec *o, const char *arg)
{
	switch (o->id) {
	case GOPT_SERVER:	cfg->server = arg; return;
	case GOPT_IDENTITY:	cfg->identity = arg; return;
	case GOPT_KNOWN_HOSTS:	cfg->known_hosts = arg; return;
	case GOPT_HOST_KEY:	cfg->host_key = arg; return;
	case GOPT_ACCEPT_NEW:	cfg->accept_new = 1; return;
	case GOPT_JSON:		cfg->json = 1; return;
	case GOPT_QUIET:	cfg->quiet = 1; return;
	case GOPT_HELP:		cl->help = 1; return;
	case GOPT_VERSION:	cl->version = 1; return;
	}
	cl->args.opt[cl->args.nopt].id = o->id;
	cl->args.opt[cl->args.nopt].arg = arg;
	cl->args.nopt++;
}

/* The command the words so far name, or a usage error. */
static int
command_word(struct cli_cmdline *cl, const char *w)
{
	const struct cli_command *c;
	int is_group = 0;

	if (cl->group == NULL) {
		if ((c = cli_command_find(w, NULL, &is_group)) != NULL)
			cl->cmd = c;
		else if (is_group)
			cl->group = w;
		else
			return cli_usage(NULL, "unknown command \"%s\"", w);
		return 0;
	}
	if ((c = cli_command_find(cl->group, w, NULL)) == NULL)
		return cli_usage_group(cl->group,
		    "unknown command \"%s %s\"", cl->group, w);
	cl->cmd = c;
	return 0;
}

int
cli_args_parse(int argc, char **argv, struct cli_config *cfg,
    struct cli_cmdline *cl)
{
	const struct cli_optspec *o;
	const char *a, *name, *eq, *arg;
	int i, j, dashdash = 0, r;
	size_t len;

	memset(cl, 0, sizeof(*cl));
	cl->args.pos = xcalloc((size_t)argc + 1, sizeof(char *));
	cl->args.opt = xcalloc((size_t)argc + 1, sizeof(struct cli_optval));

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			/* A word: command name, then positional argument. */
			if (cl->cmd == NULL) {
				if ((r = command_word(cl, a)) != 0)
					return r;
			} else
				cl->args.pos[cl->args.npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (a[1] == '-') {			/* --long[=arg] */
			name = a + 2;
			eq = strchr(name, '=');
			len = eq != NULL ? (size_t)(eq - name) : strlen(name);
			if ((o = lookup(cl, name, len, 0)) == NULL)
				return cli_usage(cl->cmd,
				    "unknown option --%.*s", (int)len, name);
			if (!o->has_arg) {
				if (eq != NULL)
					return cli_usage(cl->cmd, "option --%s "
					    "takes no argument", o->lname);
				arg = NULL;
			} else if (eq != NULL)
				arg = eq + 1;
			else if (i + 1 < argc)
				arg = argv[++i];
			else
				return cli_usage(cl->cmd, "option --%s needs "
				    "an argument", o->lname);
			if (arg != NULL && *arg == '\0')
				return cli_usage(cl->cmd, "option --%s needs "
				    "a non-empty argument", o->lname);
			record(cl, cfg, o, arg);
			continue;
		}
		for (j = 1; a[j] != '\0'; j++) {	/* -abc, -oARG */
			if ((o = lookup(cl, NULL, 0, a[j])) == NULL) {
				if ((unsigned char)a[j] < 0x21 ||
				    (unsigned char)a[j] > 0x7e)
					return cli_usage(cl->cmd,
					    "unknown option in \"%s\"", a);
				return cli_usage(cl->cmd,
				    "unknown option -%c", a[j]);
			}
			if (!o->has_arg) {
				record(cl, cfg, o, NULL);
				continue;
			}
			if (a[j + 1] != '\0')
				arg = a + j + 1;
			else if (i + 1 < argc)
				arg = argv[++i];
			else
				return cli_usage(cl->cmd, "option -%c needs "
				    "an argument", o->sname);
			if (*arg == '\0')
				return cli_usage(cl->cmd, "option -%c needs "
				    "a non-empty argument", o->sname);
			record(cl, cfg, o, arg);
			break;
		}
	}
	return 0;
}

void
cli_args_free(struct cli_args *a)
{
	free(a->pos);
	free(a->opt);
	a->pos = NULL;
	a->opt = NULL;
	a->npos = a->nopt = 0;
}

int
cli_arg_count(const struct cli_args *a, int id)
{
	int i, n = 0;

	for (i = 0; i < a->nopt; i++)
		if (a->opt[i].id == id)
			n++;
	return n;
}

const char *
cli_arg_nth(const struct cli_args *a, int id, int n)
{
	int i;

	for (i = 0; i < a->nopt; i++)
		if (a->opt[i].id == id && n-- == 0)
			return a->opt[i].arg;
	return NULL;
}

const char *
cli_arg_last(const struct cli_args *a, int id)
{
	int i;

	for (i = a->nopt - 1; i >= 0; i--)
		if (a->opt[i].id == id)
			return a->opt[i].arg;
	return NULL;
}

int
cli_parse_num(const char *s, long long min, long long max, long long *out)
{
	long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cli_arg_path(const char *s, json_t **out)
{
	struct sd_path p;
	const char *why = "invalid path";

	*out = NULL;
	if (path_parse(s, &p, &why) != 0)
		return cli_err(SD_EBADREQ, "invalid path \"%s\": %s", s, why);
	*out = path_to_json(&p);
	path_free(&p);
	if (*out == NULL)
		return cli_err(SD_EINTERNAL, "cannot build path \"%s\"", s);
	return 0;
}
