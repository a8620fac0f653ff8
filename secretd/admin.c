/*
 * admin.c - migrate, init, keygen, rekey and the start-up checks.
 *
 * Migrations are compiled in (migrations.h) and applied in order, each
 * in its own transaction together with its schema_migrations row (which
 * records the SHA-256 of its text), under an advisory lock so two
 * migrators cannot interleave.  Neither migrate nor serve goes on when an
 * applied migration changed or is unknown to this binary (schema_check.h).
 * SQL text here is either ours (migrations, fixed statements) or
 * parameterised.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "admin.h"
#include "db.h"
#include "linereader.h"
#include "log.h"
#include "migrations.h"
#include "osuser.h"
#include "params.h"
#include "schema_check.h"
#include "sshkey.h"
#include "xmalloc.h"

#define MIGRATE_LOCK	"7303711125"	/* advisory lock key */

static const char *
admin_conninfo(const struct config *cfg)
{
	return cfg->admin_database ? cfg->admin_database : cfg->database;
}

/* Run SQL with parameters; 0 or -1 (error printed). */
static int
run(PGconn *c, PGresult **out, const char *sql, int n,
    const char *const *v)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fprintf(stderr, "secretd: database: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static PGconn *
connect_or_complain(const char *conninfo)
{
	char err[512];
	PGconn *c;

	/* as root: as the OS user peer authentication expects (osuser.h) */
	if ((c = osuser_pg_connect(conninfo, err, sizeof(err))) == NULL)
		fprintf(stderr, "secretd: %s\n", err);
	return c;
}

/* The rows of schema_migrations, pointing into *res (the caller clears
 * it); -1 with why said when they cannot be read. */
static int
load_applied(PGconn *c, PGresult **res, struct applied_migration **a,
    int *na, char *why, size_t whylen)
{
	const char *state;
	PGresult *r;
	int i, n;

	r = PQexec(c, "SELECT version, name, checksum FROM schema_migrations "
	    "ORDER BY version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (state != NULL && strcmp(state, "42P01") == 0)
			snprintf(why, whylen, "the database has no schema "
			    "(no table schema_migrations): run \"secretd "
			    "migrate\"");
		else if (state != NULL && strcmp(state, "42703") == 0)
			snprintf(why, whylen, "schema_migrations records no "
			    "checksums: the database was migrated by a secretd "
			    "older than migration 001_baseline, whose schema "
			    "this secretd cannot tell; migrate a new database");
		else
			snprintf(why, whylen, "cannot read schema_migrations: "
			    "%.*s", (int)strcspn(PQresultErrorMessage(r), "\n"),
			    PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	n = PQntuples(r);
	*a = xcalloc(n > 0 ? (size_t)n : 1, sizeof(**a));
	for (i = 0; i < n; i++) {
		(*a)[i].version = atoi(PQgetvalue(r, i, 0));
		(*a)[i].name = PQgetvalue(r, i, 1);
		(*a)[i].checksum = PQgetisnull(r, i, 2) ? NULL :
		    PQgetvalue(r, i, 2);
	}
	*na = n;
	*res = r;
	return 0;
}

int
admin_schema_check(PGconn *c, enum schema_state *st, char *why,
    size_t whylen)
{
	struct applied_migration *a;
	PGresult *r;
	int na;

	if (load_applied(c, &r, &a, &na, why, whylen) != 0)
		return -1;
	*st = schema_compare(migrations, n_migrations, a, na, why, whylen);
	free(a);
	PQclear(r);
	return 0;
}

/* Make the runtime login role (from cfg->database) a secretd_runtime. */
static int
grant_runtime(PGconn *admin, const struct config *cfg)
{
	PGconn *rt;
	PGresult *r;
	const char *v[1];
	char *user;
	int e;

	if (cfg->admin_database == NULL) {
		fprintf(stderr, "secretd: warning: admin_database is not set, "
		    "so secretd runs as the schema owner; set it for least "
		    "privilege\n");
		return 0;
	}
	if ((rt = connect_or_complain(cfg->database)) == NULL)
		return -1;
	if (run(rt, &r, "SELECT current_user", 0, NULL) != 0) {
		PQfinish(rt);
		return -1;
	}
	user = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(rt);
	v[0] = user;
	e = run(admin, NULL, "SELECT set_config('secretd.grantee', $1, false)",
	    1, v);
	if (e == 0)
		e = run(admin, NULL, "DO $$ BEGIN "
		    "IF current_setting('secretd.grantee') <> current_user THEN "
		    "EXECUTE format('GRANT secretd_runtime TO %I', "
		    "current_setting('secretd.grantee')); END IF; END $$", 0,
		    NULL);
	free(user);
	return e;
}

/* Migrate; *napplied and *version (when not NULL) say what was done and
 * the schema version now.  verbose: a line per migration on stderr.
 * Refuses, changing nothing, when an applied migration changed or is
 * unknown to this binary. */
static int
migrate(const struct config *cfg, int verbose, int *napplied, int *version)
{
	struct applied_migration *a = NULL;
	PGresult *done = NULL;
	PGconn *c;
	char sum[SCHEMA_CHECKSUM_LEN], why[512];
	struct params p;
	int i, e, na = 0, have = 0, applied = 0;

	if ((c = connect_or_complain(admin_conninfo(cfg))) == NULL)
		return -1;
	if (run(c, NULL, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", 0,
	    NULL) != 0 ||
	    run(c, NULL, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'), "
	    "applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL) != 0)
		goto fail;
	if (load_applied(c, &done, &a, &na, why, sizeof(why)) != 0) {
		fprintf(stderr, "secretd: %s\n", why);
		goto fail;
	}
	switch (schema_compare(migrations, n_migrations, a, na, why,
	    sizeof(why))) {
	case SCHEMA_CHANGED:
		fprintf(stderr, "secretd: %s: refusing to migrate: an applied "
		    "migration must never change (a change is a new "
		    "migration); run the secretd that applied it\n", why);
		goto fail;
	case SCHEMA_UNKNOWN:
		fprintf(stderr, "secretd: %s: refusing to migrate: install "
		    "that secretd\n", why);
		goto fail;
	case SCHEMA_OK:
	case SCHEMA_PENDING:
		break;
	}
	for (i = 0; i < na; i++)
		if (a[i].version > have)
			have = a[i].version;
	for (i = 0; i < n_migrations; i++) {
		const struct migration *m = &migrations[i];
		PGresult *r;

		if (schema_applied(a, na, m->version))
			continue;
		if (run(c, NULL, "BEGIN", 0, NULL) != 0)
			goto fail;
		r = PQexec(c, m->sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK &&
		    PQresultStatus(r) != PGRES_TUPLES_OK) {
			fprintf(stderr, "secretd: migration %s failed: %s",
			    m->name, PQresultErrorMessage(r));
			PQclear(r);
			goto fail;
		}
		PQclear(r);
		schema_checksum(m->sql, sum);
		params_init(&p);
		params_int(&p, m->version);
		params_text(&p, m->name);
		params_text(&p, sum);
		e = run(c, NULL, "INSERT INTO schema_migrations (version, "
		    "name, checksum) VALUES ($1, $2, $3)", p.n, params_v(&p));
		params_free(&p);
		if (e != 0 || run(c, NULL, "COMMIT", 0, NULL) != 0)
			goto fail;
		if (verbose)
			fprintf(stderr, "secretd: applied migration %s\n",
			    m->name);
		applied++;
	}
	if (run(c, NULL, "GRANT SELECT ON schema_migrations TO "
	    "secretd_runtime", 0, NULL) != 0 || grant_runtime(c, cfg) != 0)
		goto fail;
	if (applied == 0 && verbose)
		fprintf(stderr, "secretd: schema is up to date (version %d)\n",
		    have);
	if (napplied != NULL)
		*napplied = applied;
	if (version != NULL)
		*version = applied > 0 ? migrations[n_migrations - 1].version :
		    have;
	free(a);
	PQclear(done);
	PQfinish(c);
	return 0;
fail:
	free(a);
	PQclear(done);
	PQfinish(c);
	return -1;
}

int
admin_migrate(const struct config *cfg)
{
	return migrate(cfg, 1, NULL, NULL);
}

int
admin_migrate_count(const struct config *cfg, int *applied, int *version)
{
	return migrate(cfg, 0, applied, version);
}

int
admin_schema_version(void)
{
	return migrations[n_migrations - 1].version;
}

int
admin_read_pubkey(const char *file, struct sshkey_pub *k, char *err,
    size_t errlen)
{
	struct linereader *lr;
	const char *why = NULL;
	char *line;
	size_t len;
	FILE *f;
	int r, e = -1;

	if ((f = fopen(file, "re")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", file,
		    strerror(errno));
		return -1;
	}
	lr = linereader_fd(fileno(f), SSHKEY_MAX_B64 + 1024);
	while ((r = linereader_next(lr, 5000, &line, &len)) == LR_LINE) {
		if (len == 0 || line[0] == '#')
			continue;
		if (sshkey_parse_line(line, len, k, &why) == 0)
			e = 0;
		else
			snprintf(err, errlen, "%s: %s", file, why);
		break;
	}
	if (r != LR_LINE && e != 0)
		snprintf(err, errlen, "%s: no public key found", file);
	linereader_free(lr);
	fclose(f);
	return e;
}

/* In one transaction: group admins with every permission, principal
 * admin holding key k, a member of it.  0 or -1 (printed). */
static int
create_admin(PGconn *c, const char *admin, const struct sshkey_pub *k)
{
	const char *v[4];
	PGresult *r;

	v[0] = admin;
	v[1] = k->fp;
	v[2] = k->type;
	v[3] = k->b64;
	if (run(c, NULL, "BEGIN", 0, NULL) != 0 ||
	    run(c, NULL, "INSERT INTO grp (name) VALUES ('admins') "
	    "ON CONFLICT (name) DO NOTHING", 0, NULL) != 0 ||
	    run(c, NULL, "INSERT INTO global_grant (group_id, perms) "
	    "SELECT id, 15 FROM grp WHERE name = 'admins' "
	    "ON CONFLICT (group_id) DO UPDATE SET perms = 15", 0, NULL) != 0 ||
	    run(c, NULL, "INSERT INTO node_grant (node_id, group_id, perms) "
	    "SELECT 1, id, 15 FROM grp WHERE name = 'admins' "
	    "ON CONFLICT (node_id, group_id) DO UPDATE SET perms = 15", 0,
	    NULL) != 0 ||
	    run(c, &r, "INSERT INTO principal (name) VALUES ($1) RETURNING id",
	    1, v) != 0) {
		run(c, NULL, "ROLLBACK", 0, NULL);
		return -1;
	}
	PQclear(r);
	if (run(c, NULL, "INSERT INTO principal_key (fingerprint, "
	    "principal_id, key_type, key_b64) SELECT $2, id, $3, $4 "
	    "FROM principal WHERE name = $1", 4, v) != 0 ||
	    run(c, NULL, "INSERT INTO group_member (principal_id, group_id) "
	    "SELECT p.id, g.id FROM principal p, grp g "
	    "WHERE p.name = $1 AND g.name = 'admins'", 1, v) != 0 ||
	    run(c, NULL, "COMMIT", 0, NULL) != 0) {
		run(c, NULL, "ROLLBACK", 0, NULL);
		return -1;
	}
	return 0;
}

int
admin_init(const struct config *cfg, const char *admin, const char *keyfile)
{
	struct sshkey_pub k = { 0 };
	struct keyring *kr;
	char err[512];
	PGconn *c = NULL;
	int e = -1;

	if (admin_read_pubkey(keyfile, &k, err, sizeof(err)) != 0) {
		fprintf(stderr, "secretd: %s\n", err);
		return -1;
	}
	if (admin_migrate(cfg) != 0)
		goto out;
	if (access(cfg->keyring, F_OK) != 0) {
		if (keyring_create(cfg->keyring, err, sizeof(err)) != 0) {
			fprintf(stderr, "secretd: %s\n", err);
			goto out;
		}
		fprintf(stderr, "secretd: created keyring %s\n", cfg->keyring);
	}
	if (keyring_load(cfg->keyring, &kr, err, sizeof(err)) != 0) {
		fprintf(stderr, "secretd: %s\n", err);
		goto out;
	}
	keyring_free(kr);
	if ((c = connect_or_complain(admin_conninfo(cfg))) == NULL ||
	    create_admin(c, admin, &k) != 0)
		goto out;
	fprintf(stderr, "secretd: created admin %s (%s) in group admins\n",
	    admin, k.fp);
	e = 0;
out:
	if (c != NULL)
		PQfinish(c);
	sshkey_pub_free(&k);
	return e;
}

int
admin_ensure(const struct config *cfg, const char *admin,
    const struct sshkey_pub *k, int *created, char *why, size_t whylen)
{
	const char *v[2] = { k->fp, admin };
	PGconn *c;
	PGresult *r;
	int e = -1, n;

	*created = 0;
	if ((c = connect_or_complain(admin_conninfo(cfg))) == NULL) {
		snprintf(why, whylen, "cannot connect to admin_database");
		return -1;
	}
	if (run(c, &r, "SELECT p.name, EXISTS (SELECT 1 FROM group_member m "
	    "JOIN grp g ON g.id = m.group_id WHERE m.principal_id = p.id "
	    "AND g.name = 'admins') FROM principal_key k JOIN principal p "
	    "ON p.id = k.principal_id WHERE k.fingerprint = $1", 1, v) != 0) {
		snprintf(why, whylen, "database error (above)");
		goto out;
	}
	n = PQntuples(r);
	if (n == 1 && strcmp(PQgetvalue(r, 0, 0), admin) == 0 &&
	    strcmp(PQgetvalue(r, 0, 1), "t") == 0)
		e = 0;			/* there already */
	else if (n == 1)
		snprintf(why, whylen, "the key %s already belongs to "
		    "principal %.64s%s", k->fp, PQgetvalue(r, 0, 0),
		    strcmp(PQgetvalue(r, 0, 0), admin) == 0 ?
		    ", which is not in group admins" : "");
	PQclear(r);
	if (n == 1)
		goto out;
	if (run(c, &r, "SELECT 1 FROM principal WHERE name = $1", 1,
	    v + 1) != 0) {
		snprintf(why, whylen, "database error (above)");
		goto out;
	}
	n = PQntuples(r);
	PQclear(r);
	if (n == 1) {
		snprintf(why, whylen, "principal %s exists without the key %s",
		    admin, k->fp);
		goto out;
	}
	if (create_admin(c, admin, k) != 0) {
		snprintf(why, whylen, "database error (above)");
		goto out;
	}
	*created = 1;
	e = 0;
out:
	PQfinish(c);
	return e;
}

int
admin_keygen(const struct config *cfg)
{
	char err[512];
	uint32_t id;

	if (keyring_add_key(cfg->keyring, &id, err, sizeof(err)) != 0) {
		fprintf(stderr, "secretd: %s\n", err);
		return -1;
	}
	fprintf(stderr, "secretd: added key %u to %s; send secretd SIGHUP "
	    "(or restart it) to seal new values with it, then run "
	    "\"secretd rekey\"\n", id, cfg->keyring);
	return 0;
}

#define REKEY_BATCH	500	/* rows per transaction; also in the SQL */
#define REKEY_IDLE_MAX	100	/* passes without progress, 100 ms apart */

struct rekey_pass {
	long long	node;		/* keyset cursor: last row seen */
	int		version;
	long long	done;		/* re-sealed in this pass */
	long long	bad;		/* rows that did not open */
};

/*
 * Re-seal one batch after the cursor, in one transaction: rows locked by
 * someone else are skipped (SKIP LOCKED) and left for the next pass, rows
 * that do not open are logged and left as they are.  Returns the number
 * of rows the batch looked at (REKEY_BATCH: there may be more), or -1.
 */
static int
rekey_batch(PGconn *c, const struct keyring *kr, struct rekey_pass *p)
{
	struct params q;
	PGresult *r, *u;
	int i, n, failed;

	if (run(c, NULL, "BEGIN", 0, NULL) != 0)
		return -1;
	params_init(&q);
	params_int(&q, keyring_current_id(kr));
	params_int(&q, p->node);
	params_int(&q, p->version);
	failed = run(c, &r, "SELECT node_id, version, key_id, nonce, "
	    "ciphertext FROM secret_version WHERE ciphertext IS NOT NULL "
	    "AND key_id <> $1 "
	    "AND (node_id, version) > ($2::bigint, $3::integer) "
	    "ORDER BY node_id, version LIMIT 500 "
	    "FOR UPDATE SKIP LOCKED", q.n, params_v(&q));
	params_free(&q);
	if (failed) {
		run(c, NULL, "ROLLBACK", 0, NULL);
		return -1;
	}
	n = PQntuples(r);
	for (i = 0; i < n; i++) {
		long long node = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		int version = atoi(PQgetvalue(r, i, 1));
		uint32_t old = (uint32_t)strtoul(PQgetvalue(r, i, 2), NULL, 10);
		unsigned char *nonce, *ct, *pt = NULL, *nct = NULL;
		unsigned char nnonce[SEAL_NONCE_LEN];
		size_t nlen, clen, plen = 0, nclen;
		uint32_t kid;
		int e;

		p->node = node;
		p->version = version;
		nonce = PQunescapeBytea((unsigned char *)PQgetvalue(r, i, 3),
		    &nlen);
		ct = PQunescapeBytea((unsigned char *)PQgetvalue(r, i, 4),
		    &clen);
		e = nonce == NULL || ct == NULL ||
		    open_value(kr, node, version, old, nonce, nlen, ct, clen,
		    &pt, &plen) != 0;
		PQfreemem(nonce);
		PQfreemem(ct);
		if (e) {
			fprintf(stderr, "secretd: rekey: node %lld version %d "
			    "(key %u) does not open (%s); left as it is\n",
			    node, version, old, keyring_has(kr, old) ?
			    "failed authentication" : "the keyring lacks "
			    "that key");
			p->bad++;
			continue;
		}
		e = seal_value(kr, node, version, pt, plen, &kid, nnonce, &nct,
		    &nclen);
		freezero(pt, plen + 1);
		if (e != 0) {
			fprintf(stderr, "secretd: rekey: cannot seal\n");
			PQclear(r);
			run(c, NULL, "ROLLBACK", 0, NULL);
			return -1;
		}
		params_init(&q);
		params_text(&q, PQgetvalue(r, i, 0));
		params_text(&q, PQgetvalue(r, i, 1));
		params_int(&q, kid);
		params_bytea(&q, nnonce, SEAL_NONCE_LEN);
		params_bytea(&q, nct, nclen);
		params_text(&q, PQgetvalue(r, i, 2));
		freezero(nct, nclen);
		u = PQexecParams(c, "UPDATE secret_version SET key_id = $3, "
		    "nonce = $4, ciphertext = $5 WHERE node_id = $1 AND "
		    "version = $2 AND key_id = $6", q.n, NULL, params_v(&q),
		    params_lengths(&q), params_formats(&q), 0);
		params_free(&q);
		if (PQresultStatus(u) != PGRES_COMMAND_OK) {
			fprintf(stderr, "secretd: rekey: %s",
			    PQresultErrorMessage(u));
			PQclear(u);
			PQclear(r);
			run(c, NULL, "ROLLBACK", 0, NULL);
			return -1;
		}
		if (atoi(PQcmdTuples(u)) == 1)
			p->done++;
		PQclear(u);
	}
	PQclear(r);
	if (run(c, NULL, "COMMIT", 0, NULL) != 0)
		return -1;
	return n;
}

/* Stored versions sealed under another key than cur, or -1. */
static long long
rekey_left(PGconn *c, uint32_t cur)
{
	struct params p;
	PGresult *r;
	long long n;
	int e;

	params_init(&p);
	params_int(&p, cur);
	e = run(c, &r, "SELECT count(*) FROM secret_version WHERE "
	    "ciphertext IS NOT NULL AND key_id <> $1", p.n, params_v(&p));
	params_free(&p);
	if (e != 0)
		return -1;
	n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Passes over secret_version in primary-key order (a keyset cursor, so a
 * batch never rescans what is done), each batch its own transaction: a
 * kill loses at most the batch in flight, and the next run goes on from
 * what is committed.  After a pass, an exact count: rows written under an
 * old key meanwhile (a daemon not yet reloaded) or skipped as locked get
 * another pass; rows that do not open end the run with an error.
 */
int
admin_rekey(const struct config *cfg)
{
	struct keyring *kr;
	struct rekey_pass p;
	struct timespec t0;
	char err[512];
	PGconn *c;
	long long total = 0, left, start_left;
	int n, idle = 0, e = -1;
	uint32_t kid;
	double secs;

	if (keyring_load(cfg->keyring, &kr, err, sizeof(err)) != 0) {
		fprintf(stderr, "secretd: %s\n", err);
		return -1;
	}
	if ((c = connect_or_complain(cfg->database)) == NULL) {
		keyring_free(kr);
		return -1;
	}
	kid = keyring_current_id(kr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((left = rekey_left(c, kid)) < 0)
		goto out;
	fprintf(stderr, "secretd: rekey: %lld stored versions to re-seal "
	    "under key %u\n", left, kid);
	while (left > 0) {
		memset(&p, 0, sizeof(p));
		start_left = left;
		do {
			if ((n = rekey_batch(c, kr, &p)) < 0)
				goto out;
			secs = seconds_since(&t0);
			fprintf(stderr, "secretd: rekey: %lld re-sealed under "
			    "key %u, %lld to go, %.0f/s\n", total + p.done,
			    kid, start_left - p.done > 0 ?
			    start_left - p.done : 0,
			    (total + p.done) / (secs > 1e-6 ? secs : 1e-6));
		} while (n == REKEY_BATCH);
		total += p.done;
		if ((left = rekey_left(c, kid)) < 0)
			goto out;
		if (left > 0 && left <= p.bad) {
			fprintf(stderr, "secretd: rekey: %lld stored versions "
			    "do not open (listed above) and stay under their "
			    "old keys; keep those keys in the keyring\n", left);
			goto out;
		}
		if (left > 0 && p.done == 0) {
			if (++idle > REKEY_IDLE_MAX) {
				fprintf(stderr, "secretd: rekey: %lld rows stay "
				    "locked; run rekey again later\n", left);
				goto out;
			}
			usleep(100 * 1000);	/* rows locked by writers */
		} else
			idle = 0;
	}
	secs = seconds_since(&t0);
	fprintf(stderr, "secretd: rekey: done: %lld re-sealed under key %u in "
	    "%.1f s; no stored version is sealed under another key\n", total,
	    kid, secs);
	e = 0;
out:
	PQfinish(c);
	keyring_free(kr);
	return e;
}

int
admin_startup_check(const struct config *cfg, const struct keyring *kr)
{
	enum schema_state st;
	char err[512], why[512];
	PGconn *c;
	PGresult *r;
	int i, bad = 0;

	if ((c = db_connect_once(cfg->database, err, sizeof(err))) == NULL) {
		log_warn("%s; serving \"unavailable\" until it is back", err);
		return 0;
	}
	if (admin_schema_check(c, &st, why, sizeof(why)) != 0) {
		log_error("%s: refusing to start", why);
		PQfinish(c);
		return -1;
	}
	switch (st) {
	case SCHEMA_OK:
		break;
	case SCHEMA_PENDING:
		log_error("%s: run \"secretd migrate\"", why);
		break;
	case SCHEMA_CHANGED:
		log_error("%s: refusing to start: an applied migration must "
		    "never change (a change is a new migration); run the "
		    "secretd that applied it", why);
		break;
	case SCHEMA_UNKNOWN:
		log_error("%s: refusing to start: install that secretd", why);
		break;
	}
	if (st != SCHEMA_OK) {
		PQfinish(c);
		return -1;
	}
	if (run(c, &r, "SELECT key_id, count(*) FROM secret_version "
	    "WHERE ciphertext IS NOT NULL GROUP BY key_id", 0, NULL) != 0) {
		PQfinish(c);
		return -1;
	}
	for (i = 0; i < PQntuples(r); i++) {
		uint32_t id = (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10);

		if (!keyring_has(kr, id)) {
			log_error("%s stored versions are sealed with key %u, "
			    "which the keyring %s lacks: restore that key",
			    PQgetvalue(r, i, 1), id, cfg->keyring);
			bad = 1;
		}
	}
	PQclear(r);
	PQfinish(c);
	return bad ? -1 : 0;
}
