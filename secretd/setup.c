/*
 * setup.c - "secretd setup": a fresh host with a local PostgreSQL into a
 * working server (DESIGN §12).
 *
 * Steps, in order, each printing one line on stdout saying what it did
 * ("created ...", "kept ... (exists)"): the OS users, the PostgreSQL role
 * and database (or an existing database given with --database), the
 * configuration file, the schema, the keyring, the first administrator,
 * and sshd (snippet, sshd -t, reload).  Run again, every step finds its
 * work done and says so, and the last line says nothing changed.  A step
 * that cannot be done stops the run with one line on stderr naming the
 * step and the fix (exit 1); what earlier steps did stays, and running
 * setup again after the fix goes on from there.
 *
 * It must never overwrite a file it did not write in this run (an
 * existing secretd.conf, keyring or sshd snippet is kept, and said so),
 * never leave half a file (atomicfile.h), never write a password into
 * a file, and never run a shell: every program it runs gets its
 * arguments as they are (runcmd.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <shadow.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "actions.h"
#include "admin.h"
#include "atomicfile.h"
#include "config.h"
#include "crypto.h"
#include "osuser.h"
#include "runcmd.h"
#include "setup.h"
#include "sshd_setup.h"
#include "sshkey.h"
#include "xmalloc.h"

#define USERADD		"/usr/sbin/useradd"
#define USERMOD		"/usr/sbin/usermod"
#define SYSTEMCTL	"/bin/systemctl"
#define SNIPPET_MAX	(64 * 1024)

struct setup {
	/* options */
	const char	*conf;
	const char	*admin_key;
	const char	*admin;
	const char	*database;
	const char	*admin_database;
	const char	*pg_admin;
	const char	*db_name;
	const char	*db_role;
	const char	*user;
	const char	*login;
	const char	*keyring;
	const char	*socket;
	const char	*sshd;
	const char	*sshd_config;
	const char	*sshd_dir;
	const char	*sshd_pid_file;
	const char	*secret_shell;
	int		 no_reload;

	/* found or made on the way */
	int		 changed;	/* steps that changed something */
	struct sshkey_pub key;
	uid_t		 uid;		/* the daemon's user */
	gid_t		 gid;
	gid_t		 login_gid;	/* the login user's group */
	char		 login_group[64];
	char		*w_database;	/* conninfos for a new secretd.conf */
	char		*w_admin_database;
};

