/*
 * input.c - local input of the `secret` client: values from stdin, a file
 * or the terminal (echo off), generated values, public key files and
 * passphrases.
 *
 * Never echoes a value, never reads more than the cap plus one byte, and
 * wipes every buffer it gives up.  The terminal is always restored, also
 * when the user interrupts the prompt.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "err.h"
#include "sshkey.h"
#include "xmalloc.h"

#include "client/input.h"
#include "client/output.h"

/* Terminal state to restore if a signal arrives during a hidden read. */
static volatile sig_atomic_t tty_saved_fd = -1;
static struct termios tty_saved;

static void
tty_restore_and_die(int sig)
{
	if (tty_saved_fd >= 0)
		tcsetattr(tty_saved_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Read one line from the terminal in without echo, prompt on out.
 * Returns 0 (*len bytes in buf, newline removed), 1 when the line did not
 * fit in cap bytes, or -1 on error.
 */
static int
read_hidden(int in, int out, const char *prompt, char *buf, size_t cap,
    size_t *len)
{
	struct sigaction sa, old_int, old_term, old_hup, old_quit;
	struct termios t;
	size_t n = 0;
	ssize_t r;
	char c;
	int ret = 0;

	if (tcgetattr(in, &tty_saved) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_restore_and_die;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGQUIT, &sa, &old_quit);
	tty_saved_fd = in;
	t = tty_saved;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	t.c_lflag |= ICANON;
	if (tcsetattr(in, TCSAFLUSH, &t) != 0) {
		ret = -1;
		goto out;
	}
	if (cli_write_all(out, prompt, strlen(prompt)) != 0) {
		ret = -1;
		goto restore;
	}
	/* Byte by byte: nothing past the newline is consumed. */
	for (;;) {
		r = read(in, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n < cap)
			buf[n++] = c;
		else
			ret = 1;
	}
	c = 0;
	if (r < 0)
		ret = -1;
	(void)cli_write_all(out, "\n", 1);
 restore:
	tcsetattr(in, TCSAFLUSH, &tty_saved);
 out:
	tty_saved_fd = -1;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	*len = n;
	return ret;
}

int
cli_tty_read_hidden(const char *prompt, char *buf, size_t len)
{
	size_t n = 0;
	int fd, r;

	if (len == 0)
		return -1;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return -1;
	r = read_hidden(fd, fd, prompt, buf, len - 1, &n);
	close(fd);
	if (r != 0) {
		sodium_memzero(buf, len);
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* Read all of fd, at most cap bytes.  0, 1 (over cap) or -1 (errno). */
static int
read_bounded(int fd, unsigned char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	ssize_t r;

	for (;;) {
		/* One byte of room beyond cap tells "too large" from "full". */
		r = read(fd, buf + n, cap + 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*len = n;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > cap) {
			*len = n;
			return 1;
		}
	}
	*len = n;
	return 0;
}

int
cli_read_value(const char *file, const char *what, unsigned char **out,
    size_t *outlen)
{
	unsigned char *buf;
	const char *name = "stdin";
	char prompt[512];
	size_t n = 0;
	int fd = STDIN_FILENO, r, saved;

	*out = NULL;
	*outlen = 0;
	if (file != NULL && strcmp(file, "-") != 0) {
		name = file;
		if ((fd = open(file, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0)
			return cli_err(SD_EBADREQ, "cannot open %s: %s", file,
			    strerror(errno));
	}
	buf = xmalloc(CLI_MAX_VALUE + 1);
	if (fd == STDIN_FILENO && isatty(fd)) {
		snprintf(prompt, sizeof(prompt), "Value for %s (not echoed): ",
		    what);
		r = read_hidden(fd, STDERR_FILENO, prompt, (char *)buf,
		    CLI_MAX_VALUE, &n);
		if (r == 0 && n == 0) {
			/* Most likely a stray Enter: store nothing. */
			free(buf);
			return cli_err(SD_EBADREQ, "empty value typed at the "
			    "terminal; nothing stored");
		}
	} else
		r = read_bounded(fd, buf, CLI_MAX_VALUE, &n);
	saved = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	if (r != 0) {
		freezero(buf, CLI_MAX_VALUE + 1);
		if (r > 0)
			return cli_err(SD_ETOOLARGE, "value from %s is larger "
			    "than %d bytes", name, CLI_MAX_VALUE);
		return cli_err(SD_EBADREQ, "cannot read %s: %s", name,
		    strerror(saved));
	}
	*out = buf;
	*outlen = n;
	return 0;
}

static const struct {
	const char *name;
	const char *chars;
} charsets[] = {
	{ "alnum", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789" },
	{ "alpha", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" },
	{ "hex", "0123456789abcdef" },
	{ "base64url", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_" },
	{ "print", "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~" },
	{ NULL, NULL }
};

const char *
cli_charset(const char *name)
{
	int i;

	for (i = 0; charsets[i].name != NULL; i++)
		if (strcmp(charsets[i].name, name) == 0)
			return charsets[i].chars;
	return NULL;
}

void
cli_generate_value(size_t len, const char *chars, unsigned char **out)
{
	uint32_t n = (uint32_t)strlen(chars);
	unsigned char *buf = xmalloc(len + 1);
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)chars[randombytes_uniform(n)];
	buf[len] = '\0';
	*out = buf;
}

int
cli_read_pubkey(const char *file, struct sshkey_pub *out)
{
	unsigned char *buf;
	const char *name = file, *why, *line = NULL, *p, *nl;
	size_t n = 0, linelen = 0, l;
	int fd = STDIN_FILENO, r, saved, nkeys = 0;

	memset(out, 0, sizeof(*out));
	if (strcmp(file, "-") == 0)
		name = "stdin";
	else if ((fd = open(file, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0)
		return cli_err(SD_EBADREQ, "cannot open key file %s: %s", file,
		    strerror(errno));
	buf = xmalloc(CLI_MAX_KEYFILE + 2);
	r = read_bounded(fd, buf, CLI_MAX_KEYFILE, &n);
	saved = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	if (r != 0) {
		freezero(buf, CLI_MAX_KEYFILE + 2);
		if (r > 0)
			return cli_err(SD_EBADREQ, "key file %s is larger than "
			    "%d bytes", name, CLI_MAX_KEYFILE);
		return cli_err(SD_EBADREQ, "cannot read key file %s: %s",
		    name, strerror(saved));
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL || strstr((char *)buf,
	    "PRIVATE KEY") != NULL) {
		/* Someone gave us the private key: say so, echo nothing. */
		freezero(buf, CLI_MAX_KEYFILE + 2);
		return cli_err(SD_EBADREQ, "%s is not a public key file (a "
		    "private key?); give the .pub file", name);
	}
	for (p = (const char *)buf; *p != '\0'; p = nl != NULL ? nl + 1 :
	    p + l) {
		nl = strchr(p, '\n');
		l = nl != NULL ? (size_t)(nl - p) : strlen(p);
		while (l > 0 && (*p == ' ' || *p == '\t'))
			p++, l--;
		if (l == 0 || *p == '#' || (l == 1 && *p == '\r'))
			continue;
		if (nkeys++ == 0) {
			line = p;
			linelen = l;
		}
	}
	if (nkeys == 0) {
		freezero(buf, CLI_MAX_KEYFILE + 2);
		return cli_err(SD_EBADREQ, "no public key in %s", name);
	}
	if (nkeys > 1) {
		freezero(buf, CLI_MAX_KEYFILE + 2);
		return cli_err(SD_EBADREQ, "%s holds %d lines; give exactly "
		    "one public key", name, nkeys);
	}
	r = sshkey_parse_line(line, linelen, out, &why);
	freezero(buf, CLI_MAX_KEYFILE + 2);
	if (r != 0)
		return cli_err(SD_EBADREQ, "invalid public key in %s: %s",
		    name, why);
	return 0;
}
