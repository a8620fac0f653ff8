/*
 * cmd_fetch.c - fetch, exec and template (cmd_fetch.h): many secrets in
 * one SSH session, with secret.get_many (one request per prefix, one for
 * a list of paths), then written all at once or not at all.
 *
 * Everything is fetched before anything is written: an error anywhere (a
 * forbidden path, a value an env file cannot hold, two secrets claiming
 * one file name) leaves the destination as it was.  Values are written
 * only where the user pointed (a tree, an env file, a rendered file, a
 * command's environment) and every buffer that held one is wiped.  These
 * commands never print a response: --json changes nothing here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "proto.h"
#include "xmalloc.h"

#include "client/atomic.h"
#include "client/cmd_fetch.h"
#include "client/envname.h"
#include "client/input.h"
#include "client/onchange.h"
#include "client/output.h"
#include "client/template.h"
#include "client/wait.h"

#define WAIT_MAX	(7LL * 86400)
#define TEMPLATE_MAX	CLI_MAX_VALUE

const struct cli_optspec cli_opts_fetch[] = {
	{ "dest",	0, 1, OPT_FETCH_DEST },
	{ "env-file",	0, 1, OPT_FETCH_ENV_FILE },
	{ "env-prefix",	0, 1, OPT_FETCH_ENV_PREFIX },
	{ "mode",	0, 1, OPT_FETCH_MODE },
	{ "on-change",	0, 1, OPT_FETCH_ON_CHANGE },
	{ "owner",	0, 1, OPT_FETCH_OWNER },
	{ "prune",	0, 0, OPT_FETCH_PRUNE },
	{ "wait",	0, 1, OPT_FETCH_WAIT },
	{ "watch",	0, 0, OPT_FETCH_WATCH },
	CLI_OPT_END
};

const struct cli_optspec cli_opts_exec[] = {
	{ "env",	0, 1, OPT_FETCH_ENV },
	{ "env-prefix",	0, 1, OPT_FETCH_ENV_PREFIX },
	{ "prefix",	0, 1, OPT_FETCH_PREFIX },
	{ "wait",	0, 1, OPT_FETCH_WAIT },
	CLI_OPT_END
};

const struct cli_optspec cli_opts_template[] = {
	{ "mode",	0, 1, OPT_FETCH_MODE },
	{ "owner",	0, 1, OPT_FETCH_OWNER },
	{ "wait",	0, 1, OPT_FETCH_WAIT },
	CLI_OPT_END
};

/* One secret fetched by prefix. */
struct item {
	char		 *shown;	/* its full path "a/b/c", for messages */
	char		**names;	/* its path below the prefix */
	int		  n;
	unsigned char	 *val;		/* NUL-terminated past len */
	size_t		  len;
	char		 *env;		/* variable name (env file, exec) */
};

/* What one invocation asks, and the answers of the last attempt. */
struct fetch {
	json_t		**jprefix;	/* prefixes as JSON paths */
	char		**prefix_shown;
	int		  nprefix;
	json_t		 *jpaths;	/* a list of paths, or NULL */
	const char *const *path_shown;
	size_t		  npaths;

	struct item	 *items;	/* by prefix, in the server's order */
	size_t		  nitems;
	size_t		 *per_prefix;	/* items of each prefix */
	unsigned char	**pval;		/* by path: values */
	size_t		 *plen;
};

static void
item_clear(struct item *it)
{
	int k;

	free(it->shown);
	for (k = 0; k < it->n; k++)
		free(it->names[k]);
	free(it->names);
	freezero(it->val, it->len + 1);
	free(it->env);
	memset(it, 0, sizeof(*it));
}

/* Drop the answers (wiping the values). */
static void
fetch_clear(struct fetch *f)
{
	size_t i;

	for (i = 0; i < f->nitems; i++)
		item_clear(&f->items[i]);
	free(f->items);
	f->items = NULL;
	f->nitems = 0;
	if (f->pval != NULL)
		for (i = 0; i < f->npaths; i++)
			freezero(f->pval[i], f->plen[i] + 1);
	free(f->pval);
	free(f->plen);
	free(f->per_prefix);
	f->pval = NULL;
	f->plen = NULL;
	f->per_prefix = NULL;
}

static void
fetch_free(struct fetch *f)
{
	int i;

	fetch_clear(f);
	for (i = 0; i < f->nprefix; i++) {
		json_decref(f->jprefix[i]);
		free(f->prefix_shown[i]);
	}
	free(f->jprefix);
	free(f->prefix_shown);
	json_decref(f->jpaths);
}

/* The PREFIX arguments, parsed (bad_request reported for a bad one). */
static int
fetch_prefixes(struct fetch *f, char *const *args, int n)
{
	int i, st;

	f->jprefix = xcalloc((size_t)n + 1, sizeof(json_t *));
	f->prefix_shown = xcalloc((size_t)n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		if ((st = cli_arg_path(args[i], &f->jprefix[i])) != 0)
			return st;
		f->prefix_shown[i] = cli_printable_path(f->jprefix[i], "/");
		f->nprefix++;
	}
	return 0;
}

