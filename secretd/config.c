/*
 * config.c - strict parser for secretd.conf.
 *
 * Format: "key = value" lines, '#' starts a comment line, blank lines are
 * ignored.  Every key is known, appears at most once, and its value is
 * range-checked here; nothing downstream re-validates.  Must never accept
 * a line it does not fully understand.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xmalloc.h"

#define CONFIG_MAX_FILE	(64 * 1024)
#define CONFIG_MAX_LINE	4096

#define F(m) offsetof(struct config, m)
#define RESTART	CONFIG_RESTART
#define SECRET	CONFIG_SECRET
/* The one table of settings (config.h); RESTART: fixed at start. */
const struct config_key config_keys[] = {
	{ "socket",		CONFIG_STRING, F(socket), 0, 0, RESTART },
	{ "socket_group",	CONFIG_GROUP, F(socket_group), 0, 0, RESTART },
	{ "shell_users",	CONFIG_USERS, 0, 0, 0, 0 },
	{ "database",		CONFIG_STRING, F(database), 0, 0,
				RESTART | SECRET },
	{ "admin_database",	CONFIG_STRING, F(admin_database), 0, 0,
				RESTART | SECRET },
	{ "pool_size",		CONFIG_INT, F(pool_size), 1, 64, RESTART },
	{ "keyring",		CONFIG_STRING, F(keyring), 0, 0, RESTART },
	{ "max_value_size",	CONFIG_SIZE, F(max_value_size), 1,
				1024 * 1024, 0 },
	{ "max_request_size",	CONFIG_SIZE, F(max_request_size), 1024,
				16 * 1024 * 1024, 0 },
	{ "max_versions",	CONFIG_INT, F(max_versions), 1, 1000, 0 },
	{ "max_connections",	CONFIG_INT, F(max_connections), 1, 4096, 0 },
	{ "idle_timeout",	CONFIG_INT, F(idle_timeout), 1, 3600, 0 },
	{ "enrol_unknown_keys",	CONFIG_BOOL, F(enrol_unknown_keys), 0, 0, 0 },
	{ "max_enrol_sessions",	CONFIG_INT, F(max_enrol_sessions), 1, 1024,
				0 },
	{ "enrol_session_lifetime", CONFIG_INT, F(enrol_session_lifetime),
				1, 3600, 0 },
	{ "enrol_max_request_size", CONFIG_SIZE, F(enrol_max_request_size),
				1024, 1024 * 1024, 0 },
	{ "max_sessions_per_principal", CONFIG_INT,
				F(max_sessions_per_principal), 1, 4096, 0 },
	{ "audit_syslog",	CONFIG_BOOL, F(audit_syslog), 0, 0, 0 },
	{ "log_level",		CONFIG_LEVEL, F(log_level), 0, 0, 0 },
};
const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);
#undef SECRET
#undef RESTART
#undef F

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->socket = xstrdup("/run/secretd/secretd.sock");
	c->database = xstrdup("dbname=secretd");
	c->keyring = xstrdup("/etc/secretd/keyring");
	c->pool_size = 8;
	c->max_value_size = 64 * 1024;
	c->max_request_size = 1024 * 1024;
	c->max_versions = 20;
	c->max_connections = 256;
	c->idle_timeout = 30;
	c->max_enrol_sessions = 16;
	c->enrol_session_lifetime = 30;
	c->enrol_max_request_size = 8 * 1024;
	c->max_sessions_per_principal = 0;	/* set at the end of parsing */
	c->log_level = LOG_LEVEL_INFO;
	c->n_shell_uids = -1;	/* "secret", resolved by config_load */
}

void
config_free(struct config *c)
{
	free(c->socket);
	free(c->socket_group);
	free(c->database);
	free(c->admin_database);
	free(c->keyring);
	memset(c, 0, sizeof(*c));
}

static void seterr(char *, size_t, const char *, int, const char *, ...)
    __attribute__((format(printf, 5, 6)));

static void
seterr(char *err, size_t errlen, const char *name, int line,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%d: %s", name, line, msg);
}

static int
parse_number(const char *v, long long min, long long max, long long *out)
{
	char *end;
	long long n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* Resolve one user name or numeric uid. */
static int
parse_uid(const char *s, uid_t *out)
{
	struct passwd *pw;
	long long n;

	if (parse_number(s, 0, UINT_MAX - 1, &n) == 0) {
		*out = (uid_t)n;
		return 0;
	}
	if ((pw = getpwnam(s)) == NULL)
		return -1;
	*out = pw->pw_uid;
	return 0;
}

static int
parse_users(struct config *c, const char *v, char *why, size_t whylen)
{
	char *copy = xstrdup(v), *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (n >= CONFIG_MAX_SHELL_USERS) {
			snprintf(why, whylen, "more than %d shell_users",
			    CONFIG_MAX_SHELL_USERS);
			free(copy);
			return -1;
		}
		if (parse_uid(tok, &c->shell_uids[n]) != 0) {
			snprintf(why, whylen, "unknown user \"%.64s\"", tok);
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	if (n == 0) {
		snprintf(why, whylen, "shell_users is empty");
		return -1;
	}
	c->n_shell_uids = n;
	return 0;
}

static int
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "on") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "off") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int
set_value(struct config *c, const struct config_key *k, const char *v,
    char *why, size_t whylen)
{
	char *base = (char *)c;
	long long n;

	switch (k->kind) {
	case CONFIG_STRING:
	case CONFIG_GROUP:
		if (*v == '\0') {
			snprintf(why, whylen, "%s needs a value", k->name);
			return -1;
		}
		if (k->kind == CONFIG_GROUP && getgrnam(v) == NULL) {
			snprintf(why, whylen, "unknown group \"%.64s\"", v);
			return -1;
		}
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = xstrdup(v);
		return 0;
	case CONFIG_INT:
	case CONFIG_SIZE:
		if (parse_number(v, k->min, k->max, &n) != 0) {
			snprintf(why, whylen,
			    "%s must be an integer from %lld to %lld",
			    k->name, k->min, k->max);
			return -1;
		}
		if (k->kind == CONFIG_INT)
			*(int *)(base + k->off) = (int)n;
		else
			*(size_t *)(base + k->off) = (size_t)n;
		return 0;
	case CONFIG_BOOL:
		if (parse_bool(v, (int *)(base + k->off)) != 0) {
			snprintf(why, whylen, "%s must be yes or no", k->name);
			return -1;
		}
		return 0;
	case CONFIG_LEVEL:
		if (log_level_parse(v, (enum log_level *)(base + k->off)) != 0) {
			snprintf(why, whylen,
			    "log_level must be debug, info, warn or error");
			return -1;
		}
		return 0;
	case CONFIG_USERS:
		return parse_users(c, v, why, whylen);
	}
	return -1;
}

