/*
 * test_audit_row.c - the audit row's canonical form and MAC, against
 * vectors computed here independently (and one fixed known answer, so
 * that a change of the format cannot pass unnoticed), its columns, the
 * SQL built from the column list, and the seal hash.
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

#include <sodium.h>

#include "err.h"
#include "secretd/audit_row.h"
#include "secretd/crypto.h"

static char dir[64], ring[128];
static struct keyring *kr;
static unsigned char kdf[32], mac_key[32];

static int
setup(void **state)
{
	char err[256], b64[64];
	unsigned char key[32];
	FILE *f;
	int i;

	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (i = 0; i < 32; i++) {
		kdf[i] = (unsigned char)i;
		key[i] = 0x11;
	}
	snprintf(dir, sizeof(dir), "/tmp/sdaudit.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(ring, sizeof(ring), "%s/keyring", dir);
	if ((f = fopen(ring, "w")) == NULL)
		return -1;
	sodium_bin2base64(b64, sizeof(b64), key, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	fprintf(f, "1 %s\n", b64);
	sodium_bin2base64(b64, sizeof(b64), kdf, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	fprintf(f, "kdf %s\n", b64);
	fclose(f);
	chmod(ring, 0400);
	crypto_kdf_derive_from_key(mac_key, 32, 2, "sdaudit1", kdf);
	return keyring_load(ring, &kr, err, sizeof(err));
}

static int
teardown(void **state)
{
	(void)state;
	keyring_free(kr);
	unlink(ring);
	rmdir(dir);
	return 0;
}

/* An independent encoder of the canonical form. */
struct buf {
	unsigned char	 p[1024];
	size_t		 n;
};

static void
put(struct buf *b, const void *v, uint32_t len)
{
	b->p[b->n++] = (unsigned char)(len >> 24);
	b->p[b->n++] = (unsigned char)(len >> 16);
	b->p[b->n++] = (unsigned char)(len >> 8);
	b->p[b->n++] = (unsigned char)len;
	if (v != NULL && len != 0xffffffffu) {
		memcpy(b->p + b->n, v, len);
		b->n += len;
	}
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, (uint32_t)strlen(s));
}

static const unsigned char hash32[32] = {
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
};

static void
sample(struct audit_input *in, struct sd_path *p, json_t **id, json_t **det)
{
	const char *why;
	json_t *jp = json_pack("[ss]", "a", "b");

	assert_int_equal(path_from_json(jp, p, &why), 0);
	json_decref(jp);
	*id = json_integer(7);
	*det = json_pack("{s:s}", "k", "v");
	memset(in, 0, sizeof(*in));
	in->at_us = 1700000000000000LL;
	in->principal = "alice";
	in->fingerprint = "SHA256:abc";
	in->action = "secret.get";
	in->path = p;
	in->version = 3;
	in->client_addr = "127.0.0.1";
	in->client_port = 5000;
	in->session_id = "0123456789abcdef";
	in->request_id = *id;
	in->value_hash = hash32;
	in->detail = *det;
}

static void
test_mac_matches_independent_encoding(void **state)
{
	struct audit_input in;
	struct audit_row row = { 0 };
	struct sd_path p;
	struct buf b = { .n = 0 }, inner = { .n = 0 };
	unsigned char want[32];
	char hex[65];
	json_t *id, *det;

	(void)state;
	sample(&in, &p, &id, &det);
	audit_row_build(&row, kr, &in);

	/* canonical order: at, principal, ..., detail (audit_row.h) */
	puts_(&b, "1700000000000000");
	puts_(&b, "alice");
	puts_(&b, "SHA256:abc");
	puts_(&b, "secret.get");
	puts_(&inner, "a");
	puts_(&inner, "b");
	put(&b, inner.p, (uint32_t)inner.n);
	puts_(&b, "3");
	puts_(&b, "ok");
	put(&b, NULL, 0xffffffffu);		/* error_code */
	puts_(&b, "127.0.0.1");
	puts_(&b, "5000");
	puts_(&b, "0123456789abcdef");
	puts_(&b, "7");
	put(&b, hash32, 32);
	puts_(&b, "{\"k\":\"v\"}");
	crypto_generichash(want, 32, b.p, b.n, mac_key, 32);
	assert_memory_equal(row.mac, want, 32);
	assert_memory_equal(row.v[AC_MAC], want, 32);

	/* the known answer: the format is fixed */
	sodium_bin2hex(hex, sizeof(hex), row.mac, 32);
	assert_string_equal(hex, "5a6566bb0bd7ee4b6556301509f744c0"
	    "527d36c69ef87c238a5e921abc893b8d");

	assert_string_equal(row.v[AC_RESULT], "ok");
	assert_null(row.v[AC_ERROR_CODE]);
	assert_string_equal(row.v[AC_VERSION], "3");
	assert_string_equal(row.v[AC_PATH], "{\"a\",\"b\"}");
	assert_null(row.mirror);
	audit_row_free(&row);
	path_free(&p);
	json_decref(id);
	json_decref(det);
}

