/*
 * put_rows.c - new secret versions, written by one statement
 * (put_rows.h).  Each column travels as one array parameter.
 */
#include <stdio.h>

#include "put_rows.h"
#include "store.h"

void
put_rows_init(struct put_rows *pr, int keep)
{
	pg_array_init(&pr->node);
	pg_array_init(&pr->version);
	pg_array_init(&pr->key_id);
	pg_array_init(&pr->nonce);
	pg_array_init(&pr->ciphertext);
	pg_array_init(&pr->by);
	pr->keep = keep;
	pr->n = 0;
}

void
put_rows_add(struct put_rows *pr, long long node, int version,
    uint32_t key_id, const unsigned char *nonce, size_t nonce_len,
    const unsigned char *ct, size_t ct_len, const char *by)
{
	pg_array_int(&pr->node, node);
	pg_array_int(&pr->version, version);
	pg_array_int(&pr->key_id, key_id);
	pg_array_bytea(&pr->nonce, nonce, nonce_len);
	pg_array_bytea(&pr->ciphertext, ct, ct_len);
	pg_array_text(&pr->by, by);
	pr->n++;
}

int
put_rows_queue(struct put_rows *pr, struct db *d)
{
	char keep[16];
	const char *v[7];

	snprintf(keep, sizeof(keep), "%d", pr->keep);
	v[0] = pg_array_str(&pr->node);
	v[1] = pg_array_str(&pr->version);
	v[2] = pg_array_str(&pr->key_id);
	v[3] = pg_array_str(&pr->nonce);
	v[4] = pg_array_str(&pr->ciphertext);
	v[5] = pg_array_str(&pr->by);
	v[6] = keep;
	/* db_queue copies the parameters */
	return db_queue(d, ST_PUT_VERSION, 7, v, NULL, NULL, NULL);
}

void
put_rows_free(struct put_rows *pr)
{
	pg_array_free(&pr->node);
	pg_array_free(&pr->version);
	pg_array_free(&pr->key_id);
	pg_array_free(&pr->nonce);
	pg_array_free(&pr->ciphertext);
	pg_array_free(&pr->by);
	pr->n = 0;
}
