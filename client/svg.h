/*
 * svg.h - the charts of the HTML audit report, drawn as inline SVG in C:
 * stacked columns (one per day) and stacked horizontal bars (one per
 * principal, path or source), plus the HTML escaping every string from
 * the server goes through.
 *
 * Output is markup for an HTML5 page (inline <svg>, styled by the page's
 * CSS classes "s-<series>"); it never references anything outside the
 * page: no scripts, no fonts, no URLs.  Labels are untrusted: each is
 * made printable and escaped here.
 */
#ifndef CLI_SVG_H
#define CLI_SVG_H

#include <stddef.h>
#include <stdio.h>

#define SVG_MAX_SERIES	4

/* One series of a stacked chart: CSS class suffix and legend name. */
struct svg_series {
	const char	*cls;		/* "read" -> class "s-read" */
	const char	*name;		/* "reads": legend, counts but 1 */
	const char	*one;		/* "read" (a count of 1) */
};

/* One bar (or column): its label and one value per series (>= 0). */
struct svg_bar {
	const char	*label;		/* shown, shortened if long */
	const char	*title;		/* tooltip name; NULL: label */
	long long	 v[SVG_MAX_SERIES];
};

/*
 * Write s with & < > " ' escaped, after cli_printable() (control
 * characters and invalid UTF-8 become '?').  NULL writes "-".
 */
void	html_esc(FILE *f, const char *s);
/* The same, at most max characters, ending in an ellipsis if cut. */
void	html_esc_cut(FILE *f, const char *s, size_t max);

/*
 * Stacked columns, one per bar, left to right, with a y axis of round
 * numbers and every k-th label under the x axis (k chosen so that the
 * labels do not collide).  aria: the chart's accessible name (trusted).
 */
void	svg_columns(FILE *f, const char *aria, const struct svg_series *s,
	    int ns, const struct svg_bar *b, size_t nb);

/*
 * Stacked horizontal bars, one row per bar, labels on the left, the total
 * and its breakdown on the right.  All rows share one scale.
 */
void	svg_hbars(FILE *f, const char *aria, const struct svg_series *s,
	    int ns, const struct svg_bar *b, size_t nb);

/* A legend for the series, as an HTML <div class="legend">. */
void	svg_legend(FILE *f, const struct svg_series *s, int ns);

#endif
