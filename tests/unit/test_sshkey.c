/*
 * test_sshkey.c - unit tests for lib/sshkey.c.
 *
 * The keys below were generated with ssh-keygen (OpenSSH 9.2) and the
 * fingerprints are what `ssh-keygen -lf` printed for them.  The two
 * security-key blobs were assembled by hand in the wire format and
 * checked with `ssh-keygen -lf` as well.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sshkey.h"

#define ED_TYPE	"ssh-ed25519"
#define ED_B64	"AAAAC3NzaC1lZDI1NTE5AAAAINJT0jf56d60wpCowaCXP89YmhjhnQ/AbQpKd7K0EP8l"
#define ED_FP	"SHA256:FUpCL+BwNXtdN/zUxjV5SLz49ldlMKpOtzCCKHa7fjI"

/* 2048 bits: the smallest RSA key accepted. */
#define RSA_B64	"AAAAB3NzaC1yc2EAAAADAQABAAABAQCQho5rKIkyx8vBvzsaxUaVIiv/Z5UPEuCRqz9Gil8HDasXNc6k1uXVFQLhBQPDqWFNj1+K5x8yjcZ4czNfYen8GSSbdzdbONH+JhSmM9LcZd2UPxx0OTgwE8Tr7WN4kI305jikhu4Mt2N7pn0P7z57yFtwGjY8xv/trSQRsHjyZqKhooaCVP5q47f2R9/wJvD2diosVqHURf3N3VlXfFfPHkHRqxqwlf6jCM7j1ybilYuK1H7X80roISZEpvre4eIiikEBlc+ZyU7WdeCAqcvL4oroptonyk4/ZfZIOU4iTankX142H17ceh3l0V75BaEhc0by8lufHUtPuIzLuVG1"
#define RSA_FP	"SHA256:pe56SKBv3Vlsy79kktL86v6jzA3/tEYMW+HS6lNpqR8"

#define E256_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN1fihzwgFDpUDAJBE5UUcIS9VaKWG2yfbKwKIiKU+IssTJy3g1eMZLgOUrwe2sKEowlM6+RdXao1M90IVitJIY="
#define E256_FP	"SHA256:FUZLiomdNeuLHa1T6TLRhNspeh6eY4/C9rFOLu3CWyI"
#define E384_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBBsnONeKQcHT+q05O6dY2vmECkYXmrII3XP0GOnFf1pWvvAAO7ebUb5A+ajojg+yd0xcB91QolrWcRz1EBV1N8c9RLzMatp4PTKyq0BodWKgFnuzYwein+kkXGEES0dMgA=="
#define E384_FP	"SHA256:TkiDIO/tE5j5/UaoYoEQXNqxvnZbXUWrZR3fU61uGiw"
#define E521_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAFJL75DlJiXv+M7+eV7ftRsHX8dCibwrfqWI4LC45+yUJJRgRHUUUkuvVrtXmie4oUTI4mLCsykeweBgFJHMAC2LAD1VKU3frtDxn9PdU9gehNHLMpng5KY4CgHACSH/bQLsLBXS5Z9TNtajD6AmzMK5JA4McsqbWCtHV7fiBnK29BVqQ=="
#define E521_FP	"SHA256:s1msUzJ9ZmvVAZg5Tc9RrEi41yzge4xFHA7wKZPg0VA"
#define SKED_B64 "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gAAAABHNzaDo="
#define SKED_FP	"SHA256:nX0hpi5mKbTIJ10yBq5/sLQhiI1Y0RBAqN0drDdgJWs"
#define SKEC_B64 "AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBN1fihzwgFDpUDAJBE5UUcIS9VaKWG2yfbKwKIiKU+IssTJy3g1eMZLgOUrwe2sKEowlM6+RdXao1M90IVitJIYAAAAEc3NoOg=="
#define SKEC_FP	"SHA256:+ZTNuy3KKPXv1DQ2On3wii8rjcezIbBksO1gslOg9JM"

