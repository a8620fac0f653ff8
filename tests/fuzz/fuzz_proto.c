/*
 * fuzz_proto.c - libFuzzer target for lib/proto.c.
 *
 * Parses the input as one request line and exercises every getter the
 * server uses on it, plus value decoding and re-encoding.  Invariants:
 * an accepted line is an object that dumps to one line and parses back
 * equal; a decoded value is at most max bytes and survives
 * proto_set_value/proto_get_value unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "path.h"
#include "proto.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmalloc_json_wipe_init();
	return 0;
}

static void
check_value(const json_t *obj, size_t max)
{
	unsigned char *val = NULL, *val2 = NULL;
	size_t len = 0, len2 = 0;
	const char *why = NULL;
	json_t *o2;
	int r;

	r = proto_get_value(obj, max, &val, &len, &why);
	if (r != 0) {
		if (val != NULL || len != 0 || why == NULL ||
		    (r != SD_EBADREQ && r != SD_ETOOLARGE))
			abort();
		return;
	}
	if (val == NULL || len > max)
		abort();
	o2 = json_object();
	proto_set_value(o2, val, len);
	if (proto_get_value(o2, max, &val2, &len2, &why) != 0 ||
	    len2 != len || memcmp(val, val2, len) != 0)
		abort();
	if ((json_object_get(o2, "value") != NULL) != utf8_valid_nonul(val, len))
		abort();
	freezero(val, len);
	freezero(val2, len2);
	json_decref(o2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL, *s;
	json_t *obj, *back, *reply;
	long long n;
	int b;
	char *line;
	size_t len;
	struct sd_path p;

	obj = proto_parse((const char *)data, size, &why);
	if (obj == NULL) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (!json_is_object(obj))
		abort();

	/* Dump: one line, newline-terminated, parses back equal. */
	line = proto_dump(obj, &len);
	if (line == NULL || len == 0 || line[len - 1] != '\n' ||
	    memchr(line, '\n', len - 1) != NULL || strlen(line) != len)
		abort();
	back = proto_parse(line, len - 1, &why);
	if (back == NULL || !json_equal(obj, back))
		abort();
	json_decref(back);
	freezero(line, len);

	(void)proto_get_string(obj, "action", 1, &s, &why);
	(void)proto_get_string(obj, "group", 0, &s, &why);
	(void)proto_get_int(obj, "version", 0, 1, INT32_MAX, &n, &why);
	(void)proto_get_int(obj, "cas", 0, 0, INT64_MAX, &n, &why);
	(void)proto_get_bool(obj, "recursive", 0, &b, &why);
	if (path_from_json(json_object_get(obj, "path"), &p, &why) == 0)
		path_free(&p);
	check_value(obj, 65536);
	check_value(obj, 8);
	check_value(obj, 0);

	reply = proto_error(json_object_get(obj, "id"), SD_EBADREQ, "x");
	line = proto_dump(reply, &len);
	if (line == NULL)
		abort();
	free(line);
	json_decref(reply);
	json_decref(obj);
	return 0;
}