static void
test_outcomes_and_mirror(void **state)
{
	struct audit_input in;
	struct audit_row row = { 0 };
	struct sd_path p;
	json_t *id, *det, *m;
	unsigned char ok_mac[32];

	(void)state;
	sample(&in, &p, &id, &det);
	audit_row_build(&row, kr, &in);
	memcpy(ok_mac, row.mac, 32);
	audit_row_free(&row);

	in.err = SD_EPERM;
	in.mirror = 1;
	audit_row_build(&row, kr, &in);
	assert_string_equal(row.v[AC_RESULT], "denied");
	assert_string_equal(row.v[AC_ERROR_CODE], "permission_denied");
	assert_memory_not_equal(row.mac, ok_mac, 32);
	/* the mirror: the row's fields, never a value or its hash */
	assert_non_null(row.mirror);
	m = json_loads(row.mirror, 0, NULL);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "result")),
	    "denied");
	assert_non_null(json_object_get(m, "path"));
	assert_null(json_object_get(m, "value_hash"));
	json_decref(m);
	audit_row_free(&row);

	in.err = SD_EINTERNAL;
	in.err_code = "truncated";
	in.mirror = 0;
	audit_row_build(&row, kr, &in);
	assert_string_equal(row.v[AC_RESULT], "error");
	assert_string_equal(row.v[AC_ERROR_CODE], "truncated");
	audit_row_free(&row);

	/* no path, no version, no request id: NULLs */
	in.err = 0;
	in.err_code = NULL;
	in.path = NULL;
	in.version = -1;
	in.request_id = NULL;
	in.value_hash = NULL;
	in.detail = NULL;
	in.client_port = 0;
	audit_row_build(&row, kr, &in);
	assert_null(row.v[AC_PATH]);
	assert_null(row.v[AC_VERSION]);
	assert_null(row.v[AC_REQUEST_ID]);
	assert_null(row.v[AC_VALUE_HASH]);
	assert_null(row.v[AC_DETAIL]);
	assert_null(row.v[AC_CLIENT_PORT]);
	audit_row_free(&row);
	path_free(&p);
	json_decref(id);
	json_decref(det);
}

static void
test_columns_as_arrays(void **state)
{
	struct audit_input in;
	struct audit_row a = { 0 }, b = { 0 };
	struct audit_cols c;
	const char *const *v;
	struct sd_path p;
	json_t *id, *det;

	(void)state;
	sample(&in, &p, &id, &det);
	audit_row_build(&a, kr, &in);
	in.principal = NULL;
	in.err = SD_ENOTFOUND;
	audit_row_build(&b, kr, &in);
	audit_cols_init(&c);
	audit_cols_add(&c, &a);
	audit_cols_add(&c, &b);
	v = audit_cols_params(&c);
	assert_int_equal(c.n, 2);
	assert_string_equal(v[AC_PRINCIPAL], "{\"alice\",NULL}");
	assert_string_equal(v[AC_RESULT], "{\"ok\",\"error\"}");
	assert_string_equal(v[AC_ERROR_CODE], "{NULL,\"not_found\"}");
	assert_non_null(strstr(v[AC_VALUE_HASH], "\\\\xaaaa"));
	audit_cols_free(&c);
	audit_row_free(&a);
	audit_row_free(&b);
	path_free(&p);
	json_decref(id);
	json_decref(det);
}

static void
test_sql_from_the_column_list(void **state)
{
	(void)state;
	/* the INSERT names the columns in canonical order, the MAC last,
	 * and its parameters follow the same order */
	assert_non_null(strstr(AUDIT_INSERT_SQL, "INSERT INTO audit_log (at, "
	    "principal, fingerprint, action, path, version, result, "
	    "error_code, client_addr, client_port, session_id, request_id, "
	    "value_hash, detail, mac)"));
	assert_non_null(strstr(AUDIT_INSERT_SQL, "unnest($1::bigint[], "
	    "$2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], "
	    "$7::text[], $8::text[], $9::text[], $10::integer[], "
	    "$11::text[], $12::text[], $13::bytea[], $14::text[], "
	    "$15::bytea[])"));
	assert_non_null(strstr(AUDIT_SELECT_COLUMNS, "id, (extract(epoch "
	    "FROM at) * 1000000)::bigint, principal, "));
	assert_int_equal(AC_MAC, 14);
	assert_int_equal(AUDIT_NCOLS, 15);
}

static void
test_seal_hash(void **state)
{
	unsigned char prev[32], mac[32], out[32], want[32], buf[72];
	int64_t id = 0x0102030405060708LL;

	(void)state;
	memset(prev, 0x01, 32);
	memset(mac, 0x02, 32);
	audit_seal_hash(kr, prev, id, mac, out);
	memcpy(buf, prev, 32);
	memcpy(buf + 32, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	memcpy(buf + 40, mac, 32);
	crypto_generichash(want, 32, buf, sizeof(buf), mac_key, 32);
	assert_memory_equal(out, want, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_matches_independent_encoding),
		cmocka_unit_test(test_outcomes_and_mirror),
		cmocka_unit_test(test_columns_as_arrays),
		cmocka_unit_test(test_sql_from_the_column_list),
		cmocka_unit_test(test_seal_hash),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