/* Parse a line; expect success with the given type, base64, fingerprint. */
static void
expect_line_ok(const char *line, const char *type, const char *b64,
    const char *fp)
{
	struct sshkey_pub k;
	const char *why = NULL;

	assert_int_equal(sshkey_parse_line(line, strlen(line), &k, &why), 0);
	assert_string_equal(k.type, type);
	assert_non_null(k.b64);
	assert_string_equal(k.b64, b64);
	assert_string_equal(k.fp, fp);
	assert_int_equal(strlen(k.fp), 50);
	assert_true(sshkey_fp_valid(k.fp));
	sshkey_pub_free(&k);
	assert_null(k.b64);
}

static void
expect_line_bad(const char *line, size_t len, const char *want_why)
{
	struct sshkey_pub k;
	const char *why = NULL;

	assert_int_equal(sshkey_parse_line(line, len, &k, &why), SD_EBADREQ);
	assert_non_null(why);
	if (want_why != NULL)
		assert_string_equal(why, want_why);
	assert_null(k.b64);
}

static void
expect_parts_bad(const char *type, const char *b64, const char *want_why)
{
	struct sshkey_pub k;
	const char *why = NULL;

	assert_int_equal(sshkey_parse_parts(type, b64, &k, &why), SD_EBADREQ);
	assert_non_null(why);
	if (want_why != NULL)
		assert_string_equal(why, want_why);
	assert_null(k.b64);
}

static void
test_type_valid(void **state)
{
	(void)state;
	assert_true(sshkey_type_valid("ssh-ed25519"));
	assert_true(sshkey_type_valid("ssh-rsa"));
	assert_true(sshkey_type_valid("ecdsa-sha2-nistp256"));
	assert_true(sshkey_type_valid("ecdsa-sha2-nistp384"));
	assert_true(sshkey_type_valid("ecdsa-sha2-nistp521"));
	assert_true(sshkey_type_valid("sk-ssh-ed25519@openssh.com"));
	assert_true(sshkey_type_valid("sk-ecdsa-sha2-nistp256@openssh.com"));
	assert_false(sshkey_type_valid("ssh-dss"));
	assert_false(sshkey_type_valid("ssh-ed25519-cert-v01@openssh.com"));
	assert_false(sshkey_type_valid("ssh-ed2551"));
	assert_false(sshkey_type_valid("SSH-ED25519"));
	assert_false(sshkey_type_valid(""));
	assert_false(sshkey_type_valid(NULL));
}

static void
test_known_keys(void **state)
{
	(void)state;
	expect_line_ok(ED_TYPE " " ED_B64 " test@ed", ED_TYPE, ED_B64, ED_FP);
	expect_line_ok("ssh-rsa " RSA_B64 " test@rsa", "ssh-rsa", RSA_B64,
	    RSA_FP);
	expect_line_ok("ecdsa-sha2-nistp256 " E256_B64, "ecdsa-sha2-nistp256",
	    E256_B64, E256_FP);
	expect_line_ok("ecdsa-sha2-nistp384 " E384_B64, "ecdsa-sha2-nistp384",
	    E384_B64, E384_FP);
	expect_line_ok("ecdsa-sha2-nistp521 " E521_B64, "ecdsa-sha2-nistp521",
	    E521_B64, E521_FP);
	expect_line_ok("sk-ssh-ed25519@openssh.com " SKED_B64 " sk",
	    "sk-ssh-ed25519@openssh.com", SKED_B64, SKED_FP);
	expect_line_ok("sk-ecdsa-sha2-nistp256@openssh.com " SKEC_B64,
	    "sk-ecdsa-sha2-nistp256@openssh.com", SKEC_B64, SKEC_FP);
}

