/*
 * log.c - one-line log records on stderr.
 *
 * Each record is built in a stack buffer and written with a single
 * write(2), so lines from concurrent threads never interleave.  Control
 * characters (C0, DEL, C1) and invalid UTF-8 in the formatted message
 * become '?', so nothing a client sends can forge a second log line or
 * smuggle a terminal escape sequence.  Records longer than LOG_LINE_MAX are
 * truncated and marked with "...".  Never log secret values or tokens.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

#define LOG_LINE_MAX	2048
#define LOG_TAG_MAX	32
#define LOG_PROG_MAX	32

static char log_prog[LOG_PROG_MAX] = "secretd";
static atomic_int log_min_level = LOG_LEVEL_INFO;
static __thread char log_tag[LOG_TAG_MAX];

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_FATAL] = "fatal",
};

void
log_init(const char *prog, enum log_level level)
{
	if (prog != NULL) {
		const char *slash = strrchr(prog, '/');

		if (slash != NULL && slash[1] != '\0')
			prog = slash + 1;
		snprintf(log_prog, sizeof(log_prog), "%s", prog);
	}
	log_set_level(level);
}

void
log_set_level(enum log_level level)
{
	if ((int)level < LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	if (level > LOG_LEVEL_FATAL)
		level = LOG_LEVEL_FATAL;
	atomic_store(&log_min_level, (int)level);
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char	*name;
		enum log_level	 level;
	} names[] = {
		{ "debug", LOG_LEVEL_DEBUG },
		{ "info", LOG_LEVEL_INFO },
		{ "warn", LOG_LEVEL_WARN },
		{ "warning", LOG_LEVEL_WARN },
		{ "error", LOG_LEVEL_ERROR },
	};
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

void
log_set_tag(const char *tag)
{
	size_t i;

	if (tag == NULL) {
		log_tag[0] = '\0';
		return;
	}
	for (i = 0; i < sizeof(log_tag) - 1 && tag[i] != '\0'; i++) {
		unsigned char c = (unsigned char)tag[i];

		log_tag[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	log_tag[i] = '\0';
}

/*
 * Replace by '?' every C0 control, DEL, C1 control (U+0080..U+009F) and
 * byte that is not part of valid UTF-8: nothing in a message can end the
 * line or reach a terminal that displays the log as a control sequence.
 */
static void
log_sanitise(char *s, size_t len)
{
	unsigned char *u = (unsigned char *)s;
	size_t i = 0, k;

	while (i < len) {
		if (u[i] < 0x20 || u[i] == 0x7f) {
			u[i++] = '?';
		} else if (u[i] < 0x80) {
			i++;
		} else if ((k = utf8_decode(u + i, len - i, NULL)) == 0) {
			u[i++] = '?';
		} else if (k == 2 && u[i] == 0xc2 && u[i + 1] <= 0x9f) {
			u[i] = u[i + 1] = '?';
			i += 2;
		} else {
			i += k;
		}
	}
}

static void __attribute__((format(printf, 5, 0)))
log_vemit(enum log_level level, const char *file, const char *func,
    int line, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	char suffix[256];
	const char *base;
	size_t off, slen, room;
	int r;

	if ((int)level < atomic_load(&log_min_level))
		return;
	if ((int)level < LOG_LEVEL_DEBUG || level > LOG_LEVEL_FATAL)
		level = LOG_LEVEL_ERROR;
	base = file != NULL ? strrchr(file, '/') : NULL;
	base = base != NULL ? base + 1 : (file != NULL ? file : "?");

	r = snprintf(suffix, sizeof(suffix), " (%s:%s:%d)\n", base,
	    func != NULL ? func : "?", line);
	if (r < 0)
		return;
	slen = (size_t)r < sizeof(suffix) ? (size_t)r : sizeof(suffix) - 1;
	if (slen == sizeof(suffix) - 1)
		suffix[slen - 1] = '\n';

	if (log_tag[0] != '\0')
		r = snprintf(buf, sizeof(buf), "%s[%ld]: %s: [%s] ", log_prog,
		    (long)getpid(), level_names[level], log_tag);
	else
		r = snprintf(buf, sizeof(buf), "%s[%ld]: %s: ", log_prog,
		    (long)getpid(), level_names[level]);
	if (r < 0)
		return;
	off = (size_t)r;
	/* The prefix is bounded (prog, pid, level, tag) and always fits. */
	room = sizeof(buf) - off - slen;

	r = vsnprintf(buf + off, room + 1, fmt, ap);
	if (r < 0) {
		r = 0;
		buf[off] = '\0';
	}
	if ((size_t)r > room) {
		/* Truncated: mark it (a cut UTF-8 sequence becomes '?'). */
		memcpy(buf + off + room - 3, "...", 3);
		r = (int)room;
	}
	log_sanitise(buf + off, (size_t)r);
	off += (size_t)r;
	memcpy(buf + off, suffix, slen);
	off += slen;

	{
		ssize_t w = write(STDERR_FILENO, buf, off);
		(void)w;
	}
}

void
log_emit(enum log_level level, const char *file, const char *func,
    int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, file, func, line, fmt, ap);
	va_end(ap);
}

void
log_fatal_exit(const char *file, const char *func, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_FATAL, file, func, line, fmt, ap);
	va_end(ap);
	exit(1);
}
