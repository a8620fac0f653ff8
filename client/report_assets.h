/*
 * report_assets.h - the HTML report's stylesheet and page skeleton,
 * compiled in from client/report.css and client/report.html by
 * client/embed.sh (see the Makefile).  The skeleton's {{slot}}s are
 * filled by report_html.c, every value escaped there.
 */
#ifndef CLI_REPORT_ASSETS_H
#define CLI_REPORT_ASSETS_H

extern const char report_css[];
extern const char report_page[];

#endif