/* The error of a result entry, reported against its path. */
static int
item_error(const json_t *r, const char *shown)
{
	const json_t *e = json_object_get(r, "error");
	const json_t *code = json_object_get(e, "code");
	const json_t *msg = json_object_get(e, "message");
	int err = json_is_string(code) ?
	    sd_err_from_code(json_string_value(code)) : SD_EINTERNAL;

	if (err == SD_OK)
		err = SD_EINTERNAL;
	return cli_err(err, "%s: %s", shown, json_is_string(msg) ?
	    json_string_value(msg) : "(no message)");
}

/* "a/b/c" from a JSON path known to hold strings (raw, for messages). */
static char *
join_path(const json_t *path)
{
	size_t i, total = 1, o = 0, l;
	const json_t *v;
	char *s;

	json_array_foreach(path, i, v)
		total += json_string_length(v) + 1;
	s = xmalloc(total);
	json_array_foreach(path, i, v) {
		if (i > 0)
			s[o++] = '/';
		l = json_string_length(v);
		memcpy(s + o, json_string_value(v), l);
		o += l;
	}
	s[o] = '\0';
	return s;
}

/* "a/b/c" from n names. */
static char *
join_names(char *const *names, int n)
{
	size_t total = 1, o = 0, l;
	char *s;
	int k;

	for (k = 0; k < n; k++)
		total += strlen(names[k]) + 1;
	s = xmalloc(total);
	for (k = 0; k < n; k++) {
		if (k > 0)
			s[o++] = '/';
		l = strlen(names[k]);
		memcpy(s + o, names[k], l);
		o += l;
	}
	s[o] = '\0';
	return s;
}

/* Whether path (an array of strings) lies strictly below prefix. */
static int
below(const json_t *path, const json_t *prefix)
{
	size_t i, depth = json_array_size(prefix);
	const json_t *v;

	if (!json_is_array(path) || json_array_size(path) <= depth)
		return 0;
	json_array_foreach(path, i, v)
		if (!json_is_string(v))
			return 0;
	for (i = 0; i < depth; i++)
		if (!json_equal(json_array_get(path, i),
		    json_array_get(prefix, i)))
			return 0;
	return 1;
}

/* Every readable value below prefix i, appended to f->items. */
static int
get_prefix(struct cli_ctx *ctx, struct fetch *f, int i)
{
	const json_t *results, *r, *path;
	size_t k, depth = json_array_size(f->jprefix[i]), j;
	struct item it;
	const char *why;
	json_t *req, *resp;
	int st;

	req = json_pack("{s:s, s:O, s:b}", "action", "secret.get_many",
	    "prefix", f->jprefix[i], "recursive", 1);
	if ((st = cli_attempt_call(ctx, req, f->prefix_shown[i], &resp)) != 0)
		return st;
	results = json_object_get(resp, "results");
	if (!json_is_array(results)) {
		json_decref(resp);
		return cli_err(SD_EINTERNAL, "bad response: no results for %s",
		    f->prefix_shown[i]);
	}
	if (json_is_true(json_object_get(resp, "truncated"))) {
		json_decref(resp);
		return cli_err(SD_ETOOLARGE, "%s: the server sent only part of "
		    "the secrets below it (it caps one answer); fetch smaller "
		    "prefixes", f->prefix_shown[i]);
	}
	f->items = xreallocarray(f->items, f->nitems + json_array_size(
	    results) + 1, sizeof(*f->items));
	json_array_foreach(results, k, r) {
		path = json_object_get(r, "path");
		if (!below(path, f->jprefix[i])) {
			json_decref(resp);
			return cli_err(SD_EINTERNAL, "bad response: a result "
			    "outside %s", f->prefix_shown[i]);
		}
		memset(&it, 0, sizeof(it));
		it.shown = join_path(path);
		if (!json_is_true(json_object_get(r, "ok"))) {
			st = item_error(r, it.shown);
			item_clear(&it);
			json_decref(resp);
			return st;
		}
		if (proto_get_value(r, PROTO_MAX_LINE_CAP, &it.val, &it.len,
		    &why) != 0) {
			st = cli_err(SD_EINTERNAL, "bad response for %s: %s",
			    it.shown, why);
			item_clear(&it);
			json_decref(resp);
			return st;
		}
		it.n = (int)(json_array_size(path) - depth);
		it.names = xcalloc((size_t)it.n, sizeof(char *));
		for (j = depth; j < json_array_size(path); j++)
			it.names[j - depth] = xstrdup(json_string_value(
			    json_array_get(path, j)));
		f->items[f->nitems++] = it;
		f->per_prefix[i]++;
	}
	json_decref(resp);
	return 0;
}

