/*
 * admin.h - the one-shot commands of secretd: migrate, init, keygen,
 * and the start-up checks of serve.  They talk to PostgreSQL directly
 * (not through the pool) and print to stderr.
 */
#ifndef SECRETD_ADMIN_H
#define SECRETD_ADMIN_H

#include "config.h"
#include "crypto.h"

/* Apply every migration not yet applied; grant the runtime role. */
int	admin_migrate(const struct config *cfg);
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
