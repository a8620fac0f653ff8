/*
 * doctor.c - "secretd doctor": check a deployment (DESIGN §2, §6, §7)
 * and name each problem with its fix.
 *
 * One line per check on stdout, "ok   what" or "FAIL what: fix: how";
 * exit 0 when every check passed, 1 otherwise.  It changes nothing.
 *
 * The database checks run as the daemon's OS user (osuser.h), so they
 * see what the daemon sees: its role, its grants, its keyring.  The
 * audit chain is verified by the daemon's own audit.verify handler
 * (act_audit_verify), called here on a connection of our own rather
 * than over the socket: over the socket doctor would have to speak as
 * some principal holding the audit permission, and the trail would
 * record a verification that principal never asked for.  What only a
 * running daemon knows (the seals it wrote since it started) is not
 * checked here; `secret audit verify` checks that too.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <shadow.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "actions.h"
#include "admin.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "doctor.h"
#include "err.h"
#include "osuser.h"
#include "request.h"
#include "sshd_setup.h"
#include "store.h"
#include "xmalloc.h"

#define CLOCK_SKEW_MAX	5.0	/* seconds */
#define SHELL_DEFAULT_SOCKET	"/run/secretd/secretd.sock"

struct doctor {
	const char	*conf;
	const char	*sshd;
	const char	*sshd_config;
	const char	*login;
	const char	*user;
	struct config	 cfg;
	int		 fails;
};