static void say(struct setup *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(const char *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* One line on stdout for a step; changed: it changed something. */
static void
say(struct setup *s, int changed, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	s->changed += changed != 0;
}

/* The one line of a step that cannot be done; returns -1. */
static int
fail(const char *step, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "secretd setup: %s: ", step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Run a system tool; -1 (said) when it fails. */
static int
tool(const char *step, char *const argv[])
{
	char out[1024], line[512];
	int st = run_cmd(argv, out, sizeof(out));

	if (st == 0)
		return 0;
	first_line(out, line, sizeof(line));
	return fail(step, "%s %s failed (%s): fix: run it by hand and see why",
	    argv[0], argv[1], line[0] ? line : "no message");
}

/* A PostgreSQL identifier we create: lower case, digits, '_'. */
static int
ident_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* A conninfo value, quoted when it needs to be. */
static char *
cq(const char *v)
{
	size_t i, n = strlen(v);
	char *out, *o;

	if (n > 0 && strcspn(v, " \t\n'\\=") == n)
		return xstrdup(v);
	o = out = xmalloc(2 * n + 3);
	*o++ = '\'';
	for (i = 0; i < n; i++) {
		if (v[i] == '\'' || v[i] == '\\')
			*o++ = '\\';
		*o++ = v[i];
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* ------------------------------------------------------------- users */

static int
locked_or_empty(const char *pw)
{
	return strcmp(pw, "") == 0 || strcmp(pw, "!") == 0 ||
	    strcmp(pw, "!!") == 0 || strcmp(pw, "!*") == 0;
}

/* The login user (DESIGN §2): a POSIX shell, password field "*". */
static int
setup_login_user(struct setup *s)
{
	struct passwd *pw;
	struct spwd *sp;
	struct group *gr;
	char *home, *add[] = { USERADD, "--system", "--user-group",
	    "--home-dir", NULL, "--create-home", "--shell", "/bin/sh",
	    "--comment", "secretd SSH login", (char *)s->login, NULL };
	char *star[] = { USERMOD, "-p", "*", (char *)s->login, NULL };

	if ((pw = getpwnam(s->login)) == NULL) {
		home = xasprintf("/var/lib/%s", s->login);
		add[4] = home;
		if (tool("login user", add) != 0 ||
		    tool("login user", star) != 0) {
			free(home);
			return -1;
		}
		free(home);
		if ((pw = getpwnam(s->login)) == NULL)
			return fail("login user", "%s made no user %s: fix: "
			    "create it by hand", USERADD, s->login);
		say(s, 1, "created user %s (shell /bin/sh, password \"*\")",
		    s->login);
	} else {
		if (!osuser_shell_usable(pw->pw_shell))
			return fail("login user", "user %s has shell \"%s\", "
			    "and sshd runs the forced command through it: "
			    "fix: usermod -s /bin/sh %s", s->login,
			    pw->pw_shell, s->login);
		if ((sp = getspnam(s->login)) == NULL)
			return fail("login user", "cannot read the password "
			    "field of user %s: fix: run setup as root",
			    s->login);
		if (locked_or_empty(sp->sp_pwdp)) {
			if (tool("login user", star) != 0)
				return -1;
			say(s, 1, "set the password field of user %s to \"*\" "
			    "(sshd refuses a locked \"!\" account)", s->login);
		} else if (strcmp(sp->sp_pwdp, "*") != 0)
			return fail("login user", "user %s has a password, and "
			    "must log in with keys only: fix: usermod -p '*' "
			    "%s", s->login, s->login);
		else
			say(s, 0, "kept user %s (exists; shell %s, password "
			    "\"*\")", s->login, pw->pw_shell);
	}
	s->login_gid = pw->pw_gid;
	if ((gr = getgrgid(pw->pw_gid)) == NULL ||
	    strlen(gr->gr_name) >= sizeof(s->login_group))
		return fail("login user", "user %s has no named group: fix: "
		    "give it one (usermod -g GROUP %s)", s->login, s->login);
	snprintf(s->login_group, sizeof(s->login_group), "%s", gr->gr_name);
	return 0;
}

static int
in_group(const char *user, gid_t base, gid_t g)
{
	gid_t groups[256];
	int i, n = 256;

	if (getgrouplist(user, base, groups, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == g)
			return 1;
	return 0;
}

/* The daemon's user: no login; a member of the login user's group, so
 * that it may give its socket to that group. */
static int
setup_daemon_user(struct setup *s)
{
	struct passwd *pw;
	char *home, *add[] = { USERADD, "--system", "--user-group",
	    "--home-dir", NULL, "--create-home", "--shell", "/usr/sbin/nologin",
	    "--comment", "secretd daemon", (char *)s->user, NULL };
	char *join[] = { USERMOD, "-a", "-G", s->login_group,
	    (char *)s->user, NULL };
	int made = 0;

	if ((pw = getpwnam(s->user)) == NULL) {
		home = xasprintf("/var/lib/%s", s->user);
		add[4] = home;
		if (tool("daemon user", add) != 0) {
			free(home);
			return -1;
		}
		free(home);
		if ((pw = getpwnam(s->user)) == NULL)
			return fail("daemon user", "%s made no user %s: fix: "
			    "create it by hand", USERADD, s->user);
		made = 1;
	}
	s->uid = pw->pw_uid;
	s->gid = pw->pw_gid;
	if (s->uid != 0 && !in_group(s->user, pw->pw_gid, s->login_gid)) {
		if (tool("daemon user", join) != 0)
			return -1;
		say(s, 1, "%s user %s in group %s (it gives its socket to that "
		    "group)", made ? "created" : "put", s->user,
		    s->login_group);
	} else if (made)
		say(s, 1, "created user %s", s->user);
	else
		say(s, 0, "kept user %s (exists)", s->user);
	return 0;
}

/* -------------------------------------------------------- PostgreSQL */

/* Run SQL with parameters; NULL and err on failure. */
static PGresult *
q(PGconn *c, const char *sql, int n, const char *const *v, char *err,
    size_t errlen)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	first_line(PQresultErrorMessage(r), err, errlen);
	PQclear(r);
	return NULL;
}

/* "SELECT ..." with one parameter: 1 if a row, 0 if none, -1 error. */
static int
exists(PGconn *c, const char *sql, const char *v, int *super, char *err,
    size_t errlen)
{
	PGresult *r = q(c, sql, 1, &v, err, errlen);
	int n;

	if (r == NULL)
		return -1;
	n = PQntuples(r) > 0;
	if (n && super != NULL)
		*super = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return n;
}

/* Run head + "a" + mid + "b" + tail, the identifiers quoted by libpq
 * (b may be NULL).  DDL takes no parameters. */
static int
ddl(PGconn *c, const char *head, const char *a, const char *mid,
    const char *b, const char *tail, char *err, size_t errlen)
{
	char *qa = PQescapeIdentifier(c, a, strlen(a));
	char *qb = b ? PQescapeIdentifier(c, b, strlen(b)) : NULL;
	char *sql;
	PGresult *r;

	if (qa == NULL || (b != NULL && qb == NULL)) {
		snprintf(err, errlen, "cannot quote an identifier");
		PQfreemem(qa);
		PQfreemem(qb);
		return -1;
	}
	sql = xasprintf("%s%s%s%s%s", head, qa, mid, qb ? qb : "", tail);
	r = q(c, sql, 0, NULL, err, errlen);
	free(sql);
	PQfreemem(qa);
	PQfreemem(qb);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

static int
setup_postgres(struct setup *s)
{
	const char *st = "PostgreSQL";
	char err[512], line[512], *host, *port, *db, *role, *su;
	PGconn *c;
	PGresult *r;
	int e, super = 0;

	if (s->database != NULL) {
		s->w_database = xstrdup(s->database);
		if (s->admin_database != NULL)
			s->w_admin_database = xstrdup(s->admin_database);
		say(s, 0, "using the database given with --database (no role "
		    "or database created)");
		return 0;
	}
	if (!ident_ok(s->db_name) || !ident_ok(s->db_role))
		return fail(st, "--db-name and --db-role take [a-z_][a-z0-9_]* "
		    "(at most 63): fix: choose such names");
	if ((c = osuser_pg_connect(s->pg_admin, err, sizeof(err))) == NULL) {
		first_line(strncmp(err, "database: ", 10) == 0 ? err + 10 :
		    err, line, sizeof(line));
		return fail(st, "cannot connect as a superuser (%s): fix: "
		    "install and start PostgreSQL (apt-get install "
		    "postgresql), or say how to reach it with --pg-admin "
		    "CONNINFO, or use an existing database with --database "
		    "CONNINFO", line);
	}
	if ((r = q(c, "SELECT rolsuper FROM pg_roles WHERE rolname = "
	    "current_user", 0, NULL, err, sizeof(err))) == NULL)
		goto dberr;
	super = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!super) {
		fail(st, "role %s is not a superuser: fix: give --pg-admin a "
		    "superuser's conninfo (the default is \"dbname=postgres "
		    "user=postgres\")", PQuser(c));
		PQfinish(c);
		return -1;
	}
	say(s, 0, "connected to PostgreSQL as %s (%s, port %s)", PQuser(c),
	    PQhost(c), PQport(c));

	/* the daemon's role: login, nothing else; migrate grants it the
	 * membership of secretd_runtime */
	e = exists(c, "SELECT rolsuper FROM pg_roles WHERE rolname = $1",
	    s->db_role, &super, err, sizeof(err));
	if (e < 0)
		goto dberr;
	if (e == 1 && super) {
		fail(st, "role %s is a superuser, and secretd must run with "
		    "least privilege: fix: ALTER ROLE %s NOSUPERUSER, or "
		    "choose another --db-role", s->db_role, s->db_role);
		PQfinish(c);
		return -1;
	}
	if (e == 1)
		say(s, 0, "kept role %s (exists)", s->db_role);
	else if (ddl(c, "CREATE ROLE ", s->db_role, " LOGIN NOSUPERUSER "
	    "NOCREATEDB NOCREATEROLE NOREPLICATION", NULL, "", err,
	    sizeof(err)) != 0)
		goto dberr;
	else
		say(s, 1, "created role %s (login, no other privilege)",
		    s->db_role);

	e = exists(c, "SELECT 1 FROM pg_database WHERE datname = $1",
	    s->db_name, NULL, err, sizeof(err));
	if (e < 0)
		goto dberr;
	if (e == 1)
		say(s, 0, "kept database %s (exists)", s->db_name);
	else if (ddl(c, "CREATE DATABASE ", s->db_name, "", NULL, "", err,
	    sizeof(err)) != 0 ||
	    ddl(c, "REVOKE ALL ON DATABASE ", s->db_name, " FROM PUBLIC",
	    NULL, "", err, sizeof(err)) != 0 ||
	    ddl(c, "GRANT CONNECT ON DATABASE ", s->db_name, " TO ",
	    s->db_role, "", err, sizeof(err)) != 0)
		goto dberr;
	else
		say(s, 1, "created database %s (owner %s; only %s and "
		    "superusers may connect)", s->db_name, PQuser(c),
		    s->db_role);

	/* No password is ever written: the daemon logs in as its role by
	 * peer authentication, and migrate (run as root) as the superuser
	 * by peer authentication too (osuser.h). */
	host = cq(PQhost(c));
	port = cq(PQport(c));
	db = cq(s->db_name);
	role = cq(s->db_role);
	su = cq(PQuser(c));
	s->w_database = xasprintf("host=%s port=%s dbname=%s user=%s", host,
	    port, db, role);
	s->w_admin_database = xasprintf("host=%s port=%s dbname=%s user=%s",
	    host, port, db, su);
	free(host);
	free(port);
	free(db);
	free(role);
	free(su);
	PQfinish(c);
	return 0;
dberr:
	PQfinish(c);
	return fail(st, "%s: fix: see PostgreSQL's message, or create the "
	    "role and database by hand and pass --database CONNINFO", err);
}

/* ------------------------------------------------------ configuration */

/* mkdir dir (one level) as root:group mode, if it is missing. */
static int
ensure_dir(struct setup *s, const char *step, const char *dir, uid_t uid,
    gid_t gid, mode_t mode)
{
	struct stat st;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return fail(step, "%s is not a directory: fix: move "
			    "it away", dir);
		return 0;
	}
	if (errno != ENOENT || mkdir(dir, mode) != 0 ||
	    chown(dir, uid, gid) != 0 || chmod(dir, mode) != 0)
		return fail(step, "cannot create directory %s: %s: fix: "
		    "create it, or choose another path", dir, strerror(errno));
	say(s, 1, "created directory %s (mode %04o)", dir, (unsigned)mode);
	return 0;
}

static int
one_line(const char *v)
{
	return strchr(v, '\n') == NULL && strchr(v, '\r') == NULL;
}

static int
setup_config(struct setup *s, struct config *cfg)
{
	const char *st = "config";
	char err[512], *dir, *copy, *text;
	struct group *gr;
	struct stat sb;
	int r;

	if (!one_line(s->w_database) || (s->w_admin_database != NULL &&
	    !one_line(s->w_admin_database)) || !one_line(s->keyring) ||
	    !one_line(s->socket) || s->socket[0] != '/' ||
	    s->keyring[0] != '/')
		return fail(st, "paths must be absolute, and no value may hold "
		    "a line break: fix: correct the options");
	copy = xstrdup(s->conf);
	dir = dirname(copy);
	r = ensure_dir(s, st, dir, s->uid, s->gid, 0700);
	free(copy);
	if (r != 0)
		return -1;
	if (lstat(s->conf, &sb) == 0) {
		say(s, 0, "kept %s (exists; its settings are used)", s->conf);
	} else {
		text = xasprintf("# secretd.conf(5), written by \"secretd "
		    "setup\".\n"
		    "socket = %s\n"
		    "socket_group = %s\n"
		    "shell_users = %s\n"
		    "database = %s\n"
		    "%s%s%s"
		    "keyring = %s\n", s->socket, s->login_group, s->login,
		    s->w_database,
		    s->w_admin_database ? "admin_database = " : "",
		    s->w_admin_database ? s->w_admin_database : "",
		    s->w_admin_database ? "\n" : "", s->keyring);
		/* excl: a file that appeared meanwhile is not replaced */
		r = atomic_write(s->conf, text, strlen(text), 0640, 0, s->gid,
		    1, err, sizeof(err));
		freezero_str(text);
		if (r != 0)
			return fail(st, "cannot write %s: fix: "
			    "check the directory, or choose another -c path",
			    err);
		gr = getgrgid(s->gid);
		say(s, 1, "wrote %s (mode 0640, group %s)", s->conf,
		    gr != NULL ? gr->gr_name : "?");
	}
	config_defaults(cfg);
	if (config_load(cfg, s->conf, err, sizeof(err)) != 0) {
		config_free(cfg);
		return fail(st, "%s: fix: correct it, or move it away and run "
		    "setup again", err);
	}
	return 0;
}

/* ------------------------------------------------------------ schema */

static int
setup_schema(struct setup *s, const struct config *cfg)
{
	int applied = 0, version = 0;

	if (admin_migrate_count(cfg, &applied, &version) != 0)
		return fail("schema", "migrations failed (the reason is "
		    "above): fix: check database and admin_database in %s",
		    s->conf);
	if (applied > 0)
		say(s, 1, "applied %d migration%s (schema version %d)", applied,
		    applied == 1 ? "" : "s", version);
	else
		say(s, 0, "kept the schema (version %d, up to date)", version);
	return 0;
}

/* ----------------------------------------------------------- keyring */

static int
setup_keyring(struct setup *s, const struct config *cfg)
{
	const char *st = "keyring", *path = cfg->keyring;
	char err[512];
	struct stat sb;

	if (lstat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode))
			return fail(st, "%s is not a regular file: fix: set "
			    "keyring to the file itself", path);
		if (sb.st_uid != s->uid || (sb.st_mode & 077) != 0)
			return fail(st, "%s has owner uid %u and mode %04o, and "
			    "secretd (user %s) needs it its own, mode 0400: "
			    "fix: chown %s %s; chmod 0400 %s", path,
			    (unsigned)sb.st_uid,
			    (unsigned)(sb.st_mode & 07777), s->user, s->user,
			    path, path);
		say(s, 0, "kept keyring %s (exists; owner %s, mode %04o)",
		    path, s->user, (unsigned)(sb.st_mode & 07777));
		return 0;
	}
	if (keyring_create(path, err, sizeof(err)) != 0)
		return fail(st, "%s: fix: check that its directory exists and "
		    "is writable", err);
	if (chown(path, s->uid, s->gid) != 0) {
		int e = errno;

		unlink(path);
		return fail(st, "cannot give %s to user %s: %s: fix: check the "
		    "file system", path, s->user, strerror(e));
	}
	say(s, 1, "created keyring %s (owner %s, mode 0400): back it up, "
	    "apart from the database backups", path, s->user);
	return 0;
}

/* ------------------------------------------------------- first admin */

static int
setup_admin(struct setup *s, const struct config *cfg)
{
	char why[512];
	int created;

	if (admin_ensure(cfg, s->admin, &s->key, &created, why,
	    sizeof(why)) != 0)
		return fail("first admin", "%s: fix: choose another --admin "
		    "NAME or --admin-key FILE, or add the key with the secret "
		    "client as an administrator", why);
	if (created)
		say(s, 1, "created admin %s (%s) in group admins", s->admin,
		    s->key.fp);
	else
		say(s, 0, "kept admin %s (exists, with this key, in group "
		    "admins)", s->admin);
	return 0;
}

/* -------------------------------------------------------------- sshd */

/* <prefix>/sbin/secretd -> <prefix>/libexec/secretd/secret-shell */
static char *
default_secret_shell(void)
{
	char exe[PATH_MAX], *d;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return xstrdup("/usr/local/libexec/secretd/secret-shell");
	exe[n] = '\0';
	d = dirname(dirname(exe));
	return xasprintf("%s/libexec/secretd/secret-shell",
	    strcmp(d, "/") == 0 ? "" : d);
}

/* Is pid an sshd?  Never signal anything else. */
static int
is_sshd(pid_t pid)
{
	char link[64], exe[PATH_MAX], *base;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	if ((n = readlink(link, exe, sizeof(exe) - 1)) <= 0)
		return 0;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	return strncmp(base != NULL ? base + 1 : exe, "sshd", 4) == 0;
}

static int
reload_sshd(struct setup *s)
{
	const char *st = "sshd reload";
	char *argv[] = { SYSTEMCTL, "reload", "ssh", NULL };
	char *text = NULL;
	size_t len;
	long pid;
	struct stat sb;

	if (s->no_reload) {
		say(s, 0, "skipped the sshd reload (--no-sshd-reload): reload "
		    "sshd yourself");
		return 0;
	}
	if (stat("/run/systemd/system", &sb) == 0) {
		if (tool(st, argv) != 0)
			return -1;
		say(s, 1, "reloaded sshd (systemctl reload ssh)");
		return 0;
	}
	if (read_small_file(s->sshd_pid_file, 64, &text, &len) != 0) {
		say(s, 0, "sshd is not running (no %s): it reads the new "
		    "configuration when it starts", s->sshd_pid_file);
		return 0;
	}
	pid = strtol(text, NULL, 10);
	free(text);
	if (pid <= 1 || !is_sshd((pid_t)pid))
		return fail(st, "%s names pid %ld, which is not sshd: fix: "
		    "reload sshd yourself (kill -HUP its pid)",
		    s->sshd_pid_file, pid);
	if (kill((pid_t)pid, SIGHUP) != 0)
		return fail(st, "cannot signal sshd (pid %ld): %s: fix: reload "
		    "sshd yourself", pid, strerror(errno));
	say(s, 1, "reloaded sshd (SIGHUP to pid %ld from %s)", pid,
	    s->sshd_pid_file);
	return 0;
}

static int
setup_sshd(struct setup *s, const struct config *cfg)
{
	const char *st = "sshd", *why;
	struct sshd_effective eff;
	char err[512], *path, *want, *have = NULL, *shell;
	char prog[PATH_MAX], sock[PATH_MAX];
	size_t hlen;
	int wrote = 0, args_ok = 0, r = -1;

	shell = s->secret_shell ? xstrdup(s->secret_shell) :
	    default_secret_shell();
	path = xasprintf("%s/secretd.conf", s->sshd_dir);
	want = NULL;
	if (access(s->sshd, X_OK) != 0) {
		fail(st, "no sshd at %s: fix: apt-get install openssh-server "
		    "(or give its path with --sshd)", s->sshd);
		goto out;
	}
	if (access(shell, X_OK) != 0) {
		fail(st, "no secret-shell at %s: fix: install it (make "
		    "install), or give its path with --secret-shell", shell);
		goto out;
	}
	if (sshd_safe_path(shell, err, sizeof(err)) != 0) {
		fail(st, "%s", err);
		goto out;
	}
	if ((want = sshd_snippet_render(s->login, shell, cfg->socket,
	    &why)) == NULL) {
		fail(st, "%s: fix: choose other paths", why);
		goto out;
	}
	if (access(s->sshd_dir, F_OK) != 0) {
		fail(st, "no directory %s: fix: create it and add \"Include "
		    "%s/*.conf\" at the top of %s, or give another with "
		    "--sshd-config-dir", s->sshd_dir, s->sshd_dir,
		    s->sshd_config);
		goto out;
	}
	if (read_small_file(path, SNIPPET_MAX, &have, &hlen) == 0) {
		if (strcmp(have, want) == 0)
			say(s, 0, "kept %s (up to date)", path);
		else
			say(s, 0, "kept %s (exists, and differs from what setup "
			    "would write: remove it and run setup again to "
			    "replace it)", path);
	} else if (errno != ENOENT) {
		fail(st, "cannot read %s: %s: fix: check it", path,
		    strerror(errno));
		goto out;
	} else if (atomic_write(path, want, strlen(want), 0644, 0, 0, 1, err,
	    sizeof(err)) != 0) {
		fail(st, "cannot write %s: fix: check the directory", err);
		goto out;
	} else {
		wrote = 1;
		say(s, 1, "installed %s (sshd snippet for user %s)", path,
		    s->login);
	}
	if (sshd_test(s->sshd, s->sshd_config, err, sizeof(err)) != 0) {
		if (wrote)
			unlink(path);
		fail(st, "sshd -t rejects %s (%s)%s: fix: correct the sshd "
		    "configuration and run setup again", s->sshd_config, err,
		    wrote ? "; the new snippet was removed" : "");
		goto out;
	}
	if (sshd_effective(s->sshd, s->sshd_config, s->login, &eff, err,
	    sizeof(err)) != 0) {
		fail(st, "sshd -T fails (%s): fix: correct the sshd "
		    "configuration", err);
		goto out;
	}
	if (eff.akc == NULL || sshd_akc_split(eff.akc, prog, sizeof(prog),
	    sock, sizeof(sock), &args_ok) != 0 || !args_ok ||
	    eff.expose == NULL || strcmp(eff.expose, "yes") != 0) {
		fail(st, "sshd does not apply %s to user %s (its "
		    "AuthorizedKeysCommand is \"%s\"): fix: add \"Include "
		    "%s/*.conf\" at the top of %s", path, s->login,
		    eff.akc ? eff.akc : "none", s->sshd_dir, s->sshd_config);
		sshd_effective_free(&eff);
		goto out;
	}
	sshd_effective_free(&eff);
	say(s, 0, "sshd -t accepts %s, and user %s gets the "
	    "AuthorizedKeysCommand", s->sshd_config, s->login);
	r = wrote ? reload_sshd(s) : 0;
	if (r == 0 && !wrote)
		say(s, 0, "no sshd reload needed (its configuration is "
		    "unchanged)");
out:
	free(have);
	free(want);
	free(path);
	free(shell);
	return r;
}

/* ------------------------------------------------------------ command */

static void
setup_usage(FILE *f)
{
	fprintf(f,
	    "usage: secretd [-c CONF] setup --admin-key FILE [--admin NAME]\n"
	    "           [--database CONNINFO [--admin-database CONNINFO]]\n"
	    "           [--pg-admin CONNINFO] [--db-name NAME] [--db-role NAME]\n"
	    "           [--user NAME] [--login-user NAME]\n"
	    "           [--keyring PATH] [--socket PATH]\n"
	    "           [--sshd PATH] [--sshd-config FILE] "
	    "[--sshd-config-dir DIR]\n"
	    "           [--sshd-pid-file FILE] [--secret-shell PATH] "
	    "[--no-sshd-reload]\n");
}

enum {
	O_ADMIN_KEY = 1000, O_ADMIN, O_DATABASE, O_ADMIN_DATABASE, O_PG_ADMIN,
	O_DB_NAME, O_DB_ROLE, O_USER, O_LOGIN, O_KEYRING, O_SOCKET, O_SSHD,
	O_SSHD_CONFIG, O_SSHD_DIR, O_SSHD_PID, O_SHELL, O_NO_RELOAD, O_HELP,
};

static const struct option setup_opts[] = {
	{ "admin-key", required_argument, NULL, O_ADMIN_KEY },
	{ "admin", required_argument, NULL, O_ADMIN },
	{ "database", required_argument, NULL, O_DATABASE },
	{ "admin-database", required_argument, NULL, O_ADMIN_DATABASE },
	{ "pg-admin", required_argument, NULL, O_PG_ADMIN },
	{ "db-name", required_argument, NULL, O_DB_NAME },
	{ "db-role", required_argument, NULL, O_DB_ROLE },
	{ "user", required_argument, NULL, O_USER },
	{ "login-user", required_argument, NULL, O_LOGIN },
	{ "keyring", required_argument, NULL, O_KEYRING },
	{ "socket", required_argument, NULL, O_SOCKET },
	{ "sshd", required_argument, NULL, O_SSHD },
	{ "sshd-config", required_argument, NULL, O_SSHD_CONFIG },
	{ "sshd-config-dir", required_argument, NULL, O_SSHD_DIR },
	{ "sshd-pid-file", required_argument, NULL, O_SSHD_PID },
	{ "secret-shell", required_argument, NULL, O_SHELL },
	{ "no-sshd-reload", no_argument, NULL, O_NO_RELOAD },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Where each option's value goes (offsets into struct setup). */
static const struct {
	int	 id;
	size_t	 off;
} setup_slots[] = {
	{ O_ADMIN_KEY, offsetof(struct setup, admin_key) },
	{ O_ADMIN, offsetof(struct setup, admin) },
	{ O_DATABASE, offsetof(struct setup, database) },
	{ O_ADMIN_DATABASE, offsetof(struct setup, admin_database) },
	{ O_PG_ADMIN, offsetof(struct setup, pg_admin) },
	{ O_DB_NAME, offsetof(struct setup, db_name) },
	{ O_DB_ROLE, offsetof(struct setup, db_role) },
	{ O_USER, offsetof(struct setup, user) },
	{ O_LOGIN, offsetof(struct setup, login) },
	{ O_KEYRING, offsetof(struct setup, keyring) },
	{ O_SOCKET, offsetof(struct setup, socket) },
	{ O_SSHD, offsetof(struct setup, sshd) },
	{ O_SSHD_CONFIG, offsetof(struct setup, sshd_config) },
	{ O_SSHD_DIR, offsetof(struct setup, sshd_dir) },
	{ O_SSHD_PID, offsetof(struct setup, sshd_pid_file) },
	{ O_SHELL, offsetof(struct setup, secret_shell) },
};

int
setup_main(const char *conf, int argc, char **argv)
{
	struct setup s = {
		.conf = conf, .admin = "admin",
		.pg_admin = "dbname=postgres user=postgres",
		.db_name = "secretd", .db_role = "secretd",
		.user = "secretd", .login = "secret",
		.keyring = "/etc/secretd/keyring",
		.socket = "/run/secretd/secretd.sock",
		.sshd = "/usr/sbin/sshd", .sshd_config = "/etc/ssh/sshd_config",
		.sshd_dir = "/etc/ssh/sshd_config.d",
		.sshd_pid_file = "/run/sshd.pid",
	};
	struct config cfg;
	char err[512], *sockdir;
	size_t i;
	int ch, r = 1, have_cfg = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", setup_opts, NULL)) != -1) {
		if (ch == O_HELP) {
			setup_usage(stdout);
			return 0;
		}
		if (ch == O_NO_RELOAD) {
			s.no_reload = 1;
			continue;
		}
		for (i = 0; i < sizeof(setup_slots) / sizeof(setup_slots[0]);
		    i++)
			if (setup_slots[i].id == ch)
				break;
		if (i == sizeof(setup_slots) / sizeof(setup_slots[0])) {
			setup_usage(stderr);
			return 2;
		}
		*(const char **)((char *)&s + setup_slots[i].off) = optarg;
	}
	if (optind != argc || s.admin_key == NULL) {
		fprintf(stderr, "secretd: setup needs --admin-key FILE%s\n",
		    optind != argc ? " and no other argument" : "");
		setup_usage(stderr);
		return 2;
	}
	if (s.admin_database != NULL && s.database == NULL) {
		fprintf(stderr, "secretd: setup: --admin-database goes with "
		    "--database\n");
		return 2;
	}
	if (geteuid() != 0) {
		fail("start", "setup creates users, writes to /etc and reloads "
		    "sshd: fix: run it as root");
		return 1;
	}
	if (!name_valid(s.admin)) {
		fail("first admin", "\"%s\" is not a principal name: fix: give "
		    "--admin a name matching [a-z0-9][a-z0-9._@-]{0,63}",
		    s.admin);
		return 1;
	}
	if (admin_read_pubkey(s.admin_key, &s.key, err, sizeof(err)) != 0) {
		fail("admin key", "%s: fix: give --admin-key an OpenSSH public "
		    "key file (ssh-keygen -y -f KEY > KEY.pub)", err);
		return 1;
	}
	if (setup_login_user(&s) != 0 || setup_daemon_user(&s) != 0 ||
	    setup_postgres(&s) != 0 || setup_config(&s, &cfg) != 0)
		goto out;
	have_cfg = 1;
	sockdir = xstrdup(cfg.socket);
	r = ensure_dir(&s, "socket", dirname(sockdir), s.uid, s.gid, 0755);
	free(sockdir);
	if (r != 0 || setup_schema(&s, &cfg) != 0 ||
	    setup_keyring(&s, &cfg) != 0 || setup_admin(&s, &cfg) != 0 ||
	    setup_sshd(&s, &cfg) != 0) {
		r = 1;
		goto out;
	}
	if (s.changed == 0)
		say(&s, 0, "nothing changed: this host was already set up");
	else
		say(&s, 0, "done: start secretd (systemctl enable --now "
		    "secretd), then check with \"secretd doctor\"");
	r = 0;
out:
	if (have_cfg)
		config_free(&cfg);
	sshkey_pub_free(&s.key);
	free(s.w_database);
	free(s.w_admin_database);
	return r;
}
