/*
 * fuzz_authinfo.c - libFuzzer target for the $SSH_USER_AUTH file parser
 * (session_read_authinfo in secret-shell/session.c), the one place
 * secret-shell takes its identity from.
 *
 * session_read_authinfo takes a path, so each input is written to one
 * temporary file (under /dev/shm when there is one), rewritten in place.
 * Invariants, against a model written here: the file is accepted only
 * when it is whole lines (each ends in '\n', none longer than the limit,
 * none with a NUL) and its last "publickey " line is a valid key; the
 * key returned is then exactly that line's "TYPE BASE64", with no blank
 * but the one separator and nothing unprintable.  Refusals are always
 * "unauthenticated" with a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "sshkey.h"
#include "xmalloc.h"
#include "secret-shell/session.h"

/* As AUTHINFO_MAX_LINE in secret-shell/session.c. */
#define MAX_LINE	(SSHKEY_MAX_B64 + 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char	tmp_path[64];
static int	tmp_fd = -1;

static void
tmp_remove(void)
{
	if (tmp_fd != -1)
		unlink(tmp_path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(tmp_path, sizeof(tmp_path), "%s/fuzz_authinfo.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if ((tmp_fd = mkstemp(tmp_path)) == -1)
		abort();
	atexit(tmp_remove);
	return 0;
}

/* The key the model expects ("TYPE BASE64", malloc'ed), or NULL. */
static char *
model(const uint8_t *data, size_t size)
{
	const uint8_t *line, *last = NULL, *nl;
	size_t off = 0, len, lastlen = 0;
	struct sshkey_pub pub;
	const char *why;
	char *key = NULL;

	while (off < size) {
		line = data + off;
		nl = memchr(line, '\n', size - off);
		if (nl == NULL)
			return NULL;		/* ends mid-line */
		len = (size_t)(nl - line);
		if (len > MAX_LINE || memchr(line, '\0', len) != NULL)
			return NULL;
		if (len > 10 && memcmp(line, "publickey ", 10) == 0) {
			last = line;
			lastlen = len;
		}
		off += len + 1;
	}
	if (last == NULL)
		return NULL;
	if (sshkey_parse_line((const char *)last, lastlen, &pub, &why) == 0)
		key = xasprintf("%s %s", pub.type, pub.b64);
	sshkey_pub_free(&pub);
	return key;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shell_error e;
	char *key = NULL, *want;
	const char *c;
	int r, spaces = 0;

	if (ftruncate(tmp_fd, 0) != 0 ||
	    (size > 0 && pwrite(tmp_fd, data, size, 0) != (ssize_t)size))
		abort();
	memset(&e, 0, sizeof(e));
	r = session_read_authinfo(tmp_path, &key, &e);
	want = model(data, size);
	if (want == NULL) {
		if (r != SD_EUNAUTH || key != NULL || e.err != SD_EUNAUTH ||
		    e.msg[0] == '\0')
			abort();
	} else {
		if (r != 0 || key == NULL || strcmp(key, want) != 0)
			abort();
		for (c = key; *c != '\0'; c++) {
			if (*c == ' ')
				spaces++;
			else if ((unsigned char)*c <= 0x20 ||
			    (unsigned char)*c >= 0x7f)
				abort();
		}
		if (spaces != 1)
			abort();
	}
	free(want);
	free(key);
	return 0;
}
