/*
 * osuser.c - a root process briefly acting as another OS user (see
 * osuser.h for why).  Never changes the real or saved uid.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "osuser.h"

int
osuser_become(const char *name, struct osuser_saved *s, char *err,
    size_t errlen)
{
	struct passwd *pw;
	gid_t groups[OSUSER_MAX_GROUPS];
	int n = OSUSER_MAX_GROUPS;

	memset(s, 0, sizeof(*s));
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, errlen, "no OS user \"%s\"", name);
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0;
	if (getgrouplist(name, pw->pw_gid, groups, &n) == -1)
		n = 1;		/* more than we keep: the primary group only */
	s->euid = geteuid();
	s->egid = getegid();
	if ((s->ngroups = getgroups(OSUSER_MAX_GROUPS, s->groups)) == -1) {
		snprintf(err, errlen, "getgroups: %s", strerror(errno));
		return -1;
	}
	s->active = 1;
	if (setgroups((size_t)n, groups) == -1 ||
	    setegid(pw->pw_gid) == -1 || seteuid(pw->pw_uid) == -1) {
		snprintf(err, errlen, "cannot act as user %s: %s", name,
		    strerror(errno));
		osuser_restore(s);
		return -1;
	}
	return 0;
}

void
osuser_restore(struct osuser_saved *s)
{
	if (!s->active)
		return;
	if (seteuid(s->euid) == -1 || setegid(s->egid) == -1 ||
	    setgroups((size_t)s->ngroups, s->groups) == -1)
		fatal("cannot return to uid %u: %s", (unsigned)s->euid,
		    strerror(errno));
	s->active = 0;
}

/* The value of keyword kw in conninfo, into buf; 0 if set, -1 if not. */
static int
conninfo_value(const char *conninfo, const char *kw, char *buf, size_t len)
{
	PQconninfoOption *opts, *o;
	int r = -1;

	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL)
		return -1;
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, kw) == 0 && o->val != NULL &&
		    o->val[0] != '\0' && strlen(o->val) < len) {
			snprintf(buf, len, "%s", o->val);
			r = 0;
		}
	PQconninfoFree(opts);
	return r;
}

PGconn *
osuser_pg_connect(const char *conninfo, char *err, size_t errlen)
{
	struct osuser_saved s = { 0 };
	char user[128], host[1024];
	PGconn *c;

	if (geteuid() == 0 &&
	    conninfo_value(conninfo, "user", user, sizeof(user)) == 0 &&
	    (conninfo_value(conninfo, "host", host, sizeof(host)) != 0 ||
	    host[0] == '/') && getpwnam(user) != NULL &&
	    osuser_become(user, &s, err, errlen) != 0) {
		osuser_restore(&s);
		return NULL;
	}
	c = db_connect_once(conninfo, err, errlen);
	osuser_restore(&s);
	return c;
}

int
osuser_shell_usable(const char *sh)
{
	size_t n = strlen(sh);

	return !(n == 0 || (n >= 7 && strcmp(sh + n - 7, "nologin") == 0) ||
	    (n >= 5 && strcmp(sh + n - 5, "false") == 0) ||
	    access(sh, X_OK) != 0);
}
