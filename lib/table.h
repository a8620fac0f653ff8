/*
 * table.h - aligned columns of text: the one table renderer behind every
 * table `secret` prints (listings, audit query, the text audit report).
 *
 * Columns are two spaces apart and as wide as their widest cell, counted
 * in characters (utf8_width: cells are printable UTF-8 by then).  A cell
 * is left-aligned, or right-aligned where the column's align letter is
 * 'r'.  Trailing empty cells print nothing, and a left-aligned last cell
 * is not padded: no line ends in blanks.
 */
#ifndef SD_TABLE_H
#define SD_TABLE_H

#include <stddef.h>
#include <stdio.h>

struct table;

/*
 * A table of ncols columns, each line indented by indent spaces; align
 * is NULL (every column left-aligned) or ncols letters 'l' or 'r'.
 */
struct table *table_new(int ncols, const char *align, int indent);
/* Add a row of ncols malloc'ed cells; the table takes ownership. */
void	table_add(struct table *t, char **cells);
/* Add a row of copies of ncols strings (a header). */
void	table_add_copy(struct table *t, const char *const *cells);
size_t	table_rows(const struct table *t);
/* Print to f, then free t. */
void	table_print(struct table *t, FILE *f);
/* Free t unprinted (NULL: nothing). */
void	table_free(struct table *t);

#endif
