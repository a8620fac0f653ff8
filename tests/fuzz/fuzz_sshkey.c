/*
 * fuzz_sshkey.c - libFuzzer target for lib/sshkey.c.
 *
 * Invariants of an accepted key: a known type, a canonical base64 that
 * parses again to the same key, a well-formed fingerprint, and an output
 * with no character that could break an authorized_keys line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_key(const struct sshkey_pub *k)
{
	struct sshkey_pub k2;
	const char *why, *c;

	if (!sshkey_type_valid(k->type) || k->b64 == NULL ||
	    !sshkey_fp_valid(k->fp))
		abort();
	for (c = k->b64; *c != '\0'; c++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/=", *c) == NULL)
			abort();
	if (sshkey_parse_parts(k->type, k->b64, &k2, &why) != 0 ||
	    strcmp(k2.b64, k->b64) != 0 || strcmp(k2.fp, k->fp) != 0 ||
	    strcmp(k2.type, k->type) != 0)
		abort();
	sshkey_pub_free(&k2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshkey_pub k;
	const char *why = NULL;
	char *s;

	if (sshkey_parse_line((const char *)data, size, &k, &why) == 0)
		check_key(&k);
	else if (why == NULL || k.b64 != NULL)
		abort();
	sshkey_pub_free(&k);

	/* The input as base64 for each accepted type (sshd's %t %k). */
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (sshkey_parse_parts("ssh-ed25519", s, &k, &why) == 0)
		check_key(&k);
	sshkey_pub_free(&k);
	if (sshkey_parse_parts("ssh-rsa", s, &k, &why) == 0)
		check_key(&k);
	sshkey_pub_free(&k);
	if (sshkey_parse_parts("ecdsa-sha2-nistp256", s, &k, &why) == 0)
		check_key(&k);
	sshkey_pub_free(&k);
	(void)sshkey_fp_valid(s);
	free(s);
	return 0;
}
