/*
 * report_html.h - the audit report as one self-contained HTML page:
 * inline CSS, charts as inline SVG (svg.c), no script, no font, no URL;
 * a Content-Security-Policy of default-src 'none' makes the browser
 * refuse to load anything even if a string slipped through unescaped.
 */
#ifndef CLI_REPORT_HTML_H
#define CLI_REPORT_HTML_H

#include <stdio.h>

#include <jansson.h>

#include "client/report_data.h"

/* Write the page for rep to f.  Returns 0, or -1 if writing failed. */
int	report_html(FILE *f, const json_t *rep, const struct report_meta *m);

#endif
