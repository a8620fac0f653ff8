/*
 * envname.c - secret paths to variable names, and which values an env
 * file can hold (envname.h).
 *
 * The name rule is a user interface (scripts and units name the
 * variables): it is documented in secret(1) and `secret fetch --help`
 * and must not change silently.
 */
#include <string.h>

#include "proto.h"
#include "xmalloc.h"

#include "client/envname.h"

static int
is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

char *
cli_env_name(const char *const *names, int n)
{
	size_t total = 2, o = 0;
	const unsigned char *p;
	char *out;
	int i;

	for (i = 0; i < n; i++)
		total += strlen(names[i]) + 1;
	out = xmalloc(total);
	for (i = 0; i < n; i++) {
		if (i > 0)
			out[o++] = '_';
		for (p = (const unsigned char *)names[i]; *p != '\0'; p++) {
			if (is_alnum(*p))
				out[o++] = (char)(*p >= 'a' && *p <= 'z' ?
				    *p - 'a' + 'A' : *p);
			else if ((*p & 0xc0) != 0x80)
				out[o++] = '_';	/* ASCII or a lead byte */
			/* UTF-8 continuation bytes: the character has its '_' */
		}
	}
	out[o] = '\0';
	if (out[0] >= '0' && out[0] <= '9') {
		memmove(out + 1, out, o + 1);
		out[0] = '_';
	}
	return out;
}

int
cli_env_name_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == '\0' || (*p >= '0' && *p <= '9'))
		return 0;
	for (; *p != '\0'; p++)
		if (!is_alnum(*p) && *p != '_')
			return 0;
	return 1;
}

const char *
cli_env_value_problem(const unsigned char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (v[i] == '\0')
			return "it holds a NUL byte";
		if (v[i] == '\'')
			return "it holds a single quote";
		if (v[i] == '\n' || v[i] == '\r')
			return "it holds a line break";
		if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
			return "it holds a control character";
	}
	if (!utf8_valid_nonul(v, len))
		return "it is not valid UTF-8";
	return NULL;
}
