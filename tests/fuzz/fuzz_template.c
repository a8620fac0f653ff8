/*
 * fuzz_template.c - libFuzzer target for the templates of `secret
 * template` (client/template.c): {{ secret "a/b/c" }} in any text.
 *
 * Invariants: a refusal says "LINE:COL: what", with LINE within the
 * input; an accepted template has distinct paths, each canonical
 * ("a/b/c" that path_parse gives back unchanged); rendering copies
 * everything outside {{ }} (an input without "{{" renders to itself),
 * never grows the text but by the values, and each secret use takes
 * exactly its value's bytes (rendering with one-byte values is longer
 * than with empty ones by the number of uses, at least npaths).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "xmalloc.h"
#include "client/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_error(const char *err, const uint8_t *data, size_t size)
{
	unsigned long line = 0, col = 0, lines = 1;
	const char *p = err;
	char *end;
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	line = strtoul(p, &end, 10);
	if (end == p || *end != ':' || line < 1 || line > lines)
		abort();
	p = end + 1;
	col = strtoul(p, &end, 10);
	if (end == p || col < 1 || strncmp(end, ": ", 2) != 0 ||
	    end[2] == '\0')
		abort();
}

static void
check_template(const struct cli_tmpl *t, const uint8_t *data, size_t size)
{
	size_t n = cli_tmpl_npaths(t), i, j, len0, len1;
	unsigned char **vals, *out0, *out1;
	size_t *zero, *one;
	struct sd_path p;
	const char *why;
	char *s;

	for (i = 0; i < n; i++) {
		if (path_parse(cli_tmpl_path(t, i), &p, &why) != 0 || p.n == 0)
			abort();
		s = path_to_string(&p);
		if (strcmp(s, cli_tmpl_path(t, i)) != 0)
			abort();
		free(s);
		path_free(&p);
		for (j = 0; j < i; j++)
			if (strcmp(cli_tmpl_path(t, i), cli_tmpl_path(t, j)) == 0)
				abort();
	}

	vals = xcalloc(n + 1, sizeof(*vals));
	zero = xcalloc(n + 1, sizeof(*zero));
	one = xcalloc(n + 1, sizeof(*one));
	for (i = 0; i < n; i++) {
		vals[i] = (unsigned char *)"X";
		one[i] = 1;
	}
	out0 = cli_tmpl_render(t, vals, zero, &len0);
	out1 = cli_tmpl_render(t, vals, one, &len1);
	if (len0 > size || len1 < len0 + n)
		abort();
	if (memmem(data, size, "{{", 2) == NULL &&
	    (len0 != size || (size > 0 && memcmp(out0, data, size) != 0) ||
	    n != 0))
		abort();
	free(out0);
	free(out1);
	free(vals);
	free(zero);
	free(one);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_tmpl *t = NULL;
	char err[256];

	err[0] = '\0';
	if (cli_tmpl_parse(data, size, &t, err, sizeof(err)) == 0) {
		if (t == NULL)
			abort();
		check_template(t, data, size);
	} else {
		if (t != NULL)
			abort();
		check_error(err, data, size);
	}
	cli_tmpl_free(t);
	return 0;
}