/* The values of the listed paths, one request; any error fails. */
static int
get_paths(struct cli_ctx *ctx, struct fetch *f)
{
	const json_t *results, *r;
	const char *why;
	json_t *req, *resp;
	size_t i;
	int st;

	req = json_pack("{s:s, s:O}", "action", "secret.get_many", "paths",
	    f->jpaths);
	if ((st = cli_attempt_call(ctx, req, NULL, &resp)) != 0)
		return st;
	results = json_object_get(resp, "results");
	if (!json_is_array(results) || json_array_size(results) != f->npaths) {
		json_decref(resp);
		return cli_err(SD_EINTERNAL, "bad response: not one result "
		    "per path");
	}
	f->pval = xcalloc(f->npaths, sizeof(*f->pval));
	f->plen = xcalloc(f->npaths, sizeof(*f->plen));
	json_array_foreach(results, i, r) {
		if (!json_is_true(json_object_get(r, "ok"))) {
			st = item_error(r, f->path_shown[i]);
			json_decref(resp);
			return st;
		}
		if (proto_get_value(r, PROTO_MAX_LINE_CAP, &f->pval[i],
		    &f->plen[i], &why) != 0) {
			json_decref(resp);
			return cli_err(SD_EINTERNAL, "bad response for %s: %s",
			    f->path_shown[i], why);
		}
	}
	json_decref(resp);
	return 0;
}

/* One attempt (wait.h): everything asked in the one session. */
static int
fetch_attempt(struct cli_ctx *ctx, void *arg)
{
	struct fetch *f = arg;
	int i, st;

	fetch_clear(f);
	f->per_prefix = xcalloc((size_t)f->nprefix + 1, sizeof(size_t));
	if (f->npaths > 0 && (st = get_paths(ctx, f)) != 0)
		return st;
	for (i = 0; i < f->nprefix; i++)
		if ((st = get_prefix(ctx, f, i)) != 0)
			return st;
	return 0;
}

static int
parse_wait(struct cli_ctx *ctx, const struct cli_args *a, long long *wait_s)
{
	const char *ws = cli_arg_last(a, OPT_FETCH_WAIT);

	*wait_s = 0;
	if (ws != NULL && cli_parse_duration(ws, 0, WAIT_MAX, wait_s) != 0)
		return cli_usage(ctx->cmd, "--wait wants a duration such as "
		    "30s, 5m or 1h, not \"%s\"", ws);
	return 0;
}

static int
parse_mode_owner(struct cli_ctx *ctx, const struct cli_args *a,
    mode_t *mode, struct cli_owner *owner)
{
	const char *ms = cli_arg_last(a, OPT_FETCH_MODE);
	const char *os = cli_arg_last(a, OPT_FETCH_OWNER), *why;

	owner->uid = (uid_t)-1;
	owner->gid = (gid_t)-1;
	if (ms != NULL && cli_parse_mode(ms, mode) != 0)
		return cli_usage(ctx->cmd, "--mode wants octal permissions "
		    "such as 0400 or 0640, not \"%s\"", ms);
	if (os != NULL && cli_parse_owner(os, owner, &why) != 0)
		return cli_usage(ctx->cmd, "--owner \"%s\": %s (want USER, "
		    "USER:GROUP or :GROUP)", os, why);
	return 0;
}

/* Component-wise order of name lists; a list sorts before its extensions. */
static int
cmp_items(const void *x, const void *y)
{
	const struct item *a = *(const struct item *const *)x;
	const struct item *b = *(const struct item *const *)y;
	int k, c;

	for (k = 0; k < a->n && k < b->n; k++)
		if ((c = strcmp(a->names[k], b->names[k])) != 0)
			return c;
	return (a->n > b->n) - (a->n < b->n);
}

static int
cmp_env(const void *x, const void *y)
{
	const struct item *a = *(const struct item *const *)x;
	const struct item *b = *(const struct item *const *)y;

	return strcmp(a->env, b->env);
}

/* The items sorted with cmp, as a new array of pointers. */
static struct item **
sorted(struct fetch *f, int (*cmp)(const void *, const void *))
{
	struct item **v = xcalloc(f->nitems + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < f->nitems; i++)
		v[i] = &f->items[i];
	qsort(v, f->nitems, sizeof(*v), cmp);
	return v;
}

static char *
strip_slashes(const char *s)
{
	char *p = xstrdup(s);
	size_t l = strlen(p);

	while (l > 1 && p[l - 1] == '/')
		p[--l] = '\0';
	return p;
}