void
config_format(const struct config *c, const struct config_key *k, char *out,
    size_t outlen)
{
	static const char *const levels[] = { "debug", "info", "warn",
	    "error" };
	const char *base = (const char *)c;
	const char *str;
	size_t n;
	int i;

	switch (k->kind) {
	case CONFIG_STRING:
	case CONFIG_GROUP:
		str = *(char *const *)(base + k->off);
		snprintf(out, outlen, "%s", str ? str : "");
		return;
	case CONFIG_INT:
		snprintf(out, outlen, "%d", *(const int *)(base + k->off));
		return;
	case CONFIG_SIZE:
		snprintf(out, outlen, "%zu", *(const size_t *)(base + k->off));
		return;
	case CONFIG_BOOL:
		snprintf(out, outlen, "%s", *(const int *)(base + k->off) ?
		    "yes" : "no");
		return;
	case CONFIG_LEVEL:
		i = (int)*(const enum log_level *)(base + k->off);
		snprintf(out, outlen, "%s", i >= 0 && i < 4 ? levels[i] : "?");
		return;
	case CONFIG_USERS:
		out[0] = '\0';
		for (n = 0, i = 0; i < c->n_shell_uids && n < outlen; i++)
			n += (size_t)snprintf(out + n, outlen - n, "%s%u",
			    i ? "," : "", (unsigned)c->shell_uids[i]);
		return;
	}
	snprintf(out, outlen, "?");
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
config_parse(struct config *c, const char *name, const char *text,
    char *err, size_t errlen)
{
	const size_t nkeys = sizeof(config_keys) / sizeof(config_keys[0]);
	unsigned char seen[sizeof(config_keys) / sizeof(config_keys[0])] = {
	    0 };
	const char *p = text, *nl;
	char buf[CONFIG_MAX_LINE], why[160];
	int lineno = 0;
	size_t i, len;

	while (*p != '\0') {
		char *line, *eq, *k, *v;

		lineno++;
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= sizeof(buf)) {
			seterr(err, errlen, name, lineno, "line too long");
			return -1;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		p += len + (nl ? 1 : 0);

		for (i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)buf[i];
			if ((ch < 0x20 && ch != '\t' && ch != '\r') ||
			    ch == 0x7f) {
				seterr(err, errlen, name, lineno,
				    "control character in line");
				return -1;
			}
		}
		line = trim(buf);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			seterr(err, errlen, name, lineno,
			    "expected \"key = value\"");
			return -1;
		}
		*eq = '\0';
		k = trim(line);
		v = trim(eq + 1);
		for (i = 0; i < nkeys; i++)
			if (strcmp(config_keys[i].name, k) == 0)
				break;
		if (i == nkeys) {
			seterr(err, errlen, name, lineno, "unknown key \"%.64s\"",
			    k);
			return -1;
		}
		if (seen[i]++) {
			seterr(err, errlen, name, lineno, "%s set twice", k);
			return -1;
		}
		if (set_value(c, &config_keys[i], v, why, sizeof(why)) != 0) {
			seterr(err, errlen, name, lineno, "%s", why);
			return -1;
		}
	}
	/* one principal may take half the daemon, never all of it */
	if (c->max_sessions_per_principal == 0)
		c->max_sessions_per_principal = c->max_connections / 2 > 0 ?
		    c->max_connections / 2 : 1;
	if (c->n_shell_uids < 0) {
		if (parse_uid("secret", &c->shell_uids[0]) != 0) {
			seterr(err, errlen, name, lineno,
			    "shell_users not set and no user \"secret\" exists");
			return -1;
		}
		c->n_shell_uids = 1;
	}
	return 0;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char *text;
	size_t n;
	int r;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = xmalloc(CONFIG_MAX_FILE + 1);
	n = fread(text, 1, CONFIG_MAX_FILE + 1, f);
	if (ferror(f) || n > CONFIG_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ?
		    "read error" : "file larger than 64 KiB");
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	text[n] = '\0';
	if (memchr(text, '\0', n) != NULL) {
		snprintf(err, errlen, "%s: NUL byte in file", path);
		free(text);
		return -1;
	}
	r = config_parse(c, path, text, err, errlen);
	free(text);
	return r;
}
