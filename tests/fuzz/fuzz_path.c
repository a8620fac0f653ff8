/*
 * fuzz_path.c - libFuzzer target for lib/path.c.
 *
 * Feeds the input to path_parse (as a C string) and, wrapped as a JSON
 * array of one string per '\x01'-separated piece, to path_from_json, and
 * checks the invariants every caller relies on: an accepted path has at
 * most 32 valid names, survives to_string/parse and to_json/from_json
 * round trips unchanged, and a rejected one is empty with a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "path.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_valid(const struct sd_path *p)
{
	int i;

	if (p->n < 0 || p->n > PATH_MAX_DEPTH)
		abort();
	for (i = 0; i < p->n; i++)
		if (!path_name_valid(p->name[i], strlen(p->name[i])))
			abort();
}

static int
path_equal(const struct sd_path *a, const struct sd_path *b)
{
	int i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->name[i], b->name[i]) != 0)
			return 0;
	return 1;
}

static void
check_roundtrips(const struct sd_path *p)
{
	struct sd_path q;
	const char *why;
	json_t *j;
	char *s;
	int i, has_slash = 0;

	j = path_to_json(p);
	if (j == NULL || path_from_json(j, &q, &why) != 0 || !path_equal(p, &q))
		abort();
	path_free(&q);
	json_decref(j);

	for (i = 0; i < p->n; i++)
		if (strchr(p->name[i], '/') != NULL)
			has_slash = 1;
	s = path_to_string(p);
	if (!has_slash) {
		if (path_parse(s, &q, &why) != 0 || !path_equal(p, &q))
			abort();
		path_free(&q);
	}
	free(s);

	path_copy(&q, p);
	if (!path_equal(p, &q))
		abort();
	path_free(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_path p;
	const char *why;
	char *s;
	json_t *arr;
	size_t i, start;

	/* path_name_valid on the raw bytes must agree with utf8 rules. */
	if (path_name_valid((const char *)data, size) &&
	    (size == 0 || size > PATH_MAX_NAME ||
	    !utf8_valid_nonul(data, size)))
		abort();

	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	why = NULL;
	if (path_parse(s, &p, &why) == 0) {
		check_valid(&p);
		check_roundtrips(&p);
	} else if (p.n != 0 || why == NULL) {
		abort();
	}
	path_free(&p);
	free(s);

	/* The same bytes as a JSON array, split at '\x01'. */
	arr = json_array();
	for (i = 0, start = 0; i <= size; i++) {
		if (i == size || data[i] == 0x01) {
			json_array_append_new(arr, json_stringn_nocheck(
			    (const char *)data + start, i - start));
			start = i + 1;
		}
	}
	why = NULL;
	if (path_from_json(arr, &p, &why) == 0) {
		check_valid(&p);
		check_roundtrips(&p);
	} else if (p.n != 0 || why == NULL) {
		abort();
	}
	path_free(&p);
	json_decref(arr);
	return 0;
}
