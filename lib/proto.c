/*
 * proto.c - NDJSON protocol helpers: strict parsing of one request line,
 * compact one-line serialisation, typed field access and value coding.
 *
 * Nothing here echoes request content into an error message: *why is a
 * static string, or one built in thread-local storage from the field name
 * the caller asked for (never from the request).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"
#include "xmalloc.h"

#define SET_WHY(w, msg) do { if ((w) != NULL) *(w) = (msg); } while (0)

/*
 * Messages that name a field ("field 'path' missing") are formatted into a
 * small per-thread ring, so the pointer stays valid across the next few
 * calls in the same thread.  The field name comes from the caller's code.
 */
#define WHY_SLOTS	8
#define WHY_LEN		96

static const char *
why_field(const char *key, const char *problem)
{
	static __thread char ring[WHY_SLOTS][WHY_LEN];
	static __thread unsigned next;
	char *slot = ring[next++ % WHY_SLOTS];

	snprintf(slot, WHY_LEN, "field '%s' %s", key, problem);
	return slot;
}

static const char *
why_size(size_t max)
{
	static __thread char ring[WHY_SLOTS][WHY_LEN];
	static __thread unsigned next;
	char *slot = ring[next++ % WHY_SLOTS];

	snprintf(slot, WHY_LEN, "value larger than %zu bytes", max);
	return slot;
}

json_t *
proto_parse(const char *line, size_t len, const char **why)
{
	json_error_t jerr;
	json_t *obj;
	size_t i;

	if (line == NULL) {
		SET_WHY(why, "malformed JSON");
		return NULL;
	}
	if (len > PROTO_MAX_LINE_CAP) {
		SET_WHY(why, "request line too long");
		return NULL;
	}
	if (memchr(line, '\0', len) != NULL) {
		SET_WHY(why, "NUL in line");
		return NULL;
	}
	/* Anything but an object is refused before parsing it. */
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' ||
	    line[i] == '\r' || line[i] == '\n'); i++)
		;
	if (i == len) {
		SET_WHY(why, "malformed JSON");
		return NULL;
	}
	if (line[i] != '{') {
		SET_WHY(why, "not an object");
		return NULL;
	}
	/* No JSON_DECODE_ANY, no JSON_ALLOW_NUL, no JSON_DISABLE_EOF_CHECK. */
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL) {
		switch (json_error_code(&jerr)) {
		case json_error_duplicate_key:
			SET_WHY(why, "duplicate key");
			break;
		case json_error_invalid_utf8:
			SET_WHY(why, "invalid UTF-8");
			break;
		case json_error_null_character:
		case json_error_null_byte_in_key:
			SET_WHY(why, "NUL in string");
			break;
		case json_error_end_of_input_expected:
			SET_WHY(why, "trailing data after object");
			break;
		case json_error_numeric_overflow:
			SET_WHY(why, "number out of range");
			break;
		default:
			SET_WHY(why, "malformed JSON");
			break;
		}
		return NULL;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		SET_WHY(why, "not an object");
		return NULL;
	}
	return obj;
}

struct dumpbuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

static int
dump_cb(const char *s, size_t n, void *data)
{
	struct dumpbuf *d = data;
	size_t ncap;
	char *nbuf;

	if (n > SIZE_MAX / 2 - d->len - 2)
		return -1;
	if (d->len + n + 2 > d->cap) {
		ncap = d->cap;
		while (d->len + n + 2 > ncap)
			ncap *= 2;
		/* Copy and wipe: the old block may hold a secret value. */
		nbuf = xmalloc(ncap);
		memcpy(nbuf, d->buf, d->len);
		freezero(d->buf, d->cap);
		d->buf = nbuf;
		d->cap = ncap;
	}
	memcpy(d->buf + d->len, s, n);
	d->len += n;
	return 0;
}

char *
proto_dump(const json_t *obj, size_t *len)
{
	struct dumpbuf d;

	*len = 0;
	if (!json_is_object(obj))
		return NULL;
	d.cap = 256;
	d.len = 0;
	d.buf = xmalloc(d.cap);
	if (json_dump_callback(obj, dump_cb, &d, JSON_COMPACT) != 0) {
		freezero(d.buf, d.cap);
		return NULL;
	}
	/* dump_cb always leaves room for these two. */
	d.buf[d.len++] = '\n';
	d.buf[d.len] = '\0';
	*len = d.len;
	return d.buf;
}

static json_t *
proto_reply(const json_t *id, int ok)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return NULL;
	if (id != NULL)
		json_object_set_new(obj, "id", json_deep_copy(id));
	json_object_set_new(obj, "ok", json_boolean(ok));
	return obj;
}

json_t *
proto_error(const json_t *id, int err, const char *message)
{
	json_t *obj, *e, *msg;

	if ((obj = proto_reply(id, 0)) == NULL)
		return NULL;
	if (message == NULL)
		message = sd_err_code(err);
	if ((msg = json_string(message)) == NULL)
		msg = json_string("invalid error message");
	e = json_object();
	json_object_set_new(e, "code", json_string(sd_err_code(err)));
	json_object_set_new(e, "message", msg);
	json_object_set_new(obj, "error", e);
	return obj;
}

json_t *
proto_ok(const json_t *id)
{
	return proto_reply(id, 1);
}