static void
test_line_forms(void **state)
{
	(void)state;
	/* Whitespace around, tabs, CRLF, a comment with spaces. */
	expect_line_ok("  \t" ED_TYPE "\t" ED_B64 "  \r\n", ED_TYPE, ED_B64,
	    ED_FP);
	expect_line_ok(ED_TYPE " " ED_B64 "\n", ED_TYPE, ED_B64, ED_FP);
	expect_line_ok(ED_TYPE " " ED_B64 " a comment with  spaces and = , \"",
	    ED_TYPE, ED_B64, ED_FP);
	/* $SSH_USER_AUTH form. */
	expect_line_ok("publickey " ED_TYPE " " ED_B64 "\n", ED_TYPE, ED_B64,
	    ED_FP);
	expect_line_ok("publickey ssh-rsa " RSA_B64, "ssh-rsa", RSA_B64,
	    RSA_FP);
	/* Only the given length counts. */
	{
		const char *l = ED_TYPE " " ED_B64 "garbage";
		struct sshkey_pub k;
		const char *why;

		assert_int_equal(sshkey_parse_line(l,
		    strlen(ED_TYPE " " ED_B64), &k, &why), 0);
		assert_string_equal(k.fp, ED_FP);
		sshkey_pub_free(&k);
	}
}

static void
test_parse_parts(void **state)
{
	struct sshkey_pub k;
	const char *why = NULL;

	(void)state;
	assert_int_equal(sshkey_parse_parts(ED_TYPE, ED_B64, &k, &why), 0);
	assert_string_equal(k.type, ED_TYPE);
	assert_string_equal(k.b64, ED_B64);
	assert_string_equal(k.fp, ED_FP);
	sshkey_pub_free(&k);

	expect_parts_bad("ssh-dss", ED_B64, "unsupported key type");
	expect_parts_bad(NULL, ED_B64, "unsupported key type");
	expect_parts_bad(ED_TYPE, "", "missing key data");
	expect_parts_bad(ED_TYPE, NULL, "missing key data");
	/* Blob says ssh-ed25519, caller says ssh-rsa. */
	expect_parts_bad("ssh-rsa", ED_B64, "key type does not match key data");
	expect_parts_bad(ED_TYPE, RSA_B64, "key type does not match key data");
	/* Same length prefix, different curve in the type. */
	expect_parts_bad("ecdsa-sha2-nistp384", E256_B64,
	    "key type does not match key data");
}

static void
test_bad_type_and_options(void **state)
{
	const char *l;

	(void)state;
	expect_line_bad("ssh-dss " ED_B64, strlen("ssh-dss " ED_B64),
	    "unsupported key type");
	l = "ssh-ed25519x " ED_B64;
	expect_line_bad(l, strlen(l), "unsupported key type");
	l = "restrict,command=\"/bin/sh\" " ED_TYPE " " ED_B64;
	expect_line_bad(l, strlen(l), "key options are not accepted");
	l = "from=\"10.0.0.1\" " ED_TYPE " " ED_B64;
	expect_line_bad(l, strlen(l), "key options are not accepted");
	l = "restrict " ED_TYPE " " ED_B64;
	expect_line_bad(l, strlen(l), "unsupported key type");
	l = "ssh-rsa " ED_B64;
	expect_line_bad(l, strlen(l), "key type does not match key data");
	l = ED_TYPE;
	expect_line_bad(l, strlen(l), "missing key data");
	l = ED_TYPE "   \n";
	expect_line_bad(l, strlen(l), "missing key data");
	l = "publickey";
	expect_line_bad(l, strlen(l), "missing key type");
	l = "publickey publickey " ED_TYPE " " ED_B64;
	expect_line_bad(l, strlen(l), "unsupported key type");
	expect_line_bad("", 0, "empty key line");
	expect_line_bad(" \t\r\n", 4, "empty key line");
	expect_line_bad(NULL, 0, "empty key line");
	/* Embedded NUL. */
	{
		char buf[] = ED_TYPE " " ED_B64 " comment";

		buf[strlen(ED_TYPE)] = '\0';
		expect_line_bad(buf, sizeof(buf) - 1, "NUL in key line");
	}
}

