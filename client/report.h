/*
 * report.h - rendering of an audit.report response (docs/protocol.md) as
 * text, CSV, JSON or one self-contained HTML page (report_html.c), for
 * `secret audit report` (cmd_audit.c).  The data model the renderers
 * share is report_data.h; this file renders text, CSV and JSON and hands
 * HTML to report_html.c, which depends on report_data.h only.
 *
 * Renderers only format: they never talk to the server, never fetch or
 * reference anything outside the output, and treat every string of the
 * response as untrusted (made printable for text, quoted for CSV,
 * escaped for HTML).  A missing or mistyped field renders as "-" or 0.
 */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "client/report_data.h"

enum report_format {
	REPORT_TEXT,
	REPORT_CSV,
	REPORT_JSON,
	REPORT_HTML,
};

/* "text", "csv", "json", "html".  Returns 0 or -1. */
int	report_format_parse(const char *name, enum report_format *out);

/*
 * Render the report (an audit.report response, "id" and "ok" ignored) in
 * format fmt to f.  Returns 0, or -1 if writing to f failed (ferror).
 */
int	report_render(FILE *f, enum report_format fmt, const json_t *rep,
	    const struct report_meta *m);

#endif
