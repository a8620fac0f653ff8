/*
 * path.c - secret tree paths: parsing, validation and conversion.
 *
 * The rules (lib/path.h, docs/protocol.md): 0..32 names; a name is 1..255
 * bytes of valid UTF-8 with no C0 control, DEL or C1 control, and is not
 * "." or "..".  Error messages are static and never echo the input.
 */
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "utf8.h"
#include "xmalloc.h"

#define SET_WHY(w, msg) do { if ((w) != NULL) *(w) = (msg); } while (0)

/* NULL if the name is valid, else a static reason. */
static const char *
name_problem(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	if (len == 0)
		return "empty name in path";
	if (len > PATH_MAX_NAME)
		return "name longer than 255 bytes";
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return "name must not be . or ..";
	if (memchr(s, '\0', len) != NULL)
		return "NUL in name";
	if (!utf8_valid_nonul(u, len))
		return "name is not valid UTF-8";
	/*
	 * The bytes are valid UTF-8, so a C0 control or DEL can only appear
	 * as itself, and a C1 control (U+0080..U+009F) only as 0xC2 followed
	 * by 0x80..0x9F (0xC2 is never a continuation byte).
	 */
	for (i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return "control character in name";
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] <= 0x9f)
			return "control character in name";
	}
	return NULL;
}

int
path_name_valid(const char *s, size_t len)
{
	if (s == NULL)
		return 0;
	return name_problem(s, len) == NULL;
}

static void
path_init(struct sd_path *p)
{
	memset(p, 0, sizeof(*p));
}

int
path_parse(const char *s, struct sd_path *out, const char **why)
{
	const char *p, *end, *slash, *problem;
	size_t len;
	int n;

	path_init(out);
	if (s == NULL) {
		SET_WHY(why, "missing path");
		return SD_EBADREQ;
	}
	len = strlen(s);
	if (len == 0 || (len == 1 && s[0] == '/'))
		return 0;
	p = s;
	end = s + len;
	if (*p == '/')
		p++;
	if (end > p && end[-1] == '/')
		end--;

	/* Count first: no allocation for a path that is too deep. */
	n = 1;
	for (slash = p; slash < end; slash++) {
		if (*slash == '/' && ++n > PATH_MAX_DEPTH) {
			SET_WHY(why, "path deeper than 32 levels");
			return SD_EBADREQ;
		}
	}

	while (p <= end) {
		slash = memchr(p, '/', (size_t)(end - p));
		if (slash == NULL)
			slash = end;
		if ((problem = name_problem(p, (size_t)(slash - p))) != NULL) {
			path_free(out);
			SET_WHY(why, problem);
			return SD_EBADREQ;
		}
		out->name[out->n++] = xstrndup(p, (size_t)(slash - p));
		p = slash + 1;
	}
	return 0;
}

int
path_from_json(const json_t *arr, struct sd_path *out, const char **why)
{
	const char *problem, *s;
	size_t i, n, len;

	path_init(out);
	if (!json_is_array(arr)) {
		SET_WHY(why, "path must be an array of strings");
		return SD_EBADREQ;
	}
	n = json_array_size(arr);
	if (n > PATH_MAX_DEPTH) {
		SET_WHY(why, "path deeper than 32 levels");
		return SD_EBADREQ;
	}
	/* Validate everything before allocating anything. */
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(arr, i);

		if (!json_is_string(e)) {
			SET_WHY(why, "path must be an array of strings");
			return SD_EBADREQ;
		}
		s = json_string_value(e);
		len = json_string_length(e);
		if (strlen(s) != len) {
			SET_WHY(why, "NUL in name");
			return SD_EBADREQ;
		}
		if ((problem = name_problem(s, len)) != NULL) {
			SET_WHY(why, problem);
			return SD_EBADREQ;
		}
	}
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(arr, i);

		out->name[out->n++] = xstrndup(json_string_value(e),
		    json_string_length(e));
	}
	return 0;
}

json_t *
path_to_json(const struct sd_path *p)
{
	json_t *arr = json_array();
	int i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < p->n; i++) {
		if (json_array_append_new(arr, json_string(p->name[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

char *
path_to_string(const struct sd_path *p)
{
	size_t total = 1, off = 0, l;
	char *s;
	int i;

	for (i = 0; i < p->n; i++)
		total += strlen(p->name[i]) + 1;
	s = xmalloc(total);
	for (i = 0; i < p->n; i++) {
		if (i > 0)
			s[off++] = '/';
		l = strlen(p->name[i]);
		memcpy(s + off, p->name[i], l);
		off += l;
	}
	s[off] = '\0';
	return s;
}

void
path_copy(struct sd_path *dst, const struct sd_path *src)
{
	int i;

	path_init(dst);
	for (i = 0; i < src->n && i < PATH_MAX_DEPTH; i++)
		dst->name[i] = xstrdup(src->name[i]);
	dst->n = i;
}

void
path_free(struct sd_path *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n && i < PATH_MAX_DEPTH; i++)
		free(p->name[i]);
	path_init(p);
}
