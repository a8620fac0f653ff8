/*
 * output.h - everything `secret` prints: the one-line error report and
 * its exit status, informational lines, raw JSON responses, and
 * terminal-safe copies of strings that came from the server.
 *
 * Errors go to stderr as exactly one line "secret: <code>: <message>".
 * Nothing printed here may be a secret value: values are written only by
 * the commands that fetch them, with cli_write_all().
 */
#ifndef CLI_OUTPUT_H
#define CLI_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "client/config.h"

/* Exit statuses (DESIGN §5); the protocol ones come from sd_err_exit_status. */
#define CLI_EXIT_OK	0
#define CLI_EXIT_ERROR	1
#define CLI_EXIT_USAGE	2
#define CLI_EXIT_CONN	3	/* connection or authentication failure */

/*
 * "secret: <code>: <message>" on stderr, for an SD_E* value; returns the
 * exit status sd_err_exit_status() gives it.
 */
int	cli_err(int err, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The same with an explicit code string and exit status (connection
 * failures: code "unavailable" or "unauthenticated", status 3).  Returns
 * status.
 */
int	cli_err_status(const char *code, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * For --wait (wait.h): cli_err_capture(1) holds back error reports (not
 * warnings) instead of printing them, keeping the first one; (0) stops
 * and drops it.  cli_err_captured() gives the held report's code (and
 * message in *msg), or NULL; cli_err_release() prints it and stops.
 */
void	cli_err_capture(int on);
const char *cli_err_captured(const char **msg);
void	cli_err_release(void);

/* "secret: warning: ..." on stderr unless -q. */
void	cli_warn(const struct cli_config *cfg, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * An informational line on stdout, only when stdout is a terminal and -q
 * was not given (scripts get nothing, or --json).
 */
void	cli_info(const struct cli_config *cfg, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* One JSON object on one line on stdout.  Returns 0 or an exit status. */
int	cli_print_json(const json_t *obj);
/* The same, then json_decref(obj) (handlers' --json branch). */
int	cli_emit_json(json_t *obj);

/*
 * Malloc'ed copy of s safe to print on a terminal: invalid UTF-8, C0, DEL
 * and C1 characters become '?'.  NULL gives "-".
 */
char	*cli_printable(const char *s);

/* A JSON string field made printable ("-" when missing or not a string). */
char	*cli_printable_field(const json_t *obj, const char *key);

/*
 * A JSON path array as "a/b/c", made printable; the root is root_name.
 * Malloc'ed.
 */
char	*cli_printable_path(const json_t *arr, const char *root_name);
/* The same without the first skip names. */
char	*cli_printable_subpath(const json_t *arr, size_t skip,
	    const char *root_name);

/*
 * A JSON array of strings joined with sep, made printable; empty ones give
 * empty_text.  Malloc'ed.
 */
char	*cli_printable_list(const json_t *arr, const char *sep,
	    const char *empty_text);

/* Write all of buf to fd.  Returns 0 or -1 with errno set. */
int	cli_write_all(int fd, const void *buf, size_t len);

/* Flush stdout; on failure report it.  Returns 0 or an exit status. */
int	cli_flush_stdout(void);

#endif