/* fetch --dest: the tree below each prefix, switched in at once. */
static int
write_dest(struct cli_ctx *ctx, struct fetch *f, const char *dest,
    mode_t mode, const struct cli_owner *owner, int prune)
{
	struct cli_tree_file *files;
	struct item **v;
	size_t i, kept = 0;
	char *dir, *rel;
	int k, st = 0;

	for (i = 0; i < f->nitems; i++)
		for (k = 0; k < f->items[i].n; k++)
			if (!cli_safe_name(f->items[i].names[k]))
				return cli_err(SD_EBADREQ, "%s: the name \"%s\" "
				    "cannot be a file name (it is . or .. or "
				    "holds a /); nothing written",
				    f->items[i].shown, f->items[i].names[k]);
	v = sorted(f, cmp_items);
	for (i = 0; i + 1 < f->nitems; i++) {
		if (cmp_items(&v[i], &v[i + 1]) == 0) {
			rel = join_names(v[i]->names, v[i]->n);
			st = cli_err(SD_EBADREQ, "%s and %s would both be the "
			    "file %s/%s; nothing written", v[i]->shown,
			    v[i + 1]->shown, dest, rel);
			free(rel);
			goto out;
		}
		if (v[i]->n < v[i + 1]->n) {
			for (k = 0; k < v[i]->n; k++)
				if (strcmp(v[i]->names[k],
				    v[i + 1]->names[k]) != 0)
					break;
			if (k == v[i]->n) {
				st = cli_err(SD_EBADREQ, "%s holds a value and "
				    "has secrets below it (%s): a file cannot "
				    "also be a directory; nothing written",
				    v[i]->shown, v[i + 1]->shown);
				goto out;
			}
		}
	}
	files = xcalloc(f->nitems + 1, sizeof(*files));
	for (i = 0; i < f->nitems; i++) {
		files[i].names = v[i]->names;
		files[i].n = v[i]->n;
		files[i].val = v[i]->val;
		files[i].len = v[i]->len;
	}
	st = cli_atomic_write_tree(ctx->cfg, dest, files, f->nitems, mode,
	    owner, prune, &kept);
	free(files);
	if (st == 0) {
		dir = strip_slashes(dest);
		cli_warn_not_tmpfs(ctx->cfg, dir);
		free(dir);
		if (kept > 0)
			cli_info(ctx->cfg, "wrote %zu secret%s to %s (kept %zu "
			    "earlier entr%s; --prune drops them)", f->nitems,
			    f->nitems == 1 ? "" : "s", dest, kept,
			    kept == 1 ? "y" : "ies");
		else
			cli_info(ctx->cfg, "wrote %zu secret%s to %s",
			    f->nitems, f->nitems == 1 ? "" : "s", dest);
	}
 out:
	free(v);
	return st;
}

/*
 * The variable name of every item (P put in front when --env-prefix P),
 * a name on the deny-list (envname.h), and the first clash of two.
 * hint says how to go on, tail what became of the target.
 */
static int
name_items(struct fetch *f, const char *envprefix, const char *hint,
    const char *tail, struct item ***out)
{
	const struct cli_env_deny *d;
	struct item **v;
	size_t i, pl = envprefix != NULL ? strlen(envprefix) : 0, l;
	char *name;
	int st;

	for (i = 0; i < f->nitems; i++) {
		name = cli_env_name((const char *const *)f->items[i].names,
		    f->items[i].n);
		if (pl > 0) {
			l = strlen(name);
			f->items[i].env = xmalloc(pl + l + 1);
			memcpy(f->items[i].env, envprefix, pl);
			memcpy(f->items[i].env + pl, name, l + 1);
			free(name);
		} else
			f->items[i].env = name;
	}
	/* In the server's order, so that the first one named is stable. */
	for (i = 0; i < f->nitems; i++)
		if ((d = cli_env_name_denied(f->items[i].env)) != NULL)
			return cli_err(SD_EBADREQ, "%s would be the variable %s, "
			    "which is never set from a secret's name (%s: %s); "
			    "%s; %s", f->items[i].shown, f->items[i].env,
			    d->pattern, d->why, hint, tail);
	v = sorted(f, cmp_env);
	for (i = 0; i + 1 < f->nitems; i++)
		if (strcmp(v[i]->env, v[i + 1]->env) == 0) {
			st = cli_err(SD_EBADREQ, "%s and %s would both be the "
			    "variable %s; %s", v[i]->shown, v[i + 1]->shown,
			    v[i]->env, tail);
			free(v);
			return st;
		}
	*out = v;
	return 0;
}

/* The --env-prefix given (NULL if none), or a usage error. */
static int
parse_env_prefix(struct cli_ctx *ctx, const struct cli_args *a,
    const char **out)
{
	const char *p = cli_arg_last(a, OPT_FETCH_ENV_PREFIX), *why;
	const struct cli_env_deny *d;

	*out = p;
	if (p == NULL)
		return 0;
	if ((why = cli_env_prefix_problem(p, &d)) == NULL)
		return 0;
	if (d != NULL)
		return cli_usage(ctx->cmd, "--env-prefix \"%s\": %s (%s: %s)",
		    p, why, d->pattern, d->why);
	return cli_usage(ctx->cmd, "--env-prefix \"%s\": %s", p, why);
}

/* fetch --env-file: NAME='value' lines, written at once. */
static int
write_env_file(struct cli_ctx *ctx, struct fetch *f, const char *file,
    const char *envprefix, mode_t mode, const struct cli_owner *owner)
{
	struct item **v;
	const char *why;
	unsigned char *buf;
	size_t i, total = 1, o = 0, l;
	int st;

	for (i = 0; i < f->nitems; i++)
		if ((why = cli_env_value_problem(f->items[i].val,
		    f->items[i].len)) != NULL)
			return cli_err(SD_EBADREQ, "%s cannot be written to an "
			    "env file: %s; nothing written", f->items[i].shown,
			    why);
	if ((st = name_items(f, envprefix, "--env-prefix P puts every "
	    "name under P", "nothing written", &v)) != 0)
		return st;
	for (i = 0; i < f->nitems; i++)
		total += strlen(v[i]->env) + v[i]->len + 4;
	buf = xmalloc(total);
	for (i = 0; i < f->nitems; i++) {
		l = strlen(v[i]->env);
		memcpy(buf + o, v[i]->env, l);
		o += l;
		memcpy(buf + o, "='", 2);
		o += 2;
		memcpy(buf + o, v[i]->val, v[i]->len);
		o += v[i]->len;
		memcpy(buf + o, "'\n", 2);
		o += 2;
	}
	free(v);
	st = cli_atomic_write_file(file, buf, o, mode, owner);
	freezero(buf, total);
	if (st == 0)
		cli_warn_not_tmpfs(ctx->cfg, file);
	if (st == 0)
		cli_info(ctx->cfg, "wrote %zu variable%s to %s", f->nitems,
		    f->nitems == 1 ? "" : "s", file);
	return st;
}

