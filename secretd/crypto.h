/*
 * crypto.h - the keyring and sealing of stored values (libsodium).
 *
 * Every value version is sealed with XChaCha20-Poly1305 (IETF) under the
 * newest key, with a fresh random nonce and associated data binding the
 * ciphertext to its node, version and key id: a ciphertext moved to
 * another row, or a row whose key id or version was altered, fails to
 * open.  Keys live in sodium_malloc'ed memory that is read-only after
 * load.  Nothing here logs key material or plaintext.
 */
#ifndef SECRETD_CRYPTO_H
#define SECRETD_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SEAL_NONCE_LEN	24
#define SEAL_TAG_LEN	16
#define AUDIT_HASH_LEN	32

struct keyring;

/*
 * Load the keyring file.  Refuses a file that is missing, not a regular
 * file, readable or writable by group or others, or not owned by the
 * effective uid; err says what is wrong and how to fix it.  0 or -1.
 */
int	keyring_load(const char *path, struct keyring **out, char *err,
	    size_t errlen);
void	keyring_free(struct keyring *kr);

/* Create a new keyring file holding a kdf root and key 1 (fails if it
 * exists). */
int	keyring_create(const char *path, char *err, size_t errlen);
/* Append a new key (highest id + 1) to the file, atomically; a daemon
 * seals with it once it reloads the keyring (SIGHUP or restart).
 * *new_id receives its id. */
int	keyring_add_key(const char *path, uint32_t *new_id, char *err,
	    size_t errlen);

uint32_t keyring_current_id(const struct keyring *kr);
int	keyring_has(const struct keyring *kr, uint32_t id);

/*
 * Seal len bytes for (node_id, version).  On success *key_id is the key
 * used, nonce is filled and *ct (caller frees) holds len + SEAL_TAG_LEN
 * bytes.
 */
int	seal_value(const struct keyring *kr, int64_t node_id, int32_t version,
	    const unsigned char *pt, size_t len, uint32_t *key_id,
	    unsigned char nonce[SEAL_NONCE_LEN], unsigned char **ct,
	    size_t *ctlen) SD_MUST_CHECK;

/*
 * Open a sealed value.  Returns 0 with *pt (caller freezero()s it, one
 * extra NUL byte allocated past *ptlen) or SD_EINTERNAL when the key is
 * missing, the nonce has the wrong size, or authentication fails.
 */
int	open_value(const struct keyring *kr, int64_t node_id, int32_t version,
	    uint32_t key_id, const unsigned char *nonce, size_t noncelen,
	    const unsigned char *ct, size_t ctlen, unsigned char **pt,
	    size_t *ptlen) SD_MUST_CHECK;

/*
 * Keyed BLAKE2b-256 of a value, for audit rows.  The audit keys are
 * derived with crypto_kdf (context "sdaudit1") from the keyring's
 * "kdf" line, which key rotation leaves alone (or, lacking one, from its
 * lowest-id key): subkey 1 hashes values, subkey 2 MACs rows and seals.
 */
void	audit_value_hash(const struct keyring *kr, const unsigned char *val,
	    size_t len, unsigned char out[AUDIT_HASH_LEN]);

/* Keyed BLAKE2b-256 (subkey 2) for audit row MACs and the seal chain. */
void	audit_mac(const struct keyring *kr, const unsigned char *buf,
	    size_t len, unsigned char out[AUDIT_HASH_LEN]);

#endif
