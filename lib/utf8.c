/*
 * utf8.c - decode, validate and count UTF-8 (see utf8.h).
 */
#include "utf8.h"

size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, k;
	uint32_t c, min;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		c = s[0];
		len = 1;
		goto out;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;	/* continuation, 0xc0/0xc1, > 0xf4 */
	}
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if (!utf8_is_cont(s[k]))
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
out:
	if (cp != NULL)
		*cp = c;
	return len;
}

int
utf8_valid_nonul(const unsigned char *buf, size_t len)
{
	size_t i = 0, k;

	if (buf == NULL)
		return len == 0;
	while (i < len) {
		if (buf[i] == 0 || (k = utf8_decode(buf + i, len - i, NULL)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

size_t
utf8_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (!utf8_is_cont((unsigned char)*s))
			w++;
	return w;
}

size_t
utf8_prefix(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!utf8_is_cont((unsigned char)s[i]) && n-- == 0)
			break;
	return i;
}