/* ---- fetch --watch ------------------------------------------------- */

#define WATCH_PING_MS		(60 * 1000)	/* quiet this long: whoami */
#define WATCH_SETTLE_MS		200	/* events this close: one re-fetch */
#define WATCH_BACKOFF_FIRST_MS	500
#define WATCH_BACKOFF_MAX_MS	(30 * 1000)

/* Where and how fetch --watch writes, and what it remembers. */
struct watch_out {
	const char		*dest, *envf, *envprefix;
	mode_t			 mode;
	struct cli_owner	 owner;
	int			 prune;
	char			**on_change;	/* argv, or NULL */
	int			 written;	/* something was switched in */
	unsigned char		 last[crypto_generichash_BYTES];
};

/* What a set of answers would write: its paths and values, hashed. */
static void
content_hash(const struct fetch *f, unsigned char *out)
{
	crypto_generichash_state st;
	unsigned char n[8];
	size_t i;
	int k;

	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
	for (i = 0; i < f->nitems; i++) {
		for (k = 0; k < 8; k++)
			n[k] = (unsigned char)(f->items[i].len >> (8 * k));
		crypto_generichash_update(&st, (const unsigned char *)
		    f->items[i].shown, strlen(f->items[i].shown) + 1);
		crypto_generichash_update(&st, n, sizeof(n));
		crypto_generichash_update(&st, f->items[i].val,
		    f->items[i].len);
	}
	crypto_generichash_final(&st, out, crypto_generichash_BYTES);
}

/* secret.watch on every prefix, in this session. */
static int
watch_subscribe(struct cli_ctx *ctx, const struct fetch *f)
{
	json_t *req, *prefixes = json_array(), *resp;
	int i, st;

	for (i = 0; i < f->nprefix; i++)
		json_array_append(prefixes, f->jprefix[i]);
	req = json_pack("{s:s, s:o}", "action", "secret.watch", "prefixes",
	    prefixes);
	if ((st = cli_attempt_call(ctx, req, "watch", &resp)) != 0)
		return st;
	json_decref(resp);
	return 0;
}

/* Fetch everything again; switch it in and run --on-change when it
 * differs from what was written last. */
static int
watch_refresh(struct cli_ctx *ctx, struct fetch *f, struct watch_out *wo)
{
	unsigned char h[crypto_generichash_BYTES];
	int st;

	if ((st = fetch_attempt(ctx, f)) != 0)
		return st;
	content_hash(f, h);
	if (wo->written && sodium_memcmp(h, wo->last, sizeof(h)) == 0)
		return 0;		/* nothing to switch */
	if (wo->dest != NULL)
		st = write_dest(ctx, f, wo->dest, wo->mode, &wo->owner,
		    wo->prune);
	else
		st = write_env_file(ctx, f, wo->envf, wo->envprefix, wo->mode,
		    &wo->owner);
	fetch_clear(f);
	if (st != 0)
		return st;
	memcpy(wo->last, h, sizeof(h));
	wo->written = 1;
	cli_watch_note(ctx->cfg, "switched in the secrets below %s%s",
	    f->prefix_shown[0], f->nprefix > 1 ? " and more" : "");
	if (wo->on_change != NULL)
		(void)cli_onchange_run(ctx->cfg, wo->on_change);
	return 0;
}

/* Run step (an attempt), its error report printed now and its code kept
 * in code ("" when none). */
static int
watch_step(struct cli_ctx *ctx, struct fetch *f, struct watch_out *wo,
    int (*step)(struct cli_ctx *, struct fetch *, struct watch_out *),
    char *code, size_t codelen)
{
	const char *c, *msg;
	int st;

	cli_err_capture(1);
	st = step(ctx, f, wo);
	c = cli_err_captured(&msg);
	snprintf(code, codelen, "%s", c != NULL ? c : "");
	cli_err_release();
	return st;
}

static int
step_subscribe(struct cli_ctx *ctx, struct fetch *f, struct watch_out *wo)
{
	(void)wo;
	return watch_subscribe(ctx, f);
}

/* A "closed" event: the server ends the watch (the key was revoked). */
static int
watch_closed(const json_t *ev)
{
	const json_t *e = json_object_get(ev, "error");
	const json_t *code = json_object_get(e, "code");
	const json_t *msg = json_object_get(e, "message");
	int err = json_is_string(code) ?
	    sd_err_from_code(json_string_value(code)) : SD_EUNAUTH;

	if (err == SD_OK)
		err = SD_EUNAUTH;
	return cli_err(err, "the server ended the watch: %s",
	    json_is_string(msg) ? json_string_value(msg) : "(no message)");
}

