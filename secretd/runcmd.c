/*
 * runcmd.c - run a program and collect its output (runcmd.h).  The
 * arguments go to execv as they are: no shell ever sees them.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runcmd.h"

int
run_cmd(char *const argv[], char *out, size_t outlen)
{
	char buf[4096];
	size_t have = 0;
	ssize_t n;
	pid_t pid;
	int p[2], st, nul;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) == -1) {
		if (out != NULL)
			snprintf(out, outlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		if (out != NULL)
			snprintf(out, outlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		nul = open("/dev/null", O_RDONLY);
		if (nul == -1 || dup2(nul, 0) == -1 || dup2(p[1], 1) == -1 ||
		    dup2(p[1], 2) == -1)
			_exit(127);
		execv(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		n = read(p[0], buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out != NULL && have + 1 < outlen) {
			size_t take = (size_t)n < outlen - 1 - have ?
			    (size_t)n : outlen - 1 - have;

			memcpy(out + have, buf, take);
			have += take;
			out[have] = '\0';
		}
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			if (out != NULL)
				snprintf(out, outlen, "waitpid: %s",
				    strerror(errno));
			return -1;
		}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

void
first_line(const char *text, char *buf, size_t len)
{
	size_t n = strcspn(text, "\n");

	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\r'))
		n--;
	snprintf(buf, len, "%.*s", (int)n, text);
}
