/*
 * svg.c - inline SVG charts for the HTML audit report, and the HTML
 * escaping of untrusted strings.
 *
 * Geometry is computed here in a fixed viewBox; the page scales the
 * <svg> to its width and colours it through CSS classes, so a chart is
 * plain shapes and text: nothing in it can fetch or run anything.  Every
 * label and tooltip is escaped; numbers are formatted by us.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"

#include "client/output.h"
#include "client/svg.h"

/* Column chart geometry (viewBox units). */
#define COL_W		1000
#define COL_H		260
#define COL_L		52
#define COL_R		12
#define COL_T		14
#define COL_B		34
#define COL_MAX_LABELS	14

/* Horizontal bar geometry. */
#define HB_W		1000
#define HB_ROW		30
#define HB_BAR		16
#define HB_PAD		6
#define HB_LABEL_X	196	/* labels end here */
#define HB_BAR_X	206
#define HB_BAR_W	420
#define HB_NUM_X	640
#define HB_LABEL_MAX	30	/* characters */

static void
esc_raw(FILE *f, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '&':  fputs("&amp;", f); break;
		case '<':  fputs("&lt;", f); break;
		case '>':  fputs("&gt;", f); break;
		case '"':  fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:   fputc(p[i], f); break;
		}
	}
}

void
html_esc(FILE *f, const char *s)
{
	char *p = cli_printable(s);

	esc_raw(f, p, strlen(p));
	free(p);
}

void
html_esc_cut(FILE *f, const char *s, size_t max)
{
	char *p = cli_printable(s);

	/* cli_printable() output is valid UTF-8: characters are whole. */
	if (max > 1 && utf8_width(p) > max) {
		esc_raw(f, p, utf8_prefix(p, max - 1));
		fputs("\xe2\x80\xa6", f);		/* ellipsis */
	} else
		esc_raw(f, p, strlen(p));
	free(p);
}

