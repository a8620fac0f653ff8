/*
 * admin.h - the one-shot commands of secretd: migrate, init, keygen,
 * and the start-up checks of serve.  They talk to PostgreSQL directly
 * (not through the pool) and print to stderr.
 */
#ifndef SECRETD_ADMIN_H
#define SECRETD_ADMIN_H

#include <libpq-fe.h>

#include "config.h"
#include "crypto.h"
#include "schema_check.h"
#include "sshkey.h"

/* Apply every migration not yet applied; grant the runtime role. */
int	admin_migrate(const struct config *cfg);
/* The same, quietly: *applied migrations were applied now, and the
 * schema is at *version.  Errors are printed. */
int	admin_migrate_count(const struct config *cfg, int *applied,
	    int *version);
/* The schema version this binary needs (its newest migration). */
int	admin_schema_version(void);
/*
 * Compare the database's schema_migrations with the compiled-in
 * migrations (schema_check.h): 0 with *st, and why saying what is wrong
 * unless SCHEMA_OK; -1 with why when the rows cannot be read.
 */
int	admin_schema_check(PGconn *c, enum schema_state *st, char *why,
	    size_t whylen);
/* Read the first public key of an OpenSSH public key file.  0, or -1
 * with err saying why; free k with sshkey_pub_free. */
int	admin_read_pubkey(const char *file, struct sshkey_pub *k, char *err,
	    size_t errlen);
/*
 * Make sure principal admin exists, holds key k and is in group admins
 * (every permission), creating all of it when the key is unknown and no
 * principal has that name.  *created says whether anything was made.
 * -1 with why filled when the key belongs to someone else, or admin
 * exists without it, or on a database error.
 */
int	admin_ensure(const struct config *cfg, const char *admin,
	    const struct sshkey_pub *k, int *created, char *why,
	    size_t whylen);
/* Migrate, create the keyring if missing, create the first admin. */
int	admin_init(const struct config *cfg, const char *admin,
	    const char *keyfile);
/* Add a key to the keyring. */
int	admin_keygen(const struct config *cfg);
/* Re-seal every stored version under the newest key. */
int	admin_rekey(const struct config *cfg);
/*
 * Checks before serving: schema up to date, every stored row's key in
 * the keyring.  Returns 0 when fine or when the database cannot be
 * reached (serve starts and reports "unavailable"), -1 to refuse start.
 */
int	admin_startup_check(const struct config *cfg,
	    const struct keyring *kr);

#endif