static void
test_bad_base64(void **state)
{
	char buf[256];

	(void)state;
	/* Character outside the alphabet. */
	expect_parts_bad(ED_TYPE,
	    "AAAAC3NzaC1lZDI1NTE5AAAAINJT0jf56d60wpCowaCXP89YmhjhnQ/AbQpKd7K0EP8!",
	    "key data is not valid base64");
	/* Whitespace inside. */
	expect_parts_bad(ED_TYPE,
	    "AAAAC3NzaC1lZDI1NTE5AAAA INJT0jf56d60wpCowaCXP89YmhjhnQ/AbQpKd7K0EP8l",
	    "key data is not valid base64");
	expect_parts_bad(ED_TYPE,
	    "AAAAC3NzaC1lZDI1NTE5AAAA\nINJT0jf56d60wpCowaCXP89YmhjhnQ/AbQpKd7K0EP8l",
	    "key data is not valid base64");
	/* URL-safe alphabet. */
	expect_parts_bad(ED_TYPE,
	    "AAAAC3NzaC1lZDI1NTE5AAAAINJT0jf56d60wpCowaCXP89YmhjhnQ_AbQpKd7K0EP8l",
	    "key data is not valid base64");
	/* Missing padding. */
	expect_parts_bad("sk-ssh-ed25519@openssh.com",
	    "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gAAAABHNzaDo",
	    "key data is not valid base64");
	/* Non-zero trailing bits ("Do=" -> "Dp="): not canonical. */
	expect_parts_bad("sk-ssh-ed25519@openssh.com",
	    "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gAAAABHNzaDp=",
	    "key data is not valid base64");
	/* Too much padding. */
	snprintf(buf, sizeof(buf), "%s==", SKED_B64);
	expect_parts_bad("sk-ssh-ed25519@openssh.com", buf,
	    "key data is not valid base64");
	/* Over SSHKEY_MAX_B64 characters. */
	{
		char *big = malloc(SSHKEY_MAX_B64 + 2);

		memset(big, 'A', SSHKEY_MAX_B64 + 1);
		big[SSHKEY_MAX_B64 + 1] = '\0';
		expect_parts_bad("ssh-rsa", big, "key data too long");
		free(big);
	}
}

