/*
 * utf8.h - the one UTF-8 decoder of the three programs: validation of
 * values and names, the sanitising of log lines and of server strings
 * for a terminal, and the character counts that align table columns.
 *
 * Valid means RFC 3629: no overlong form, no surrogate (U+D800..DFFF),
 * nothing above U+10FFFF, no sequence cut short.
 */
#ifndef SD_UTF8_H
#define SD_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length (1..4) of the valid UTF-8 sequence at s, with n >= 1 bytes
 * left, and its code point in *cp (cp may be NULL).  0 when the bytes
 * there are not a valid sequence (or n is 0).  An ASCII byte, NUL
 * included, is a sequence of 1.
 */
size_t	utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* 1 if buf is valid UTF-8 without NUL, else 0. */
int	utf8_valid_nonul(const unsigned char *buf, size_t len);

/* Whether byte c continues a multi-byte sequence (10xxxxxx). */
static inline int
utf8_is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/*
 * Characters in the NUL-terminated s, counted as the bytes that do not
 * continue a sequence (so an invalid byte counts as one): the width of a
 * cell once cli_printable() made it valid, one column per character.
 */
size_t	utf8_width(const char *s);

/* Bytes taken by the first n characters of s (as utf8_width counts). */
size_t	utf8_prefix(const char *s, size_t n);

#endif
