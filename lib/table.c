/*
 * table.c - aligned columns of text (see table.h).
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "utf8.h"
#include "xmalloc.h"

struct table {
	int	  ncols;
	int	  indent;
	char	 *align;		/* ncols letters, 'l' or 'r' */
	size_t	  nrows;
	char	**cells;		/* nrows * ncols */
};

struct table *
table_new(int ncols, const char *align, int indent)
{
	struct table *t = xcalloc(1, sizeof(*t));
	int c;

	t->ncols = ncols;
	t->indent = indent;
	t->align = xmalloc((size_t)ncols + 1);
	for (c = 0; c < ncols; c++)
		t->align[c] = align != NULL && align[c] == 'r' ? 'r' : 'l';
	t->align[ncols] = '\0';
	return t;
}

void
table_add(struct table *t, char **cells)
{
	t->cells = xreallocarray(t->cells, (t->nrows + 1) * (size_t)t->ncols,
	    sizeof(char *));
	memcpy(t->cells + t->nrows * (size_t)t->ncols, cells,
	    (size_t)t->ncols * sizeof(char *));
	t->nrows++;
}

void
table_add_copy(struct table *t, const char *const *cells)
{
	char **row = xcalloc((size_t)t->ncols, sizeof(char *));
	int c;

	for (c = 0; c < t->ncols; c++)
		row[c] = xstrdup(cells[c]);
	table_add(t, row);
	free(row);
}

size_t
table_rows(const struct table *t)
{
	return t->nrows;
}

void
table_print(struct table *t, FILE *f)
{
	size_t *w = xcalloc((size_t)t->ncols + 1, sizeof(*w)), r, k;
	char **row;
	int c, last;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++)
			if ((k = utf8_width(t->cells[r * (size_t)t->ncols +
			    (size_t)c])) > w[c])
				w[c] = k;
	for (r = 0; r < t->nrows; r++) {
		row = t->cells + r * (size_t)t->ncols;
		for (last = t->ncols - 1; last >= 0 && row[last][0] == '\0';
		    last--)
			;
		fprintf(f, "%*s", t->indent, "");
		for (c = 0; c <= last; c++) {
			k = w[c] - utf8_width(row[c]);
			if (c > 0)
				fputs("  ", f);
			if (t->align[c] == 'r')
				fprintf(f, "%*s", (int)k, "");
			fputs(row[c], f);
			if (t->align[c] != 'r' && c < last)
				fprintf(f, "%*s", (int)k, "");
		}
		fputc('\n', f);
	}
	free(w);
	table_free(t);
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->align);
	free(t);
}
