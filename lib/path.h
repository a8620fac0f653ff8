/*
 * path.h - secret tree paths: parsing, validation and conversion.
 *
 * A path is 0..32 names (0 is the root).  A name is 1..255 bytes of valid
 * UTF-8 with no NUL, no control character (C0, DEL or C1) and is not "."
 * or "..".  In JSON a path is an array of strings; on a command line it is
 * "a/b/c" (so names containing '/' can be reached only through JSON).
 */
#ifndef SD_PATH_H
#define SD_PATH_H

#include <stddef.h>
#include <jansson.h>

#include "err.h"

#define PATH_MAX_DEPTH	32
#define PATH_MAX_NAME	255

struct sd_path {
	int	 n;			/* number of names */
	char	*name[PATH_MAX_DEPTH];	/* owned, NUL-terminated */
};

/* 1 if the len bytes at s form a valid name, else 0. */
int	path_name_valid(const char *s, size_t len);

/*
 * Parse "a/b/c".  "" and "/" give the root; one leading and one trailing
 * '/' are tolerated; empty names ("a//b") are an error.  On error returns
 * SD_EBADREQ (also for more than 32 levels) and sets *why to a
 * static message; *out is then empty.  *out is overwritten, not freed:
 * pass an empty or uninitialised path.
 */
int	path_parse(const char *s, struct sd_path *out, const char **why)
	    SD_MUST_CHECK;

/* The same for a JSON array of strings. */
int	path_from_json(const json_t *arr, struct sd_path *out, const char **why)
	    SD_MUST_CHECK;

/* New JSON array of the names. */
json_t	*path_to_json(const struct sd_path *p);
/* "a/b/c" (root: ""); caller frees. */
char	*path_to_string(const struct sd_path *p);
/* Deep copy. */
void	path_copy(struct sd_path *dst, const struct sd_path *src);
/* Free names; leaves an empty path. */
void	path_free(struct sd_path *p);

#endif
