/*
 * sshkey.h - validation of SSH public key lines and fingerprints.
 *
 * A key reaches us as "type base64 [comment]" from a user's file, from
 * sshd (%t %k) or from $SSH_USER_AUTH.  Only known key types are accepted,
 * the base64 must decode, and the blob must start with the same type
 * string.  What comes out (type, canonical base64, SHA256 fingerprint) is
 * safe to print into an authorized_keys line.
 */
#ifndef SD_SSHKEY_H
#define SD_SSHKEY_H

#include <stddef.h>

#include "err.h"

#define SSHKEY_MAX_B64	 8192	/* covers RSA-16384 */
/*
 * NB: a fingerprint ("SHA256:" + 43 base64 chars) is 50 characters long;
 * SSHKEY_FP_LEN is one more and is only an upper bound for buffers.  Do
 * not compare strlen() of a fingerprint with it: use sshkey_fp_valid().
 */
#define SSHKEY_FP_LEN	 51	/* upper bound; a fingerprint is 50 chars */

struct sshkey_pub {
	char	 type[48];		/* e.g. "ssh-ed25519" */
	char	*b64;			/* canonical base64 of the blob; owned */
	char	 fp[SSHKEY_FP_LEN + 1];	/* "SHA256:..." as OpenSSH prints it */
};

/* 1 if type is one we accept, else 0. */
int	sshkey_type_valid(const char *type);

/*
 * Parse a key from type and base64 given separately (sshd's %t %k).
 * Returns 0 or SD_EBADREQ with *why set to a static message.
 */
int	sshkey_parse_parts(const char *type, const char *b64,
	    struct sshkey_pub *out, const char **why) SD_MUST_CHECK;

/*
 * Parse one line "type base64 [comment]" (leading/trailing whitespace and
 * a trailing newline tolerated; options before the type are not).  Also
 * accepts the "publickey type base64" form that sshd writes to
 * $SSH_USER_AUTH.  Returns 0 or SD_EBADREQ with *why set.
 */
int	sshkey_parse_line(const char *line, size_t len,
	    struct sshkey_pub *out, const char **why) SD_MUST_CHECK;

/* 1 if s has the form of a fingerprint ("SHA256:" + 43 base64 chars). */
int	sshkey_fp_valid(const char *s);

void	sshkey_pub_free(struct sshkey_pub *k);

#endif