static void
test_bad_blob(void **state)
{
	const char *line1024;

	(void)state;
	/* ed25519 blob with a 31-byte key (50 bytes). */
	expect_parts_bad(ED_TYPE,
	    "AAAAC3NzaC1lZDI1NTE5AAAAH9JT0jf56d60wpCowaCXP89YmhjhnQ/AbQpKd7K0EP8=",
	    "malformed key data");
	/* ed25519 blob with one trailing byte (52 bytes). */
	expect_parts_bad(ED_TYPE,
	    "AAAAC3NzaC1lZDI1NTE5AAAAINJT0jf56d60wpCowaCXP89YmhjhnQ/AbQpKd7K0EP8lAA==",
	    "trailing bytes in key data");
	/* Only the type string. */
	expect_parts_bad(ED_TYPE, "AAAAC3NzaC1lZDI1NTE5", "malformed key data");
	/* Type length larger than the blob. */
	expect_parts_bad(ED_TYPE, "AAAAD3NzaC1lZDI1NTE5",
	    "key type does not match key data");
	/* Four bytes of length only. */
	expect_parts_bad(ED_TYPE, "AAAACw==", "key type does not match key data");
	/* ssh-rsa with a 512-bit modulus. */
	expect_parts_bad("ssh-rsa",
	    "AAAAB3NzaC1yc2EAAAADAQABAAAAQQDBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "RSA keys below 2048 bits are refused");
	/* ssh-rsa with a 1024-bit and a 2047-bit modulus (ssh-keygen -b). */
	expect_parts_bad("ssh-rsa",
	    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC0ugxSe5YcuAIPNeDp/qxRLTjCOUD612AH"
	    "QluZuPQHJlwTcAHbpguTz4Nyl7MyZz1mJ5hnwzKPGpNgiZxyqBPukmgLALYg8gxP"
	    "dUYbSxs/AZmF0Y6QR00TmcPpTVRg2B/18201DT9ZxtBqxtoedkOTmTHTBbObo9nX"
	    "vMU3rgDWUw==",
	    "RSA keys below 2048 bits are refused");
	expect_parts_bad("ssh-rsa",
	    "AAAAB3NzaC1yc2EAAAADAQABAAABAGQJ49wl08/yG9lwsQu/RfvC6oh6YeL9U9mv"
	    "cEuoAH1v23Hw5Qma9/Htogu7Ftasu43aUqf/iBbe0edpamP4Kygrkdi2emW+rv5U"
	    "Gi4kJ7Bk7gROMuhACo7g1UPohFTbfxr6lxhINOfI4/TW29f8vUrGXPFVC/DJX1RV"
	    "D+nDN7bfWFCXtYZkYB67Tf2j7wEI0UNwzWpejn2viDWc2dd1Yx0hpJa8UiqCtd5u"
	    "SdzMi11ZuoZiYaUmKp8vsPIbuHTLUQPgfMDDiv4ltQC/FrNFvNWPM3y26Ss+DXE8"
	    "D6wfXJKAsBo9zZAXnC61i69YeKEM9yPPR5qYMiB33rPSYLcKJvc=",
	    "RSA keys below 2048 bits are refused");
	line1024 = "ssh-rsa "
	    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC0ugxSe5YcuAIPNeDp/qxRLTjCOUD612AH"
	    "QluZuPQHJlwTcAHbpguTz4Nyl7MyZz1mJ5hnwzKPGpNgiZxyqBPukmgLALYg8gxP"
	    "dUYbSxs/AZmF0Y6QR00TmcPpTVRg2B/18201DT9ZxtBqxtoedkOTmTHTBbObo9nX"
	    "vMU3rgDWUw==" " host@old\n";
	expect_line_bad(line1024, strlen(line1024),
	    "RSA keys below 2048 bits are refused");
	/* ECDSA with the wrong curve name inside. */
	expect_parts_bad("ecdsa-sha2-nistp256",
	    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAzODQAAABBBN1fihzwgFDpUDAJBE5UUcIS9VaKWG2yfbKwKIiKU+IssTJy3g1eMZLgOUrwe2sKEowlM6+RdXao1M90IVitJIY=",
	    "malformed key data");
	/* sk-ed25519 without the application string. */
	expect_parts_bad("sk-ssh-ed25519@openssh.com",
	    "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g",
	    "malformed key data");
}

static void
test_fp_valid(void **state)
{
	(void)state;
	assert_true(sshkey_fp_valid(ED_FP));
	assert_true(sshkey_fp_valid(RSA_FP));
	assert_false(sshkey_fp_valid(NULL));
	assert_false(sshkey_fp_valid(""));
	assert_false(sshkey_fp_valid("SHA256:"));
	/* Wrong prefix, wrong length, padding, bad char, bad last bits. */
	assert_false(sshkey_fp_valid("SHA512:FUpCL+BwNXtdN/zUxjV5SLz49ldlMKpOtzCCKHa7fjI"));
	assert_false(sshkey_fp_valid("sha256:FUpCL+BwNXtdN/zUxjV5SLz49ldlMKpOtzCCKHa7fjI"));
	assert_false(sshkey_fp_valid("SHA256:FUpCL+BwNXtdN/zUxjV5SLz49ldlMKpOtzCCKHa7fj"));
	assert_false(sshkey_fp_valid("SHA256:FUpCL+BwNXtdN/zUxjV5SLz49ldlMKpOtzCCKHa7fjI="));
	assert_false(sshkey_fp_valid("SHA256:FUpCL-BwNXtdN/zUxjV5SLz49ldlMKpOtzCCKHa7fjI"));
	assert_false(sshkey_fp_valid("SHA256:FUpCL+BwNXtdN/zUxjV5SLz49ldlMKpOtzCCKHa7fjJ"));
	assert_false(sshkey_fp_valid("MD5:ab:cd"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_valid),
		cmocka_unit_test(test_known_keys),
		cmocka_unit_test(test_line_forms),
		cmocka_unit_test(test_parse_parts),
		cmocka_unit_test(test_bad_type_and_options),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_bad_blob),
		cmocka_unit_test(test_fp_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