/* n with thousands separators ("12,345") into buf. */
static const char *
fmt_num(char buf[32], long long n)
{
	char tmp[32];
	size_t len, i, o = 0;

	if (n < 0)
		n = 0;
	len = (size_t)snprintf(tmp, sizeof(tmp), "%lld", n);
	for (i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

/* A round step for about `ticks` gridlines up to max (1, 2, 5 x 10^k). */
static long long
nice_step(long long max, int ticks)
{
	long long mag = 1;
	double raw;

	if (max <= 0)
		return 1;
	raw = (double)max / ticks;
	while ((double)mag * 10 <= raw && mag < 1000000000000000LL)
		mag *= 10;
	if (raw <= (double)mag)
		return mag;
	if (raw <= 2.0 * (double)mag)
		return 2 * mag;
	if (raw <= 5.0 * (double)mag)
		return 5 * mag;
	return 10 * mag;
}

static long long
bar_total(const struct svg_bar *b, int ns)
{
	long long t = 0;
	int k;

	for (k = 0; k < ns; k++)
		if (b->v[k] > 0)
			t += b->v[k];
	return t;
}

/* "label: 12 reads, 3 denied" (escaped) for a <title>. */
static void
tooltip(FILE *f, const struct svg_bar *b, const struct svg_series *s,
    int ns)
{
	char nb[32];
	int k;

	fputs("<title>", f);
	html_esc(f, b->title != NULL ? b->title : b->label);
	fputs(":", f);
	for (k = 0; k < ns; k++)
		fprintf(f, "%s %s %s", k > 0 ? "," : "",
		    fmt_num(nb, b->v[k]), b->v[k] == 1 ? s[k].one : s[k].name);
	fputs("</title>", f);
}

void
svg_legend(FILE *f, const struct svg_series *s, int ns)
{
	int k;

	fputs("<div class=\"legend\">", f);
	for (k = 0; k < ns; k++)
		fprintf(f, "<span><i class=\"s-%s\"></i>%s</span>", s[k].cls,
		    s[k].name);
	fputs("</div>\n", f);
}

void
svg_columns(FILE *f, const char *aria, const struct svg_series *s, int ns,
    const struct svg_bar *b, size_t nb)
{
	const double pw = COL_W - COL_L - COL_R, ph = COL_H - COL_T - COL_B;
	long long max = 0, step, top, t;
	double slot, bw, x, y, h;
	size_t i, every;
	char num[32];
	int k;

	if (ns > SVG_MAX_SERIES)
		ns = SVG_MAX_SERIES;
	for (i = 0; i < nb; i++)
		if ((t = bar_total(&b[i], ns)) > max)
			max = t;
	step = nice_step(max, 4);
	top = max > 0 ? (max + step - 1) / step * step : 4;
	if (max == 0)
		step = 1;

	fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"%s\" preserveAspectRatio=\"xMidYMid meet\">\n",
	    COL_W, COL_H, aria);
	/* Gridlines and y labels. */
	for (t = 0; t <= top; t += step) {
		y = COL_T + ph - ph * (double)t / (double)top;
		fprintf(f, "<line class=\"%s\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
		    "y2=\"%.1f\"/><text class=\"yl\" x=\"%d\" y=\"%.1f\">%s"
		    "</text>\n", t == 0 ? "axis" : "grid", COL_L, COL_W - COL_R,
		    y, y, COL_L - 8, y + 4, fmt_num(num, t));
	}
	if (nb == 0) {
		fprintf(f, "<text class=\"empty\" x=\"%d\" y=\"%d\">no "
		    "requests in this period</text>\n</svg>\n",
		    COL_L + (int)pw / 2, COL_T + (int)ph / 2);
		return;
	}
	slot = pw / (double)nb;
	bw = slot * 0.72;
	if (bw > 38)
		bw = 38;
	if (bw < 1)
		bw = slot > 1 ? slot - 0.2 : slot;
	every = (nb + COL_MAX_LABELS - 1) / COL_MAX_LABELS;
	if (every == 0)
		every = 1;
	for (i = 0; i < nb; i++) {
		x = COL_L + slot * (double)i;
		fputs("<g class=\"col\">", f);
		tooltip(f, &b[i], s, ns);
		fprintf(f, "<rect class=\"hit\" x=\"%.1f\" y=\"%d\" "
		    "width=\"%.1f\" height=\"%.1f\"/>", x, COL_T, slot, ph);
		y = COL_T + ph;
		for (k = 0; k < ns; k++) {
			if (b[i].v[k] <= 0)
				continue;
			h = ph * (double)b[i].v[k] / (double)top;
			if (h < 1.5)
				h = 1.5;
			y -= h;
			fprintf(f, "<rect class=\"s-%s\" x=\"%.1f\" y=\"%.1f\" "
			    "width=\"%.1f\" height=\"%.1f\"/>", s[k].cls,
			    x + (slot - bw) / 2, y, bw, h);
		}
		if (i % every == 0 || (i + 1 == nb && every == 1)) {
			fprintf(f, "<text class=\"xl\" x=\"%.1f\" y=\"%d\">",
			    x + slot / 2, COL_H - COL_B + 18);
			html_esc_cut(f, b[i].label, 12);
			fputs("</text>", f);
		}
		fputs("</g>\n", f);
	}
	fputs("</svg>\n", f);
}

void
svg_hbars(FILE *f, const char *aria, const struct svg_series *s, int ns,
    const struct svg_bar *b, size_t nb)
{
	long long max = 0, t;
	double x, w, y;
	size_t i;
	char num[32];
	int k, first;
	int height = (int)nb * HB_ROW + 2 * HB_PAD;

	if (ns > SVG_MAX_SERIES)
		ns = SVG_MAX_SERIES;
	for (i = 0; i < nb; i++)
		if ((t = bar_total(&b[i], ns)) > max)
			max = t;
	if (nb == 0)
		height = HB_ROW + 2 * HB_PAD;
	fprintf(f, "<svg class=\"chart hbars\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" aria-label=\"%s\" preserveAspectRatio=\"xMinYMin "
	    "meet\">\n", HB_W, height, aria);
	if (nb == 0) {
		fprintf(f, "<text class=\"empty\" x=\"%d\" y=\"%d\">none"
		    "</text>\n</svg>\n", HB_BAR_X, HB_PAD + HB_ROW / 2 + 4);
		return;
	}
	for (i = 0; i < nb; i++) {
		y = HB_PAD + (double)i * HB_ROW;
		t = bar_total(&b[i], ns);
		fputs("<g class=\"row\">", f);
		tooltip(f, &b[i], s, ns);
		fprintf(f, "<rect class=\"hit\" x=\"0\" y=\"%.1f\" "
		    "width=\"%d\" height=\"%d\"/>", y, HB_W, HB_ROW);
		fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%.1f\">",
		    HB_LABEL_X, y + HB_ROW / 2.0 + 4);
		html_esc_cut(f, b[i].label, HB_LABEL_MAX);
		fputs("</text>", f);
		fprintf(f, "<rect class=\"track\" x=\"%d\" y=\"%.1f\" "
		    "width=\"%d\" height=\"%d\" rx=\"3\"/>", HB_BAR_X,
		    y + (HB_ROW - HB_BAR) / 2.0, HB_BAR_W, HB_BAR);
		x = HB_BAR_X;
		for (k = 0; k < ns; k++) {
			if (b[i].v[k] <= 0 || max == 0)
				continue;
			w = HB_BAR_W * (double)b[i].v[k] / (double)max;
			if (w < 2)
				w = 2;
			fprintf(f, "<rect class=\"s-%s\" x=\"%.1f\" y=\"%.1f\" "
			    "width=\"%.1f\" height=\"%d\"/>", s[k].cls, x,
			    y + (HB_ROW - HB_BAR) / 2.0, w, HB_BAR);
			x += w;
		}
		fprintf(f, "<text class=\"num\" x=\"%d\" y=\"%.1f\">"
		    "<tspan class=\"tot\">%s</tspan>", HB_NUM_X,
		    y + HB_ROW / 2.0 + 4, fmt_num(num, t));
		first = 1;
		for (k = 0; k < ns; k++) {
			if (b[i].v[k] <= 0 || ns == 1)
				continue;
			fprintf(f, "<tspan class=\"brk\"%s>%s%s %s</tspan>",
			    first ? " dx=\"10\"" : "", first ? "" :
			    " \xc2\xb7 ", fmt_num(num, b[i].v[k]),
			    b[i].v[k] == 1 ? s[k].one : s[k].name);
			first = 0;
		}
		fputs("</text></g>\n", f);
	}
	fputs("</svg>\n", f);
}
