/*
 * onchange.c - split and run the --on-change command (onchange.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xmalloc.h"

#include "client/onchange.h"
#include "client/output.h"

#define ONCHANGE_MAX_WORDS	256

char **
cli_onchange_parse(const char *cmd, const char **why)
{
	char **argv = xcalloc(ONCHANGE_MAX_WORDS + 1, sizeof(char *));
	char *w = xmalloc(strlen(cmd) + 1);
	const char *p = cmd;
	int n = 0, in_word;
	size_t o;
	char q;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		o = 0;
		in_word = 1;
		while (in_word && *p != '\0') {
			switch (*p) {
			case ' ': case '\t': case '\n':
				in_word = 0;
				break;
			case '\'': case '"':
				q = *p++;
				while (*p != '\0' && *p != q) {
					if (q == '"' && *p == '\\' &&
					    (p[1] == '"' || p[1] == '\\'))
						p++;
					w[o++] = *p++;
				}
				if (*p != q) {
					*why = "a quote is not closed";
					goto fail;
				}
				p++;
				break;
			default:
				w[o++] = *p++;
			}
		}
		if (n == ONCHANGE_MAX_WORDS) {
			*why = "too many words";
			goto fail;
		}
		argv[n++] = xstrndup(w, o);
	}
	free(w);
	if (n == 0) {
		*why = "no command";
		cli_onchange_free(argv);
		return NULL;
	}
	return argv;
 fail:
	free(w);
	cli_onchange_free(argv);
	return NULL;
}

void
cli_onchange_free(char **argv)
{
	int i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

int
cli_onchange_run(const struct cli_config *cfg, char *const *argv)
{
	pid_t pid, w;
	int status, fd, st;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		cli_warn(cfg, "on-change: cannot run %s: %s", argv[0],
		    strerror(errno));
		return 127;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
			(void)dup2(fd, STDIN_FILENO);
		signal(SIGPIPE, SIG_DFL);
		umask(cfg->umask_orig);
		execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	while ((w = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	if (w == -1)
		st = 127;
	else if (WIFSIGNALED(status))
		st = 128 + WTERMSIG(status);
	else
		st = WEXITSTATUS(status);
	if (st == 0)
		cli_watch_note(cfg, "on-change: %s exited with status 0",
		    argv[0]);
	else
		cli_warn(cfg, "on-change: %s exited with status %d%s", argv[0],
		    st, st == 127 ? " (cannot run it)" : "");
	return st;
}

void
cli_watch_note(const struct cli_config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->quiet)
		return;
	fflush(stdout);
	fputs("secret: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
