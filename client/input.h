/*
 * input.h - what the `secret` client reads locally: secret values (stdin,
 * a file, the terminal, or generated), SSH public key files, and key
 * passphrases from the terminal.
 *
 * Every read is bounded before allocation; every buffer that held a value
 * is wiped by its owner with freezero(buf, len).  Nothing here ever takes
 * a value from argv or the environment.
 */
#ifndef CLI_INPUT_H
#define CLI_INPUT_H

#include <stddef.h>

#include "sshkey.h"

#define CLI_MAX_VALUE		(1024 * 1024)	/* local cap; the server's is lower */
#define CLI_MAX_KEYFILE		(64 * 1024)

/*
 * Read a value: from file (NULL or "-": stdin).  From a pipe or file: all
 * bytes, exactly.  When stdin is a terminal: one line, not echoed, after
 * a prompt naming what (the line's newline is not part of the value).
 * Returns 0 with *out (malloc'ed; caller freezero()s *outlen bytes) or an
 * exit status after reporting (too_large beyond CLI_MAX_VALUE).
 */
int	cli_read_value(const char *file, const char *what,
	    unsigned char **out, size_t *outlen);

/* The characters of a --charset name, or NULL if unknown. */
const char *cli_charset(const char *name);

/*
 * len characters drawn uniformly from chars with randombytes_uniform().
 * *out is malloc'ed, NUL-terminated; the caller freezero()s it.
 */
void	cli_generate_value(size_t len, const char *chars,
	    unsigned char **out);

/*
 * Read and validate an SSH public key ("type base64 [comment]") from file
 * ("-": stdin).  Exactly one key line; blank and '#' lines are skipped.
 * Returns 0 with *out filled (sshkey_pub_free() it) or an exit status
 * after reporting.
 */
int	cli_read_pubkey(const char *file, struct sshkey_pub *out);

/*
 * Prompt on the controlling terminal and read one line without echo into
 * buf (NUL-terminated, newline removed).  Returns 0, or -1 when there is
 * no terminal or the line does not fit.
 */
int	cli_tty_read_hidden(const char *prompt, char *buf, size_t len);

#endif
