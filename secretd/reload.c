/*
 * reload.c - the configuration reload of reload.h.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reload.h"
#include "xmalloc.h"

enum kind { K_STR, K_INT, K_SIZE, K_BOOL, K_LEVEL, K_USERS };

struct setting {
	const char	*name;
	enum kind	 kind;
	size_t		 off;
	int		 restart;	/* fixed at start */
	int		 secret;	/* may hold a password: never logged */
};

#define F(m) offsetof(struct config, m)
static const struct setting settings[] = {
	{ "socket",			K_STR,	F(socket), 1, 0 },
	{ "socket_group",		K_STR,	F(socket_group), 1, 0 },
	{ "database",			K_STR,	F(database), 1, 1 },
	{ "admin_database",		K_STR,	F(admin_database), 1, 1 },
	{ "pool_size",			K_INT,	F(pool_size), 1, 0 },
	{ "keyring",			K_STR,	F(keyring), 1, 0 },
	{ "shell_users",		K_USERS, 0, 0, 0 },
	{ "max_value_size",		K_SIZE,	F(max_value_size), 0, 0 },
	{ "max_request_size",		K_SIZE,	F(max_request_size), 0, 0 },
	{ "max_versions",		K_INT,	F(max_versions), 0, 0 },
	{ "max_connections",		K_INT,	F(max_connections), 0, 0 },
	{ "idle_timeout",		K_INT,	F(idle_timeout), 0, 0 },
	{ "enrol_unknown_keys",		K_BOOL,	F(enrol_unknown_keys), 0, 0 },
	{ "max_enrol_sessions",		K_INT,	F(max_enrol_sessions), 0, 0 },
	{ "enrol_session_lifetime",	K_INT,	F(enrol_session_lifetime), 0,
					0 },
	{ "enrol_max_request_size",	K_SIZE,	F(enrol_max_request_size), 0,
					0 },
	{ "max_sessions_per_principal",	K_INT,	F(max_sessions_per_principal),
					0, 0 },
	{ "audit_syslog",		K_BOOL,	F(audit_syslog), 0, 0 },
	{ "log_level",			K_LEVEL, F(log_level), 0, 0 },
};
#undef F

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct config **published;
static size_t npublished;

/* The value of s in c, as secretd.conf would spell it. */
static void
format(const struct config *c, const struct setting *s, char *out,
    size_t outlen)
{
	static const char *const levels[] = { "debug", "info", "warn",
	    "error" };
	const char *base = (const char *)c;
	const char *str;
	size_t n;
	int i;

	switch (s->kind) {
	case K_STR:
		str = *(char *const *)(base + s->off);
		snprintf(out, outlen, "%s", str ? str : "");
		return;
	case K_INT:
		snprintf(out, outlen, "%d", *(const int *)(base + s->off));
		return;
	case K_SIZE:
		snprintf(out, outlen, "%zu", *(const size_t *)(base + s->off));
		return;
	case K_BOOL:
		snprintf(out, outlen, "%s", *(const int *)(base + s->off) ?
		    "yes" : "no");
		return;
	case K_LEVEL:
		i = (int)*(const enum log_level *)(base + s->off);
		snprintf(out, outlen, "%s", i >= 0 && i < 4 ? levels[i] : "?");
		return;
	case K_USERS:
		out[0] = '\0';
		for (n = 0, i = 0; i < c->n_shell_uids && n < outlen; i++)
			n += (size_t)snprintf(out + n, outlen - n, "%s%u",
			    i ? "," : "", (unsigned)c->shell_uids[i]);
		return;
	}
}

/* Keep old's value of a setting fixed at start in c. */
static void
keep(struct config *c, const struct config *old, const struct setting *s)
{
	char *base = (char *)c;
	const char *obase = (const char *)old;
	char **p;

	if (s->kind == K_STR) {
		p = (char **)(base + s->off);
		free(*p);
		*p = *(char *const *)(obase + s->off) ?
		    xstrdup(*(char *const *)(obase + s->off)) : NULL;
	} else if (s->kind == K_INT)
		*(int *)(base + s->off) = *(const int *)(obase + s->off);
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
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *s = &settings[i];

		format(old, s, a, sizeof(a));
		format(c, s, b, sizeof(b));
		if (strcmp(a, b) == 0)
			continue;
		if (s->restart) {
			log_warn("%s changed: needs a restart (still %s)",
			    s->name, s->secret ? "the old one" : a);
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