/*
 * The field in *v, NULL when absent and optional.  SD_EBADREQ when obj is
 * no object or a required field is missing.
 */
static int
field(const json_t *obj, const char *key, int required, json_t **v,
    const char **why)
{
	*v = NULL;
	if (!json_is_object(obj)) {
		SET_WHY(why, "not an object");
		return SD_EBADREQ;
	}
	if ((*v = json_object_get(obj, key)) == NULL && required) {
		SET_WHY(why, why_field(key, "missing"));
		return SD_EBADREQ;
	}
	return 0;
}

int
proto_get_string(const json_t *obj, const char *key, int required,
    const char **out, const char **why)
{
	json_t *v;
	int r;

	if ((r = field(obj, key, required, &v, why)) != 0 || v == NULL)
		return r;
	if (!json_is_string(v)) {
		SET_WHY(why, why_field(key, "must be a string"));
		return SD_EBADREQ;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		SET_WHY(why, why_field(key, "contains NUL"));
		return SD_EBADREQ;
	}
	*out = json_string_value(v);
	return 0;
}

int
proto_get_int(const json_t *obj, const char *key, int required,
    long long min, long long max, long long *out, const char **why)
{
	json_t *v;
	json_int_t n;
	int r;

	if ((r = field(obj, key, required, &v, why)) != 0 || v == NULL)
		return r;
	if (!json_is_integer(v)) {
		SET_WHY(why, why_field(key, "must be an integer"));
		return SD_EBADREQ;
	}
	n = json_integer_value(v);
	if (n < min || n > max) {
		SET_WHY(why, why_field(key, "out of range"));
		return SD_EBADREQ;
	}
	*out = n;
	return 0;
}

int
proto_get_bool(const json_t *obj, const char *key, int required, int *out,
    const char **why)
{
	json_t *v;
	int r;

	if ((r = field(obj, key, required, &v, why)) != 0 || v == NULL)
		return r;
	if (!json_is_boolean(v)) {
		SET_WHY(why, why_field(key, "must be a boolean"));
		return SD_EBADREQ;
	}
	*out = json_is_true(v);
	return 0;
}

int
proto_get_value(const json_t *obj, size_t max, unsigned char **out,
    size_t *outlen, const char **why)
{
	json_t *v, *b;
	const char *s;
	unsigned char *buf;
	size_t slen, dlen, binlen;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = field(obj, "value", 0, &v, why)) != 0)
		return r;
	b = json_object_get(obj, "value_base64");
	if (v != NULL && b != NULL) {
		SET_WHY(why, "value and value_base64 are exclusive");
		return SD_EBADREQ;
	}
	if (v == NULL && b == NULL) {
		SET_WHY(why, "value missing");
		return SD_EBADREQ;
	}

	if (v != NULL) {
		if (!json_is_string(v)) {
			SET_WHY(why, "value must be a string");
			return SD_EBADREQ;
		}
		s = json_string_value(v);
		slen = json_string_length(v);
		if (slen > max) {
			SET_WHY(why, why_size(max));
			return SD_ETOOLARGE;
		}
		if (strlen(s) != slen) {
			SET_WHY(why, "value contains NUL; use value_base64");
			return SD_EBADREQ;
		}
		buf = xmalloc(slen + 1);
		memcpy(buf, s, slen);
		buf[slen] = '\0';
		*out = buf;
		*outlen = slen;
		return 0;
	}

	if (!json_is_string(b)) {
		SET_WHY(why, "value_base64 must be a string");
		return SD_EBADREQ;
	}
	s = json_string_value(b);
	slen = json_string_length(b);
	if (slen % 4 != 0) {
		SET_WHY(why, "value_base64 is not valid base64");
		return SD_EBADREQ;
	}
	/* Exact decoded size from the length and the padding, before
	 * decoding anything. */
	dlen = slen / 4 * 3;
	if (slen > 0 && s[slen - 1] == '=')
		dlen--;
	if (slen > 1 && s[slen - 2] == '=')
		dlen--;
	if (dlen > max) {
		SET_WHY(why, why_size(max));
		return SD_ETOOLARGE;
	}
	buf = xmalloc(dlen + 1);
	if (sodium_base642bin(buf, dlen + 1, s, slen, NULL, &binlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		freezero(buf, dlen + 1);
		SET_WHY(why, "value_base64 is not valid base64");
		return SD_EBADREQ;
	}
	if (binlen > max) {
		freezero(buf, dlen + 1);
		SET_WHY(why, why_size(max));
		return SD_ETOOLARGE;
	}
	buf[binlen] = '\0';
	*out = buf;
	*outlen = binlen;
	return 0;
}

void
proto_set_value(json_t *obj, const unsigned char *buf, size_t len)
{
	size_t elen;
	char *enc;

	if (utf8_valid_nonul(buf, len)) {
		json_object_del(obj, "value_base64");
		json_object_set_new(obj, "value",
		    json_stringn_nocheck((const char *)buf, len));
		return;
	}
	elen = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	enc = xmalloc(elen);
	sodium_bin2base64(enc, elen, buf, len, sodium_base64_VARIANT_ORIGINAL);
	json_object_del(obj, "value");
	json_object_set_new(obj, "value_base64", json_stringn_nocheck(enc,
	    elen - 1));
	freezero(enc, elen);
}
