/*
 * schema_check.h - does the database's schema_migrations match the
 * migrations compiled into this secretd?  Pure: the rows are read by the
 * caller (admin.c), so that the rule is unit-tested without a database.
 */
#ifndef SECRETD_SCHEMA_CHECK_H
#define SECRETD_SCHEMA_CHECK_H

#include <stddef.h>

#include "migrations.h"

/* Lower-case hex SHA-256 and its NUL. */
#define SCHEMA_CHECKSUM_LEN	65

/* The checksum recorded for a migration: SHA-256 of its text, in hex. */
void	schema_checksum(const char *sql, char out[SCHEMA_CHECKSUM_LEN]);

/* One row of schema_migrations; checksum NULL when none is recorded. */
struct applied_migration {
	int		 version;
	const char	*name;
	const char	*checksum;
};

/* Whether version is among the na rows a. */
int	schema_applied(const struct applied_migration *a, int na,
	    int version);

enum schema_state {
	SCHEMA_OK,		/* every migration applied, none changed */
	SCHEMA_PENDING,		/* some not applied yet: secretd migrate */
	SCHEMA_CHANGED,		/* an applied one differs from ours */
	SCHEMA_UNKNOWN,		/* an applied one we do not have: newer */
};

/*
 * Compare the applied rows a (any order) with the compiled-in
 * migrations m (ascending versions).  A changed or unknown migration
 * comes before a pending one, since no migrate can fix it.  Unless
 * SCHEMA_OK, why says which migration and how (both checksums for a
 * changed one), without a fix: the callers' fixes differ.
 */
enum schema_state schema_compare(const struct migration *m, int nm,
	    const struct applied_migration *a, int na, char *why,
	    size_t whylen);

#endif
