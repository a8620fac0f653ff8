/*
 * fuzz_human.c - libFuzzer target for secret-shell's command line
 * (secret-shell/human.c), which any key holder controls through
 * SSH_ORIGINAL_COMMAND.
 *
 * The input, cut at its first NUL (an environment variable holds none),
 * goes to human_split and then to human_main.  Invariants, checked
 * against a model written here: the command is refused (usage) exactly
 * when it is too long, holds a control character or has more than
 * HUMAN_MAX_WORDS words; otherwise the words are the blank-separated
 * runs of the input, in order.  human_main answers usage (exit 2) exactly
 * when the verb, its argument count, a PATH or a NAME is bad, and
 * otherwise gets as far as the session: with no $SSH_USER_AUTH that is
 * "unauthenticated" for every verb but help (and enrol, which first
 * finds no token on stdin).  Nothing here connects
 * anywhere; stdin and stdout are /dev/null.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "path.h"
#include "secret-shell/human.h"
#include "secret-shell/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	/* put and enrol read stdin, help writes stdout. */
	if ((fd = open("/dev/null", O_RDWR)) == -1 || dup2(fd, 0) == -1 ||
	    dup2(fd, 1) == -1)
		abort();
	close(fd);
	unsetenv("SSH_USER_AUTH");
	return 0;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The model of human_name_valid: [a-z0-9][a-z0-9._@-]{0,63}. */
static int
model_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (i == 0 || strchr("._@-", s[i]) == NULL)
			return 0;
	}
	return 1;
}

static int
path_ok(const char *s)
{
	struct sd_path p;
	const char *why;
	int r = path_parse(s, &p, &why);

	path_free(&p);
	return r == 0;
}

/* Exit status human_main must give for words[0..n). */
static int
model_status(char **w, int n)
{
	static const struct { const char *name; int min, max; } verbs[] = {
		{ "get", 1, 1 }, { "put", 1, 1 }, { "ls", 0, 1 },
		{ "history", 1, 1 }, { "whoami", 0, 0 }, { "enrol", 1, 1 },
		{ "json", 0, 0 }, { "help", 0, 0 },
	};
	int unauth = sd_err_exit_status(SD_EUNAUTH);
	size_t i;

	if (n == 0)
		return unauth;			/* the NDJSON relay */
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(w[0], verbs[i].name) == 0)
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]) ||
	    n - 1 < verbs[i].min || n - 1 > verbs[i].max)
		return SHELL_EXIT_USAGE;
	if (strcmp(w[0], "help") == 0)
		return 0;
	if (strcmp(w[0], "enrol") == 0)	/* reads the token first */
		return model_name(w[1]) ? sd_err_exit_status(SD_EBADREQ) :
		    SHELL_EXIT_USAGE;
	if (n == 2 && !path_ok(w[1]))
		return SHELL_EXIT_USAGE;
	return unauth;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shell_error e;
	struct session s;
	char *cmd, *words[HUMAN_MAX_WORDS], *q;
	size_t len, i, nwords = 0;
	int n, bad = 0, k, st;

	cmd = malloc(size + 1);
	memcpy(cmd, data, size);
	cmd[size] = '\0';
	len = strlen(cmd);

	/* The model: refused, or this many words. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)cmd[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			bad = 1;
		if (!blank(cmd[i]) && (i == 0 || blank(cmd[i - 1])))
			nwords++;
	}
	if (len > HUMAN_MAX_COMMAND || nwords > HUMAN_MAX_WORDS)
		bad = 1;

	memset(&e, 0, sizeof(e));
	n = human_split(cmd, words, &e);
	if (bad) {
		if (n != -1 || e.status != SHELL_EXIT_USAGE ||
		    e.err != SD_EBADREQ || e.msg[0] == '\0')
			abort();
		session_init(&s, "/nonexistent/secretd.sock");
		memset(&e, 0, sizeof(e));
		if (human_main(&s, cmd, &e) != SHELL_EXIT_USAGE)
			abort();
		session_free(&s);
	} else {
		if (n < 0 || (size_t)n != nwords)
			abort();
		/* The words, in order, are the input without its blanks. */
		q = cmd;
		for (k = 0; k < n; k++) {
			while (blank(*q))
				q++;
			if (words[k][0] == '\0' ||
			    strncmp(q, words[k], strlen(words[k])) != 0)
				abort();
			q += strlen(words[k]);
			if (*q != '\0' && !blank(*q))
				abort();
			if (human_name_valid(words[k]) != model_name(words[k]))
				abort();
		}
		while (blank(*q))
			q++;
		if (*q != '\0')
			abort();

		/* The whole command, as secret-shell runs it. */
		session_init(&s, "/nonexistent/secretd.sock");
		memset(&e, 0, sizeof(e));
		st = human_main(&s, cmd, &e);
		if (st != model_status(words, n) ||
		    (st != 0 && e.msg[0] == '\0'))
			abort();
		session_free(&s);
		while (n > 0)
			free(words[--n]);
	}
	free(cmd);
	return 0;
}
