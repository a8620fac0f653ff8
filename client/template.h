/*
 * template.h - the templates of `secret template`: text in which
 * {{ secret "a/b/c" }} stands for the value of a/b/c.
 *
 * Grammar, strict on purpose (a typo must fail, not render):
 *   {{ WS* secret WS+ STRING WS* }}   the value at the path STRING
 *   {{ WS* STRING WS* }}              STRING itself (to write a literal
 *                                     "{{": {{ "{{" }})
 * STRING is double-quoted; inside it \" and \\ are the only escapes, and
 * control characters are not allowed.  WS is space, tab, CR or LF.
 * Everything outside {{ }} is copied byte for byte ("}}" alone too).
 * Anything else inside {{ }} is an error at its line and column.
 *
 * Pure: no I/O.  Rendered output holds values: the caller wipes it.
 */
#ifndef CLI_TEMPLATE_H
#define CLI_TEMPLATE_H

#include <stddef.h>

struct cli_tmpl;

/*
 * Parse len bytes of text.  Returns 0 and *out, or -1 with a message
 * "LINE:COL: what" (1-based; columns count characters) in err.
 */
int	cli_tmpl_parse(const unsigned char *text, size_t len,
	    struct cli_tmpl **out, char *err, size_t errlen);

/* Number of distinct secret paths used, and each as "a/b/c". */
size_t	cli_tmpl_npaths(const struct cli_tmpl *t);
const char *cli_tmpl_path(const struct cli_tmpl *t, size_t i);

/*
 * The text with every {{ secret }} replaced by vals[i] (lens[i] bytes),
 * i the index of its path.  Returns a malloc'ed buffer (caller
 * freezero()s *outlen bytes); never NULL.
 */
unsigned char *cli_tmpl_render(const struct cli_tmpl *t,
	    unsigned char *const *vals, const size_t *lens, size_t *outlen);

/* NULL is fine. */
void	cli_tmpl_free(struct cli_tmpl *t);

#endif
