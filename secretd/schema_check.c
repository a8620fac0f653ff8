/*
 * schema_check.c - the applied migrations against the compiled-in ones.
 *
 * secretd records the SHA-256 of each migration's text when it applies
 * it.  A migration whose text changed after it was applied (edited in
 * place, or a binary built from other sources) means the database's
 * schema is not the one this binary was written for, and nothing but a
 * person can tell which is right: secretd refuses to serve or to migrate
 * on, rather than guess (docs/security.md, "Migrations").
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "schema_check.h"

void
schema_checksum(const char *sql, char out[SCHEMA_CHECKSUM_LEN])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)sql, strlen(sql));
	sodium_bin2hex(out, SCHEMA_CHECKSUM_LEN, h, sizeof(h));
}

static const struct migration *
ours(const struct migration *m, int nm, int version)
{
	int i;

	for (i = 0; i < nm; i++)
		if (m[i].version == version)
			return &m[i];
	return NULL;
}

int
schema_applied(const struct applied_migration *a, int na, int version)
{
	int i;

	for (i = 0; i < na; i++)
		if (a[i].version == version)
			return 1;
	return 0;
}

/* The changed or unknown applied migration of lowest version, or NULL. */
static const struct applied_migration *
first_bad(const struct migration *m, int nm,
    const struct applied_migration *a, int na)
{
	const struct applied_migration *bad = NULL;
	const struct migration *o;
	char sum[SCHEMA_CHECKSUM_LEN];
	int i;

	for (i = 0; i < na; i++) {
		if (bad != NULL && a[i].version >= bad->version)
			continue;
		if ((o = ours(m, nm, a[i].version)) != NULL) {
			schema_checksum(o->sql, sum);
			if (a[i].checksum != NULL &&
			    strcmp(a[i].checksum, sum) == 0 &&
			    strcmp(a[i].name, o->name) == 0)
				continue;
		}
		bad = &a[i];
	}
	return bad;
}

enum schema_state
schema_compare(const struct migration *m, int nm,
    const struct applied_migration *a, int na, char *why, size_t whylen)
{
	const struct applied_migration *bad;
	const struct migration *o;
	char sum[SCHEMA_CHECKSUM_LEN];
	int i, have = 0;

	if ((bad = first_bad(m, nm, a, na)) != NULL) {
		if ((o = ours(m, nm, bad->version)) == NULL) {
			snprintf(why, whylen, "the database has migration %d "
			    "(%s), which this secretd does not know: a newer "
			    "secretd migrated it", bad->version, bad->name);
			return SCHEMA_UNKNOWN;
		}
		schema_checksum(o->sql, sum);
		if (strcmp(bad->name, o->name) != 0)
			snprintf(why, whylen, "applied migration %d is %s "
			    "(checksum %s) in the database, and %s (checksum "
			    "%s) in this secretd", bad->version, bad->name,
			    bad->checksum ? bad->checksum : "none recorded",
			    o->name, sum);
		else
			snprintf(why, whylen, "applied migration %d (%s) has "
			    "changed: the database recorded checksum %s, and "
			    "this secretd's text of it has checksum %s",
			    bad->version, bad->name,
			    bad->checksum ? bad->checksum : "none", sum);
		return SCHEMA_CHANGED;
	}
	for (i = 0; i < na; i++)
		if (a[i].version > have)
			have = a[i].version;
	for (i = 0; i < nm; i++) {
		if (schema_applied(a, na, m[i].version))
			continue;
		if (have < m[nm - 1].version)
			snprintf(why, whylen, "the database schema is not up "
			    "to date (have %d, need %d)", have,
			    m[nm - 1].version);
		else
			snprintf(why, whylen, "migration %d (%s) is not "
			    "applied", m[i].version, m[i].name);
		return SCHEMA_PENDING;
	}
	if (whylen > 0)
		*why = '\0';
	return SCHEMA_OK;
}