static void ok(struct doctor *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void bad(struct doctor *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
ok(struct doctor *d, const char *fmt, ...)
{
	va_list ap;

	fputs("ok   ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A failed check: "FAIL what: fix: how" (fmt carries the fix). */
static void
bad(struct doctor *d, const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	d->fails++;
}

/* May uid (with its groups) do bits (4 read, 2 write, 1 search) on st? */
static int
may(const char *user, const struct passwd *pw, const struct stat *st,
    int bits)
{
	gid_t groups[256];
	int i, n = 256, mode = (int)st->st_mode;

	if (pw->pw_uid == 0)
		return 1;
	if (st->st_uid == pw->pw_uid)
		return ((mode >> 6) & bits) == bits;
	if (getgrouplist(user, pw->pw_gid, groups, &n) != -1)
		for (i = 0; i < n; i++)
			if (groups[i] == st->st_gid)
				return ((mode >> 3) & bits) == bits;
	return (mode & bits) == bits;
}

/* ------------------------------------------------------------- sshd */

static void
check_sshd(struct doctor *d)
{
	struct sshd_effective e;
	char err[512], prog[PATH_MAX], sock[PATH_MAX], first[PATH_MAX];
	const char *env_sock;
	int args_ok = 0;

	if (sshd_effective(d->sshd, d->sshd_config, d->login, &e, err,
	    sizeof(err)) != 0) {
		bad(d, "sshd: \"%s -T -f %s\" fails (%s): fix: correct the sshd "
		    "configuration (sshd -t -f %s says where)", d->sshd,
		    d->sshd_config, err, d->sshd_config);
		return;
	}
	if (e.akc == NULL || strcmp(e.akc, "none") == 0 ||
	    sshd_akc_split(e.akc, prog, sizeof(prog), sock, sizeof(sock),
	    &args_ok) != 0) {
		bad(d, "sshd: user %s has no AuthorizedKeysCommand: fix: "
		    "install the secretd sshd snippet (secretd setup, or "
		    "contrib/sshd_config.d-secretd.conf) and reload sshd",
		    d->login);
	} else if (!args_ok) {
		bad(d, "sshd: the AuthorizedKeysCommand of user %s (%s) does "
		    "not end in \"authorized-keys %%u %%t %%k\": fix: use the "
		    "line of the secretd sshd snippet", d->login, e.akc);
	} else if (strcmp(sock[0] ? sock : SHELL_DEFAULT_SOCKET,
	    d->cfg.socket) != 0) {
		bad(d, "sshd: the AuthorizedKeysCommand asks the socket %s, but "
		    "secretd listens on %s: fix: make its -S match socket in %s, "
		    "and reload sshd", sock[0] ? sock : SHELL_DEFAULT_SOCKET,
		    d->cfg.socket, d->conf);
	} else {
		ok(d, "sshd: user %s gets the AuthorizedKeysCommand %s",
		    d->login, prog);
		/* sshd checks the file it runs (which may be env) */
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(e.akc,
		    " \t"), e.akc);
		if (sshd_safe_path(first, err, sizeof(err)) != 0 ||
		    (strcmp(first, prog) != 0 &&
		    sshd_safe_path(prog, err, sizeof(err)) != 0))
			bad(d, "AuthorizedKeysCommand: %s", err);
		else
			ok(d, "AuthorizedKeysCommand %s and every directory "
			    "above it are root's, not group/world writable",
			    prog);
	}
	if (e.akc_user == NULL || strcmp(e.akc_user, d->login) != 0)
		bad(d, "sshd: the AuthorizedKeysCommandUser of user %s is %s: "
		    "fix: AuthorizedKeysCommandUser %s in the Match User %s "
		    "block", d->login, e.akc_user ? e.akc_user : "unset",
		    d->login, d->login);
	else
		ok(d, "sshd: AuthorizedKeysCommandUser %s", d->login);
	if (e.expose == NULL || strcmp(e.expose, "yes") != 0)
		bad(d, "sshd: ExposeAuthInfo is %s for user %s, so secret-shell "
		    "cannot learn which key sshd verified: fix: ExposeAuthInfo "
		    "yes in the Match User %s block, and reload sshd",
		    e.expose ? e.expose : "unset", d->login, d->login);
	else
		ok(d, "sshd: ExposeAuthInfo yes");
	if (e.ak_file == NULL || strcmp(e.ak_file, "none") != 0)
		bad(d, "sshd: AuthorizedKeysFile is \"%s\" for user %s, so keys "
		    "may come from a file as well as from secretd: fix: "
		    "AuthorizedKeysFile none in the Match User %s block",
		    e.ak_file ? e.ak_file : "unset", d->login, d->login);
	else
		ok(d, "sshd: AuthorizedKeysFile none (keys come only from "
		    "secretd)");
	if (e.permit_tty == NULL || strcmp(e.permit_tty, "no") != 0 ||
	    e.no_forwarding == NULL || strcmp(e.no_forwarding, "yes") != 0)
		bad(d, "sshd: user %s may get a terminal or forwarding "
		    "(PermitTTY %s, DisableForwarding %s): fix: PermitTTY no "
		    "and DisableForwarding yes in the Match User %s block",
		    d->login, e.permit_tty ? e.permit_tty : "unset",
		    e.no_forwarding ? e.no_forwarding : "unset", d->login);
	else
		ok(d, "sshd: no terminal and no forwarding for user %s (the "
		    "forced command and restrict come with each key line)",
		    d->login);
	env_sock = e.env_socket ? e.env_socket : SHELL_DEFAULT_SOCKET;
	if (strcmp(env_sock, d->cfg.socket) != 0)
		bad(d, "sshd: sessions of user %s look for secretd at %s, but "
		    "it listens on %s: fix: SetEnv SECRETD_SOCKET=%s in the "
		    "Match User %s block", d->login, env_sock, d->cfg.socket,
		    d->cfg.socket, d->login);
	else
		ok(d, "sshd: sessions find secretd at %s", env_sock);
	sshd_effective_free(&e);
}

/* ------------------------------------------------------- login user */

static void
check_login(struct doctor *d, const struct passwd *pw)
{
	struct spwd *sp;
	const char *f;
	int i;

	if ((sp = getspnam(d->login)) == NULL)
		bad(d, "login user %s: cannot read its password field: fix: "
		    "run doctor as root", d->login);
	else if (strcmp((f = sp->sp_pwdp), "*") == 0)
		ok(d, "login user %s: password field \"*\"", d->login);
	else if (f[0] == '!')
		bad(d, "login user %s is locked (password field \"%.2s...\"), "
		    "and sshd refuses a locked account even for keys: fix: "
		    "usermod -p '*' %s", d->login, f, d->login);
	else
		bad(d, "login user %s has %s password: fix: usermod -p '*' %s "
		    "(it logs in with keys only)", d->login,
		    f[0] ? "a" : "an empty", d->login);
	if (!osuser_shell_usable(pw->pw_shell))
		bad(d, "login user %s has shell \"%s\", and sshd runs the forced "
		    "command through it: fix: usermod -s /bin/sh %s", d->login,
		    pw->pw_shell, d->login);
	else
		ok(d, "login user %s: shell %s", d->login, pw->pw_shell);
	for (i = 0; i < d->cfg.n_shell_uids; i++)
		if (d->cfg.shell_uids[i] == pw->pw_uid)
			break;
	if (i == d->cfg.n_shell_uids)
		bad(d, "login user %s is not in shell_users, so secretd hangs "
		    "up on its secret-shell: fix: shell_users = %s in %s",
		    d->login, d->login, d->conf);
	else
		ok(d, "login user %s is in shell_users", d->login);
}

/* ------------------------------------------------------------ socket */

static void
check_socket(struct doctor *d, const struct passwd *login)
{
	char *copy = xstrdup(d->cfg.socket), *dir = dirname(copy);
	struct stat st;

	if (stat(dir, &st) != 0) {
		bad(d, "socket directory %s: %s: fix: start secretd (its unit "
		    "creates it), or: install -d -m 0755 -o %s %s", dir,
		    strerror(errno), d->user, dir);
		free(copy);
		return;
	}
	if ((st.st_mode & 022) != 0)
		bad(d, "socket directory %s is writable by group or others "
		    "(mode %04o), so others could put a socket of theirs in "
		    "secretd's place: fix: chmod 0755 %s", dir,
		    (unsigned)(st.st_mode & 07777), dir);
	else if (!may(d->login, login, &st, 1))
		bad(d, "socket directory %s: user %s cannot reach into it "
		    "(mode %04o): fix: chmod 0755 %s", dir, d->login,
		    (unsigned)(st.st_mode & 07777), dir);
	else
		ok(d, "socket directory %s (mode %04o)", dir,
		    (unsigned)(st.st_mode & 07777));
	free(copy);

	if (lstat(d->cfg.socket, &st) != 0 || !S_ISSOCK(st.st_mode))
		bad(d, "socket %s: %s, so secretd is not running: fix: start "
		    "it (systemctl start secretd; journalctl -u secretd says "
		    "why it stopped)", d->cfg.socket, errno == ENOENT ?
		    "missing" : "not a socket");
	else if ((st.st_mode & 007) != 0)
		bad(d, "socket %s may be used by anyone (mode %04o): fix: "
		    "restart secretd, which creates it 0600 or 0660",
		    d->cfg.socket, (unsigned)(st.st_mode & 07777));
	else if (!may(d->login, login, &st, 6))
		bad(d, "socket %s: user %s may not connect (mode %04o): fix: "
		    "socket_group = %s in %s (secretd's user must be in that "
		    "group), and restart secretd", d->cfg.socket, d->login,
		    (unsigned)(st.st_mode & 07777), d->login, d->conf);
	else
		ok(d, "socket %s (mode %04o): user %s may connect",
		    d->cfg.socket, (unsigned)(st.st_mode & 07777), d->login);
}

/* ----------------------------------------------------------- keyring */

static void
check_keyring(struct doctor *d, const struct passwd *owner)
{
	const char *k = d->cfg.keyring;
	struct stat st;

	if (lstat(k, &st) != 0)
		bad(d, "keyring %s: %s: fix: restore it from its backup "
		    "(without it no stored value can be read); on a new "
		    "server, secretd setup makes one", k, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		bad(d, "keyring %s is not a regular file: fix: set keyring to "
		    "the file itself", k);
	else if (owner != NULL && st.st_uid != owner->pw_uid)
		bad(d, "keyring %s is owned by uid %u, not by user %s that "
		    "secretd runs as: fix: chown %s %s", k,
		    (unsigned)st.st_uid, d->user, d->user, k);
	else if ((st.st_mode & 077) != 0)
		bad(d, "keyring %s has mode %04o, open to group or others: fix: "
		    "chmod 0400 %s, and rotate the keys if others could read "
		    "it", k, (unsigned)(st.st_mode & 07777), k);
	else
		ok(d, "keyring %s (owner %s, mode %04o)", k, d->user,
		    (unsigned)(st.st_mode & 07777));
}

/* ---------------------------------------------------------- database */

static PGresult *
q(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		return r;
	snprintf(err, errlen, "%.*s", (int)strcspn(PQresultErrorMessage(r),
	    "\n"), PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

static int
t(const PGresult *r, int col)
{
	return strcmp(PQgetvalue(r, 0, col), "t") == 0;
}

/* Schema level, the runtime role's grants, the clock.  0 when the
 * database can be read on. */
static int
check_database(struct doctor *d)
{
	enum schema_state st;
	char err[512], role[128], why[512];
	struct timeval now;
	PGconn *c;
	PGresult *r;
	double skew;
	int have, need = admin_schema_version();

	if ((c = db_connect_once(d->cfg.database, err, sizeof(err))) == NULL) {
		bad(d, "database: cannot connect as user %s with database in "
		    "%s (%.*s): fix: start PostgreSQL, and check database in "
		    "%s and pg_hba.conf", d->user, d->conf,
		    (int)strcspn(err, "\n"), err, d->conf);
		return -1;
	}
	if ((r = q(c, "SELECT coalesce(max(version), 0) FROM "
	    "schema_migrations", err, sizeof(err))) == NULL) {
		bad(d, "database: no schema (%s): fix: secretd -c %s migrate",
		    err, d->conf);
		PQfinish(c);
		return -1;
	}
	have = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (have < need)
		bad(d, "database: schema version %d, and this secretd needs %d: "
		    "fix: secretd -c %s migrate", have, need, d->conf);
	else if (have > need)
		bad(d, "database: schema version %d is newer than this secretd "
		    "(%d): fix: install the secretd that migrated it", have,
		    need);
	else
		ok(d, "database: reachable; schema version %d (every migration "
		    "applied)", have);
	/* what serve refuses to start on (admin_startup_check) */
	if (admin_schema_check(c, &st, why, sizeof(why)) != 0)
		bad(d, "database: %s: fix: secretd -c %s migrate", why,
		    d->conf);
	else if (st == SCHEMA_CHANGED)
		bad(d, "database: %s: fix: run the secretd that applied it (an "
		    "applied migration must never change)", why);
	else if (st == SCHEMA_UNKNOWN)
		bad(d, "database: %s: fix: install that secretd", why);
	else
		ok(d, "database: every applied migration has the checksum of "
		    "this secretd's text of it");

	if ((r = q(c, "SELECT current_user, r.rolsuper, "
	    "has_table_privilege('audit_log', 'UPDATE'), "
	    "has_table_privilege('audit_log', 'DELETE'), "
	    "has_table_privilege('audit_seal', 'UPDATE'), "
	    "has_table_privilege('audit_seal', 'DELETE'), "
	    "has_table_privilege('audit_log', 'INSERT'), "
	    "has_table_privilege('audit_log', 'SELECT'), "
	    "EXISTS (SELECT 1 FROM pg_tables WHERE tablename IN ('audit_log', "
	    "'audit_seal') AND tableowner = current_user) "
	    "FROM pg_roles r WHERE r.rolname = current_user", err,
	    sizeof(err))) == NULL) {
		bad(d, "database: cannot read the grants (%s): fix: secretd -c "
		    "%s migrate", err, d->conf);
	} else {
		snprintf(role, sizeof(role), "%s", PQgetvalue(r, 0, 0));
		if (t(r, 1) || t(r, 2) || t(r, 3) || t(r, 4) || t(r, 5) ||
		    t(r, 8))
			bad(d, "database: role %s %s, so it could rewrite the "
			    "audit trail: fix: run secretd as a plain LOGIN "
			    "role (database), keep the owner in admin_database, "
			    "and run secretd migrate, which makes the first a "
			    "member of secretd_runtime", role, t(r, 1) ?
			    "is a superuser" : t(r, 8) ? "owns the audit tables" :
			    "may UPDATE or DELETE audit rows");
		else if (!t(r, 6) || !t(r, 7))
			bad(d, "database: role %s cannot write or read audit "
			    "rows: fix: secretd -c %s migrate (it makes %s a "
			    "member of secretd_runtime)", role, d->conf, role);
		else
			ok(d, "database: role %s may INSERT and SELECT audit "
			    "rows, never UPDATE or DELETE them", role);
		PQclear(r);
	}

	if ((r = q(c, "SELECT extract(epoch FROM clock_timestamp())", err,
	    sizeof(err))) == NULL) {
		bad(d, "clock: cannot read the database's clock (%s): fix: "
		    "check the database", err);
	} else {
		gettimeofday(&now, NULL);
		skew = atof(PQgetvalue(r, 0, 0)) -
		    ((double)now.tv_sec + now.tv_usec / 1e6);
		PQclear(r);
		if (skew > CLOCK_SKEW_MAX || skew < -CLOCK_SKEW_MAX)
			bad(d, "clock: the database's clock is %.1f s %s this "
			    "host's, and audit times come from it: fix: "
			    "synchronise both (chrony or systemd-timesyncd)",
			    skew > 0 ? skew : -skew, skew > 0 ? "ahead of" : "behind");
		else
			ok(d, "clock: the database and this host agree within "
			    "%.0f s", CLOCK_SKEW_MAX);
	}
	PQfinish(c);
	return have >= need ? 0 : -1;
}

/* The daemon's audit.verify, on a connection of our own. */
static void
check_audit(struct doctor *d)
{
	struct server_ctx ctx = { .cfg = &d->cfg };
	struct request r;
	struct keyring *kr;
	struct db_pool *pool;
	struct db *db;
	json_t *bad_row, *noargs;
	char err[512];
	int e;

	if (keyring_load(d->cfg.keyring, &kr, err, sizeof(err)) != 0) {
		bad(d, "audit chain: not verified, the keyring does not load "
		    "as user %s (%s)", d->user, err);
		return;
	}
	ctx.kr = kr;
	pool = db_pool_new(d->cfg.database, 1, store_stmts, ST__COUNT);
	if (db_acquire(pool, &db) != 0) {
		bad(d, "audit chain: not verified, no database connection: "
		    "fix: see the database check");
		db_pool_free(pool);
		keyring_free(kr);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.ctx = &ctx;
	r.db = db;
	r.req = noargs = json_object();		/* audit.verify with no options */
	r.resp = json_object();
	r.version = -1;
	if ((e = act_audit_verify(&r)) != 0)
		bad(d, "audit chain: verification failed (%s): fix: see the "
		    "database log", r.why ? r.why : sd_err_code(e));
	else if (json_is_true(json_object_get(r.resp, "intact")))
		ok(d, "audit chain: intact (%lld rows, %lld sealed)",
		    (long long)json_integer_value(json_object_get(r.resp,
		    "rows")), (long long)json_integer_value(
		    json_object_get(r.resp, "sealed")));
	else {
		bad_row = json_object_get(r.resp, "first_bad");
		bad(d, "audit chain: broken at row %lld (%s): fix: find who "
		    "changed audit_log and audit_seal (PostgreSQL's logs), "
		    "restore them from a backup, and keep this evidence",
		    (long long)json_integer_value(json_object_get(bad_row,
		    "id")), json_string_value(json_object_get(bad_row,
		    "problem")) ? json_string_value(json_object_get(bad_row,
		    "problem")) : "?");
	}
	json_decref(r.resp);
	json_decref(noargs);
	db_release(pool, db);
	db_pool_free(pool);
	keyring_free(kr);
}

/* ------------------------------------------------------------ command */

static void
doctor_usage(FILE *f)
{
	fprintf(f,
	    "usage: secretd [-c CONF] doctor [--sshd-config FILE] "
	    "[--login-user NAME]\n"
	    "           [--user NAME] [--sshd PATH]\n"
	    "\n"
	    "  --sshd-config FILE  sshd's configuration (default "
	    "/etc/ssh/sshd_config)\n"
	    "  --login-user NAME   the SSH login user (default secret)\n"
	    "  --user NAME         the user secretd runs as (default "
	    "secretd)\n"
	    "  --sshd PATH         sshd (default /usr/sbin/sshd)\n");
}

int
doctor_main(const char *conf, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sshd-config", required_argument, NULL, 'f' },
		{ "login-user", required_argument, NULL, 'l' },
		{ "user", required_argument, NULL, 'u' },
		{ "sshd", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct doctor d = {
		.conf = conf, .sshd = "/usr/sbin/sshd",
		.sshd_config = "/etc/ssh/sshd_config", .login = "secret",
		.user = "secretd",
	};
	struct passwd login, dpw, *pw;
	struct osuser_saved saved;
	char err[512];
	int ch, have_login = 0, have_daemon = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': d.sshd_config = optarg; break;
		case 'l': d.login = optarg; break;
		case 'u': d.user = optarg; break;
		case 's': d.sshd = optarg; break;
		case 'h':
			doctor_usage(stdout);
			return 0;
		default:
			doctor_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		doctor_usage(stderr);
		return 2;
	}
	config_defaults(&d.cfg);
	if (config_load(&d.cfg, conf, err, sizeof(err)) != 0) {
		bad(&d, "config: %s: fix: correct it (secretd.conf(5)); the "
		    "other checks need it", err);
		config_free(&d.cfg);
		return 1;
	}
	ok(&d, "config %s", conf);
	/* copies: getpwnam's buffer is overwritten by the next call */
	if ((pw = getpwnam(d.login)) != NULL) {
		login = *pw;
		login.pw_shell = xstrdup(pw->pw_shell);
		login.pw_name = xstrdup(pw->pw_name);
		have_login = 1;
	}
	if ((pw = getpwnam(d.user)) != NULL) {
		dpw = *pw;
		have_daemon = 1;
	}

	check_sshd(&d);
	if (have_login) {
		check_login(&d, &login);
		check_socket(&d, &login);
	} else
		bad(&d, "login user %s does not exist: fix: secretd setup, or "
		    "useradd --system --user-group --create-home --shell /bin/sh "
		    "%s; usermod -p '*' %s", d.login, d.login, d.login);
	if (!have_daemon)
		bad(&d, "user %s (that secretd runs as) does not exist: fix: "
		    "secretd setup, or name it with --user", d.user);
	check_keyring(&d, have_daemon ? &dpw : NULL);
	/* the rest as the daemon sees it */
	if (have_daemon && osuser_become(d.user, &saved, err,
	    sizeof(err)) != 0) {
		osuser_restore(&saved);
		bad(&d, "database: cannot act as user %s (%s): fix: run doctor "
		    "as root", d.user, err);
	} else if (have_daemon) {
		if (check_database(&d) == 0)
			check_audit(&d);
		osuser_restore(&saved);
	}
	fflush(stdout);
	if (d.fails > 0)
		fprintf(stderr, "secretd doctor: %d problem%s\n", d.fails,
		    d.fails == 1 ? "" : "s");
	if (have_login) {
		free(login.pw_shell);
		free(login.pw_name);
	}
	config_free(&d.cfg);
	return d.fails == 0 ? 0 : 1;
}
