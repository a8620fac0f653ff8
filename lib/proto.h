/*
 * proto.h - NDJSON protocol helpers shared by the three programs.
 *
 * One request or response is one JSON object on one line.  Parsing is
 * strict: UTF-8 only, no NUL in strings, no duplicate keys, nothing after
 * the object.  Building is compact, one line, no trailing newline (the
 * sender adds it).
 */
#ifndef SD_PROTO_H
#define SD_PROTO_H

#include <stddef.h>
#include <jansson.h>

#include "err.h"
#include "utf8.h"		/* utf8_valid_nonul(), for proto_set_value callers */

#define PROTO_MAX_LINE_DEFAULT	(1024 * 1024)	/* 1 MiB request line */
#define PROTO_MAX_LINE_CAP	(16 * 1024 * 1024)

/*
 * The message of the `unavailable` answer to a change whose COMMIT was
 * sent and never answered (the database connection died): it may or may
 * not have taken effect.  Fixed text (docs/protocol.md), so that a
 * client can tell it from an unavailable that changed nothing.
 */
#define PROTO_MSG_OUTCOME_UNKNOWN "the connection to the database was " \
	"lost while committing: the write may or may not have been " \
	"committed; read it back before retrying"

/*
 * Parse one line into a JSON object.  Returns the object (caller owns) or
 * NULL with *why set to a static message ("malformed JSON", "not an
 * object", ...).
 */
json_t	*proto_parse(const char *line, size_t len, const char **why);

/*
 * Serialise an object compactly onto one line and append "\n".  Returns a
 * malloc'ed NUL-terminated buffer and its length in *len (including the
 * newline).  The caller must freezero() it when it may hold a secret.
 * NULL (and *len 0) if obj is not an object or cannot be serialised (e.g.
 * a string made with json_stringn_nocheck that is not UTF-8).  The
 * intermediate buffers are wiped.
 */
char	*proto_dump(const json_t *obj, size_t *len);

/* {"id":<id>,"ok":false,"error":{"code":..,"message":..}}; id may be NULL. */
json_t	*proto_error(const json_t *id, int err, const char *message);
/* {"id":<id>,"ok":true}; id may be NULL. */
json_t	*proto_ok(const json_t *id);

/*
 * Typed field access on a request object.  Each returns 0, or SD_EBADREQ
 * with *why set to a static message naming the problem when the field is
 * missing (and required) or of the wrong type.  Optional fields that are
 * absent leave *out untouched and return 0.  A field that is present
 * but null is of the wrong type, not absent.  *why names the field
 * ("field 'path' missing"); it is formatted from the key the caller passed
 * (never from request data) into a small thread-local ring, so it stays
 * valid across at least the next 7 such calls in the same thread.
 */
int	proto_get_string(const json_t *obj, const char *key, int required,
	    const char **out, const char **why) SD_MUST_CHECK;
int	proto_get_int(const json_t *obj, const char *key, int required,
	    long long min, long long max, long long *out, const char **why)
	    SD_MUST_CHECK;
int	proto_get_bool(const json_t *obj, const char *key, int required,
	    int *out, const char **why) SD_MUST_CHECK;

/*
 * Values: a request carries either "value" (UTF-8 string) or
 * "value_base64".  proto_get_value decodes either into a fresh buffer
 * (caller freezero()s it) of at most max bytes; SD_ETOOLARGE beyond
 * ("value larger than N bytes"), checked before copying or decoding.  The
 * buffer is NUL-terminated (one byte past *outlen) for convenience; on
 * error *out is NULL and *outlen 0.
 * proto_set_value stores bytes under "value" when they are UTF-8 without
 * NUL, else under "value_base64".
 */
int	proto_get_value(const json_t *obj, size_t max, unsigned char **out,
	    size_t *outlen, const char **why) SD_MUST_CHECK;
void	proto_set_value(json_t *obj, const unsigned char *buf, size_t len);

#endif