/*
 * Wait for the next change: 0 when something changed, else an exit
 * status (the session is lost: retried; *final when the watch ends).
 */
static int
watch_next(struct cli_ctx *ctx, int *final)
{
	json_t *ev, *req, *resp;
	int r, timeout = WATCH_PING_MS, changed = 0, err;

	for (;;) {
		r = cli_rpc_next_event(ctx->rpc, timeout, &ev);
		if (r == CLI_RPC_IDLE && changed)
			return 0;
		if (r == CLI_RPC_IDLE) {
			/* quiet for long: is the connection still there? */
			req = json_pack("{s:s}", "action", "whoami");
			if ((r = cli_rpc_request(ctx->rpc, req, &resp,
			    &err)) != 0)
				return r;
			if (err == SD_EUNAUTH) {
				*final = 1;
				r = cli_rpc_report(ctx->rpc, resp);
				json_decref(resp);
				return r;
			}
			json_decref(resp);
			continue;
		}
		if (r != 0)
			return r;
		if (ev != NULL && strcmp(json_string_value(json_object_get(ev,
		    "event")), "closed") == 0) {
			r = watch_closed(ev);
			json_decref(ev);
			*final = 1;
			return r;
		}
		json_decref(ev);
		/* a burst of changes (a batch, a tree deleted) is one fetch */
		changed = 1;
		timeout = WATCH_SETTLE_MS;
	}
}

/* One session of the watch, until it is lost (or the watch ends). */
static int
watch_session(struct cli_ctx *ctx, struct fetch *f, struct watch_out *wo,
    int *final, long long *step)
{
	char code[40];
	int st;

	if ((st = watch_step(ctx, f, wo, step_subscribe, code,
	    sizeof(code))) != 0) {
		*final = strcmp(code, "unavailable") != 0;
		return st;
	}
	for (;;) {
		st = watch_step(ctx, f, wo, watch_refresh, code, sizeof(code));
		if (st != 0 && strcmp(code, "unavailable") == 0)
			return st;
		if (st != 0 && !wo->written) {
			*final = 1;	/* as fetch without --watch */
			return st;
		}
		/* a later error keeps what was written: the next change
		 * may mend it */
		if (st != 0)
			cli_watch_note(ctx->cfg, "kept the secrets written "
			    "last; waiting for the next change");
		*step = WATCH_BACKOFF_FIRST_MS;
		if ((st = watch_next(ctx, final)) != 0)
			return st;
	}
}

