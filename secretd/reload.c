/*
 * reload.c - the configuration reload of reload.h.
 *
 * Which settings apply without a restart is said once, by the
 * CONFIG_RESTART flag in config.c's table.
 *
 * Many threads read ctx->cfg without a lock, so a reload never changes a
 * configuration in place: it parses a new one, copies into it the
 * settings that need a restart (so that what is published describes
 * the running daemon), and swaps the pointer.  The configurations it
 * replaced are kept until exit, since a request may still hold one; only
 * a reload that changes something publishes, so they are few.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reload.h"
#include "xmalloc.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct config **published;
static size_t npublished;

/* Keep old's value of a setting fixed at start in c. */
static void
keep(struct config *c, const struct config *old, const struct config_key *s)
{
	char *base = (char *)c;
	const char *obase = (const char *)old;
	char **p;

	switch (s->kind) {
	case CONFIG_STRING:
	case CONFIG_GROUP:
		p = (char **)(base + s->off);
		free(*p);
		*p = *(char *const *)(obase + s->off) ?
		    xstrdup(*(char *const *)(obase + s->off)) : NULL;
		return;
	case CONFIG_INT:
	case CONFIG_BOOL:
		*(int *)(base + s->off) = *(const int *)(obase + s->off);
		return;
	case CONFIG_SIZE:
		*(size_t *)(base + s->off) = *(const size_t *)(obase + s->off);
		return;
	case CONFIG_LEVEL:
		*(enum log_level *)(base + s->off) =
		    *(const enum log_level *)(obase + s->off);
		return;
	case CONFIG_USERS:
		memcpy(c->shell_uids, old->shell_uids, sizeof(c->shell_uids));
		c->n_shell_uids = old->n_shell_uids;
		return;
	}
}

void
reload_config(struct server_ctx *ctx)
{
	const struct config *old = ctx->cfg;
	struct config *c = xcalloc(1, sizeof(*c));
	char err[512], a[512], b[512];
	size_t i;
	int changed = 0;

	config_defaults(c);
	if (ctx->conf_path == NULL ||
	    config_load(c, ctx->conf_path, err, sizeof(err)) != 0) {
		log_error("configuration not reloaded, nothing changed: %s",
		    ctx->conf_path ? err : "no configuration file");
		config_free(c);
		free(c);
		return;
	}
	for (i = 0; i < config_nkeys; i++) {
		const struct config_key *s = &config_keys[i];

		config_format(old, s, a, sizeof(a));
		config_format(c, s, b, sizeof(b));
		if (strcmp(a, b) == 0)
			continue;
		if (s->flags & CONFIG_RESTART) {
			log_warn("%s changed: needs a restart (still %s)",
			    s->name, (s->flags & CONFIG_SECRET) ?
			    "the old one" : a);
			keep(c, old, s);
		} else {
			log_info("reloaded %s = %s", s->name, b);
			changed++;
		}
	}
	if (changed == 0) {
		log_info("configuration reloaded: no setting changed that "
		    "applies without a restart");
		config_free(c);
		free(c);
		return;
	}
	pthread_mutex_lock(&mu);
	published = xreallocarray(published, npublished + 1,
	    sizeof(*published));
	published[npublished++] = c;
	pthread_mutex_unlock(&mu);
	ctx->cfg = c;		/* an atomic store (request.h) */
	log_set_level(c->log_level);
	log_info("configuration reloaded: %d setting%s changed", changed,
	    changed == 1 ? "" : "s");
}

void
reload_free_all(void)
{
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < npublished; i++) {
		config_free(published[i]);
		free(published[i]);
	}
	free(published);
	published = NULL;
	npublished = 0;
	pthread_mutex_unlock(&mu);
}
