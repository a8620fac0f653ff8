/*
 * test_crypto.c - keyring file checks and the seal/open binding: a
 * ciphertext opens only under its own node, version and key id.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "secretd/crypto.h"
#include "xmalloc.h"

static char dir[64];
static char ring[128];

static int
setup(void **state)
{
	char err[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sdcrypto.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(ring, sizeof(ring), "%s/keyring", dir);
	return keyring_create(ring, err, sizeof(err));
}

static int
teardown(void **state)
{
	(void)state;
	unlink(ring);
	rmdir(dir);
	return 0;
}

static void
test_keyring_create_load(void **state)
{
	struct keyring *kr;
	struct stat st;
	char err[256];

	(void)state;
	assert_int_equal(stat(ring, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0400);
	assert_int_equal(keyring_load(ring, &kr, err, sizeof(err)), 0);
	assert_int_equal(keyring_current_id(kr), 1);
	assert_true(keyring_has(kr, 1));
	assert_false(keyring_has(kr, 2));
	keyring_free(kr);
	/* a second create must not overwrite it */
	assert_int_equal(keyring_create(ring, err, sizeof(err)), -1);
}

static void
test_keyring_mode_refused(void **state)
{
	struct keyring *kr;
	char err[256], want[512];

	(void)state;
	assert_int_equal(chmod(ring, 0440), 0);
	assert_int_equal(keyring_load(ring, &kr, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "keyring %s: mode 0440 is readable or "
	    "writable by group or others; fix with \"chmod 0400 %s\"", ring,
	    ring);
	assert_string_equal(err, want);
	assert_int_equal(chmod(ring, 0400), 0);
	assert_int_equal(keyring_load("/nonexistent/kr", &kr, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "keyring /nonexistent/kr: No such file or "
	    "directory (create it with \"secretd init\")");
}

static void
test_seal_open_binding(void **state)
{
	static const unsigned char pt[] = "hunter2";
	unsigned char nonce[SEAL_NONCE_LEN], *ct, *out;
	struct keyring *kr;
	size_t ctlen, outlen;
	uint32_t kid;
	char err[256];

	(void)state;
	assert_int_equal(keyring_load(ring, &kr, err, sizeof(err)), 0);
	assert_int_equal(seal_value(kr, 42, 3, pt, 7, &kid, nonce, &ct,
	    &ctlen), 0);
	assert_int_equal(kid, 1);
	assert_int_equal(ctlen, 7 + SEAL_TAG_LEN);
	assert_null(memmem(ct, ctlen, "hunter2", 7));

	assert_int_equal(open_value(kr, 42, 3, 1, nonce, SEAL_NONCE_LEN, ct,
	    ctlen, &out, &outlen), 0);
	assert_int_equal(outlen, 7);
	assert_memory_equal(out, pt, 7);
	freezero(out, outlen + 1);

	/* another node, another version, another key id: refused */
	assert_int_equal(open_value(kr, 43, 3, 1, nonce, SEAL_NONCE_LEN, ct,
	    ctlen, &out, &outlen), SD_EINTERNAL);
	assert_int_equal(open_value(kr, 42, 4, 1, nonce, SEAL_NONCE_LEN, ct,
	    ctlen, &out, &outlen), SD_EINTERNAL);
	assert_int_equal(open_value(kr, 42, 3, 2, nonce, SEAL_NONCE_LEN, ct,
	    ctlen, &out, &outlen), SD_EINTERNAL);
	/* short nonce, flipped bit */
	assert_int_equal(open_value(kr, 42, 3, 1, nonce, 12, ct, ctlen, &out,
	    &outlen), SD_EINTERNAL);
	ct[0] ^= 1;
	assert_int_equal(open_value(kr, 42, 3, 1, nonce, SEAL_NONCE_LEN, ct,
	    ctlen, &out, &outlen), SD_EINTERNAL);
	free(ct);
	keyring_free(kr);
}

static void
test_keygen_rotates(void **state)
{
	static const unsigned char pt[] = "v";
	unsigned char nonce[SEAL_NONCE_LEN], nonce2[SEAL_NONCE_LEN], *ct,
	    *ct2, *out;
	struct keyring *kr;
	size_t ctlen, ct2len, outlen;
	uint32_t kid, newid;
	char err[256];

	(void)state;
	assert_int_equal(keyring_load(ring, &kr, err, sizeof(err)), 0);
	assert_int_equal(seal_value(kr, 1, 1, pt, 1, &kid, nonce, &ct,
	    &ctlen), 0);
	keyring_free(kr);
	assert_int_equal(keyring_add_key(ring, &newid, err, sizeof(err)), 0);
	assert_int_equal(newid, 2);
	assert_int_equal(keyring_load(ring, &kr, err, sizeof(err)), 0);
	assert_int_equal(keyring_current_id(kr), 2);
	/* old ciphertexts still open; new ones use key 2 */
	assert_int_equal(open_value(kr, 1, 1, 1, nonce, SEAL_NONCE_LEN, ct,
	    ctlen, &out, &outlen), 0);
	freezero(out, outlen + 1);
	assert_int_equal(seal_value(kr, 1, 2, pt, 1, &kid, nonce2, &ct2,
	    &ct2len), 0);
	assert_int_equal(kid, 2);
	assert_memory_not_equal(nonce, nonce2, SEAL_NONCE_LEN);
	free(ct);
	free(ct2);
	keyring_free(kr);
}

static void
test_audit_hash_keyed(void **state)
{
	unsigned char a[AUDIT_HASH_LEN], b[AUDIT_HASH_LEN], c[AUDIT_HASH_LEN];
	struct keyring *kr;
	char err[256];

	(void)state;
	assert_int_equal(keyring_load(ring, &kr, err, sizeof(err)), 0);
	audit_value_hash(kr, (const unsigned char *)"x", 1, a);
	audit_value_hash(kr, (const unsigned char *)"x", 1, b);
	audit_value_hash(kr, (const unsigned char *)"y", 1, c);
	assert_memory_equal(a, b, AUDIT_HASH_LEN);
	assert_memory_not_equal(a, c, AUDIT_HASH_LEN);
	keyring_free(kr);
}

/* Retiring a sealing key (removing its line) leaves the audit hash key
 * alone: it comes from the kdf line, not from key 1. */
static void
test_audit_hash_survives_retirement(void **state)
{
	unsigned char a[AUDIT_HASH_LEN], b[AUDIT_HASH_LEN];
	char err[256], path[160], line[256];
	struct keyring *kr;
	uint32_t newid;
	FILE *in, *out;

	(void)state;
	assert_int_equal(keyring_load(ring, &kr, err, sizeof(err)), 0);
	audit_value_hash(kr, (const unsigned char *)"x", 1, a);
	keyring_free(kr);
	assert_int_equal(keyring_add_key(ring, &newid, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/retired", dir);
	assert_non_null(in = fopen(ring, "r"));
	assert_non_null(out = fopen(path, "w"));
	while (fgets(line, sizeof(line), in) != NULL)
		if (strncmp(line, "1 ", 2) != 0)
			fputs(line, out);
	fclose(in);
	fclose(out);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(keyring_load(path, &kr, err, sizeof(err)), 0);
	assert_false(keyring_has(kr, 1));
	audit_value_hash(kr, (const unsigned char *)"x", 1, b);
	assert_memory_equal(a, b, AUDIT_HASH_LEN);
	keyring_free(kr);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyring_create_load),
		cmocka_unit_test(test_keyring_mode_refused),
		cmocka_unit_test(test_seal_open_binding),
		cmocka_unit_test(test_keygen_rotates),
		cmocka_unit_test(test_audit_hash_keyed),
		cmocka_unit_test(test_audit_hash_survives_retirement),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