static void
watch_sleep(long long ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * fetch --watch: subscribe, fetch, switch in; then re-fetch on every
 * change.  A lost session is opened again with backoff (0.5 s doubling
 * to 30 s, from the upper half of each step) and everything re-fetched.
 * Ends only on an error that a retry cannot mend (the key refused, say).
 */
static int
fetch_watch(struct cli_ctx *ctx, struct fetch *f, struct watch_out *wo)
{
	long long step = WATCH_BACKOFF_FIRST_MS, pause;
	int st, final;

	for (;;) {
		final = 0;
		st = watch_session(ctx, f, wo, &final, &step);
		if (final)
			return st;
		pause = step / 2 + (long long)randombytes_uniform(
		    (uint32_t)(step / 2 + 1));
		cli_watch_note(ctx->cfg, "watch: session lost; connecting "
		    "again in %lld.%01lld s", pause / 1000,
		    (pause % 1000) / 100);
		watch_sleep(pause);
		step = step * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS :
		    step * 2;
		cli_rpc_reset(ctx->rpc);
	}
}

int
cli_fetch(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *dest = cli_arg_last(a, OPT_FETCH_DEST);
	const char *envf = cli_arg_last(a, OPT_FETCH_ENV_FILE), *envprefix;
	int prune = cli_arg_count(a, OPT_FETCH_PRUNE) > 0, st, i;
	struct fetch f = { 0 };
	struct cli_owner owner;
	struct watch_out wo;
	const char *oc = cli_arg_last(a, OPT_FETCH_ON_CHANGE), *why;
	long long wait_s;
	mode_t mode = dest != NULL ? 0400 : 0600;

	memset(&wo, 0, sizeof(wo));
	if ((dest == NULL) == (envf == NULL))
		return cli_usage(ctx->cmd, "give one of --dest DIR and "
		    "--env-file FILE");
	if (oc != NULL && cli_arg_count(a, OPT_FETCH_WATCH) == 0)
		return cli_usage(ctx->cmd, "--on-change goes with --watch");
	if (oc != NULL && (wo.on_change = cli_onchange_parse(oc,
	    &why)) == NULL)
		return cli_usage(ctx->cmd, "--on-change \"%s\": %s", oc, why);
	if (prune && dest == NULL)
		return cli_usage(ctx->cmd, "--prune goes with --dest");
	if (cli_arg_count(a, OPT_FETCH_ENV_PREFIX) > 0 && envf == NULL)
		return cli_usage(ctx->cmd, "--env-prefix goes with --env-file");
	if ((st = parse_env_prefix(ctx, a, &envprefix)) != 0 ||
	    (st = parse_mode_owner(ctx, a, &mode, &owner)) != 0 ||
	    (st = parse_wait(ctx, a, &wait_s)) != 0)
		return st;
	if ((st = fetch_prefixes(&f, a->pos, a->npos)) != 0)
		goto out;
	if (cli_arg_count(a, OPT_FETCH_WATCH) > 0) {
		wo.dest = dest;
		wo.envf = envf;
		wo.envprefix = envprefix;
		wo.mode = mode;
		wo.owner = owner;
		wo.prune = prune;
		st = fetch_watch(ctx, &f, &wo);
		goto out;
	}
	if ((st = cli_retry(ctx, wait_s, fetch_attempt, &f)) != 0)
		goto out;
	for (i = 0; i < f.nprefix; i++)
		if (f.per_prefix[i] == 0)
			cli_warn(ctx->cfg, "no secret you may read below %s",
			    f.prefix_shown[i]);
	if (dest != NULL)
		st = write_dest(ctx, &f, dest, mode, &owner, prune);
	else
		st = write_env_file(ctx, &f, envf, envprefix, mode, &owner);
	if (st == 0)
		st = cli_flush_stdout();
 out:
	cli_onchange_free(wo.on_change);
	fetch_free(&f);
	return st;
}

/* One --env VAR=PATH of exec. */
struct envmap {
	char		*var;
	char		*path;		/* as given */
};

int
cli_exec(struct cli_ctx *ctx, const struct cli_args *a)
{
	int nenv = cli_arg_count(a, OPT_FETCH_ENV), i, j, st, saved;
	int nprefix = cli_arg_count(a, OPT_FETCH_PREFIX);
	char **prefixes = xcalloc((size_t)nprefix + 1, sizeof(char *));
	struct envmap *map = xcalloc((size_t)nenv + 1, sizeof(*map));
	const char **shown = xcalloc((size_t)nenv + 1, sizeof(char *));
	struct fetch f = { 0 };
	struct item **v = NULL;
	const char *s, *eq, *envprefix;
	long long wait_s;
	json_t *jp;
	size_t k;

	if (nenv + nprefix == 0) {
		st = cli_usage(ctx->cmd, "nothing to fetch: give --env "
		    "VAR=PATH or --prefix PREFIX");
		goto out;
	}
	if (cli_arg_count(a, OPT_FETCH_ENV_PREFIX) > 0 && nprefix == 0) {
		st = cli_usage(ctx->cmd, "--env-prefix goes with --prefix");
		goto out;
	}
	if ((st = parse_env_prefix(ctx, a, &envprefix)) != 0 ||
	    (st = parse_wait(ctx, a, &wait_s)) != 0)
		goto out;
	f.jpaths = json_array();
	for (i = 0; i < nenv; i++) {
		s = cli_arg_nth(a, OPT_FETCH_ENV, i);
		if ((eq = strchr(s, '=')) == NULL) {
			st = cli_usage(ctx->cmd, "--env wants VAR=PATH, not "
			    "\"%s\"", s);
			goto out;
		}
		map[i].var = xstrndup(s, (size_t)(eq - s));
		map[i].path = xstrdup(eq + 1);
		if (!cli_env_name_valid(map[i].var)) {
			st = cli_usage(ctx->cmd, "--env %s: \"%s\" is not a "
			    "variable name ([A-Za-z_][A-Za-z0-9_]*)", s,
			    map[i].var);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (strcmp(map[j].var, map[i].var) == 0) {
				st = cli_usage(ctx->cmd, "--env %s given twice",
				    map[i].var);
				goto out;
			}
		if ((st = cli_arg_path(map[i].path, &jp)) != 0)
			goto out;
		json_array_append_new(f.jpaths, jp);
		shown[i] = map[i].path;
	}
	f.npaths = (size_t)nenv;
	f.path_shown = shown;
	for (i = 0; i < nprefix; i++)
		prefixes[i] = (char *)cli_arg_nth(a, OPT_FETCH_PREFIX, i);
	if ((st = fetch_prefixes(&f, prefixes, nprefix)) != 0)
		goto out;
	if ((st = cli_retry(ctx, wait_s, fetch_attempt, &f)) != 0)
		goto out;

	/* Every value must fit in a C string. */
	for (k = 0; k < f.npaths; k++)
		if (memchr(f.pval[k], '\0', f.plen[k]) != NULL) {
			st = cli_err(SD_EBADREQ, "%s holds a NUL byte, which an "
			    "environment variable cannot; not run",
			    f.path_shown[k]);
			goto out;
		}
	for (k = 0; k < f.nitems; k++)
		if (memchr(f.items[k].val, '\0', f.items[k].len) != NULL) {
			st = cli_err(SD_EBADREQ, "%s holds a NUL byte, which an "
			    "environment variable cannot; not run",
			    f.items[k].shown);
			goto out;
		}
	if ((st = name_items(&f, envprefix, "--env-prefix P puts every name "
	    "under P, --env VAR=PATH names one", "not run", &v)) != 0)
		goto out;

	/* No session stays open in the command. */
	cli_rpc_free(ctx->rpc);
	ctx->rpc = cli_rpc_new(ctx->cfg);

	/* Derived names first, so that an explicit --env wins. */
	for (k = 0; k < f.nitems; k++)
		if (setenv(v[k]->env, (const char *)v[k]->val, 1) != 0)
			break;
	for (i = 0; i < nenv && k == f.nitems; i++)
		if (setenv(map[i].var, (const char *)f.pval[i], 1) != 0)
			break;
	if (k < f.nitems || i < nenv) {
		st = cli_err(SD_EINTERNAL, "cannot set the environment: %s",
		    strerror(errno));
		goto out;
	}
	free(v);
	v = NULL;
	fetch_free(&f);
	memset(&f, 0, sizeof(f));

	umask(ctx->cfg->umask_orig);
	fflush(stdout);
	fflush(stderr);
	execvp(a->pos[0], a->pos);
	saved = errno;
	umask(077);
	(void)cli_err(SD_EBADREQ, "cannot run %s: %s", a->pos[0],
	    strerror(saved));
	st = saved == ENOENT ? 127 : 126;	/* as env(1) */
 out:
	free(v);
	fetch_free(&f);
	for (i = 0; i < nenv; i++) {
		free(map[i].var);
		free(map[i].path);
	}
	free(map);
	free(shown);
	free(prefixes);
	return st;
}

/* Read a whole file ("-": stdin), at most cap bytes. */
static int
read_input(const char *file, size_t cap, unsigned char **out, size_t *len)
{
	const char *name = strcmp(file, "-") == 0 ? "stdin" : file;
	unsigned char *buf = xmalloc(cap + 2);
	size_t n = 0;
	ssize_t r;
	int fd = STDIN_FILENO, saved;

	if (strcmp(file, "-") != 0 &&
	    (fd = open(file, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0) {
		free(buf);
		return cli_err(SD_EBADREQ, "cannot open %s: %s", file,
		    strerror(errno));
	}
	for (;;) {
		r = read(fd, buf + n, cap + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n > cap)
			break;
	}
	saved = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	if (r < 0) {
		free(buf);
		return cli_err(SD_EBADREQ, "cannot read %s: %s", name,
		    strerror(saved));
	}
	if (n > cap) {
		free(buf);
		return cli_err(SD_ETOOLARGE, "%s is larger than %zu bytes",
		    name, cap);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int
cli_template(struct cli_ctx *ctx, const struct cli_args *a)
{
	const char *in = a->pos[0];
	const char *out = a->npos > 1 ? a->pos[1] : NULL;
	const char *inname = strcmp(in, "-") == 0 ? "stdin" : in;
	struct cli_tmpl *t = NULL;
	struct fetch f = { 0 };
	struct cli_owner owner;
	unsigned char *text = NULL, *res = NULL;
	size_t tlen = 0, rlen = 0, i;
	const char **shown = NULL;
	long long wait_s;
	mode_t mode = 0600;
	char err[512];
	json_t *jp;
	int st;

	if (out != NULL && strcmp(out, "-") == 0)
		out = NULL;
	if ((st = parse_mode_owner(ctx, a, &mode, &owner)) != 0 ||
	    (st = parse_wait(ctx, a, &wait_s)) != 0)
		return st;
	if (out == NULL && (cli_arg_count(a, OPT_FETCH_MODE) > 0 ||
	    cli_arg_count(a, OPT_FETCH_OWNER) > 0))
		return cli_usage(ctx->cmd, "--mode and --owner go with OUT");
	if ((st = read_input(in, TEMPLATE_MAX, &text, &tlen)) != 0)
		return st;
	if (cli_tmpl_parse(text, tlen, &t, err, sizeof(err)) != 0) {
		st = cli_err(SD_EBADREQ, "%s:%s", inname, err);
		goto out;
	}
	f.npaths = cli_tmpl_npaths(t);
	f.jpaths = json_array();
	shown = xcalloc(f.npaths + 1, sizeof(char *));
	for (i = 0; i < f.npaths; i++) {
		if ((st = cli_arg_path(cli_tmpl_path(t, i), &jp)) != 0)
			goto out;
		json_array_append_new(f.jpaths, jp);
		shown[i] = cli_tmpl_path(t, i);
	}
	f.path_shown = shown;
	if (f.npaths > 0 &&
	    (st = cli_retry(ctx, wait_s, fetch_attempt, &f)) != 0)
		goto out;
	res = cli_tmpl_render(t, f.pval, f.plen, &rlen);
	if (out != NULL)
		st = cli_atomic_write_file(out, res, rlen, mode, &owner);
	else if (fflush(stdout), cli_write_all(STDOUT_FILENO, res, rlen) != 0)
		st = cli_err(SD_EINTERNAL, "write to stdout: %s",
		    strerror(errno));
 out:
	freezero(res, rlen);
	fetch_free(&f);
	free(shown);
	cli_tmpl_free(t);
	free(text);
	return st;
}
