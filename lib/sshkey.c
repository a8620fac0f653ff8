/*
 * sshkey.c - validation of SSH public keys and their fingerprints.
 *
 * Only the key types in key_types[] are accepted; base64 is decoded
 * strictly (no whitespace, correct padding, canonical trailing bits); the
 * blob is parsed in full in the SSH wire format (RFC 4253 §6.6, RFC 5656,
 * OpenSSH PROTOCOL.u2f) with no trailing bytes.  The output is built only
 * from the validated blob, so it is safe to print into an authorized_keys
 * line.  Error messages are static and never echo the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sshkey.h"
#include "xmalloc.h"

#define SET_WHY(w, msg) do { if ((w) != NULL) *(w) = (msg); } while (0)

/* "SHA256:" + 43 base64 characters (see the note in sshkey.h). */
#define FP_STRLEN	50

/* Bounds of a line handed to sshkey_parse_line (type, base64, comment). */
#define SSHKEY_MAX_LINE	(SSHKEY_MAX_B64 + 4096)

enum key_kind { K_ED25519, K_RSA, K_ECDSA, K_SK_ED25519, K_SK_ECDSA };

static const struct key_type {
	const char	*name;
	enum key_kind	 kind;
	const char	*curve;		/* ECDSA curve identifier */
	size_t		 point_len;	/* uncompressed point length */
} key_types[] = {
	{ "ssh-ed25519", K_ED25519, NULL, 0 },
	{ "ssh-rsa", K_RSA, NULL, 0 },
	{ "ecdsa-sha2-nistp256", K_ECDSA, "nistp256", 65 },
	{ "ecdsa-sha2-nistp384", K_ECDSA, "nistp384", 97 },
	{ "ecdsa-sha2-nistp521", K_ECDSA, "nistp521", 133 },
	{ "sk-ssh-ed25519@openssh.com", K_SK_ED25519, NULL, 0 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", K_SK_ECDSA, "nistp256", 65 },
};

/*
 * RSA below 2048 bits is refused everywhere a key is parsed (principal
 * create and key-add, enrol's hello, the authorized-keys lookup): 1024-bit
 * moduli are within reach of a well-funded attacker and NIST SP 800-131A
 * has disallowed them since 2013 (ssh-keygen's default is 3072).  See
 * docs/security.md.
 */
#define RSA_MIN_BITS	2048
#define RSA_MAX_BITS	16384

static const struct key_type *
key_type_lookup(const char *type, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strlen(key_types[i].name) == len &&
		    memcmp(key_types[i].name, type, len) == 0)
			return &key_types[i];
	return NULL;
}

int
sshkey_type_valid(const char *type)
{
	if (type == NULL)
		return 0;
	return key_type_lookup(type, strlen(type)) != NULL;
}

/* SSH wire reader over the blob. */
struct wire {
	const unsigned char	*p;
	size_t			 left;
};

static int
wire_string(struct wire *w, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (w->left < 4)
		return -1;
	n = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 |
	    (uint32_t)w->p[2] << 8 | (uint32_t)w->p[3];
	if (n > w->left - 4)
		return -1;
	*s = w->p + 4;
	*len = n;
	w->p += 4 + (size_t)n;
	w->left -= 4 + (size_t)n;
	return 0;
}

static int
wire_string_eq(struct wire *w, const char *want)
{
	const unsigned char *s;
	size_t len;

	if (wire_string(w, &s, &len) != 0)
		return -1;
	if (len != strlen(want) || memcmp(s, want, len) != 0)
		return -1;
	return 0;
}

/* A positive mpint (RFC 4251 §5) in minimal form; its size in bits. */
static int
wire_mpint_positive(struct wire *w, size_t *bits)
{
	const unsigned char *s;
	size_t len, b;

	if (wire_string(w, &s, &len) != 0 || len == 0)
		return -1;
	if (s[0] & 0x80)
		return -1;			/* negative */
	if (s[0] == 0) {
		if (len == 1 || !(s[1] & 0x80))
			return -1;		/* zero, or not minimal */
		s++;
		len--;
	}
	for (b = 8; b > 0 && !(s[0] & (1u << (b - 1))); b--)
		;
	*bits = (len - 1) * 8 + b;
	return 0;
}

/* Check the blob's structure for its type; NULL if fine, else why. */
static const char *
blob_problem(const struct key_type *kt, const unsigned char *blob,
    size_t len)
{
	struct wire w = { blob, len };
	const unsigned char *s;
	size_t slen, ebits, nbits;

	if (wire_string_eq(&w, kt->name) != 0)
		return "key type does not match key data";
	switch (kt->kind) {
	case K_ED25519:
	case K_SK_ED25519:
		if (wire_string(&w, &s, &slen) != 0 ||
		    slen != crypto_sign_ed25519_PUBLICKEYBYTES)
			return "malformed key data";
		break;
	case K_RSA:
		if (wire_mpint_positive(&w, &ebits) != 0 ||
		    wire_mpint_positive(&w, &nbits) != 0)
			return "malformed key data";
		if (nbits < RSA_MIN_BITS)
			return "RSA keys below 2048 bits are refused";
		if (nbits > RSA_MAX_BITS)
			return "unsupported RSA key size";
		if (ebits < 2)
			return "malformed key data";
		break;
	case K_ECDSA:
	case K_SK_ECDSA:
		if (wire_string_eq(&w, kt->curve) != 0 ||
		    wire_string(&w, &s, &slen) != 0 ||
		    slen != kt->point_len || s[0] != 0x04)
			return "malformed key data";
		break;
	}
	if (kt->kind == K_SK_ED25519 || kt->kind == K_SK_ECDSA) {
		/* The application string ("ssh:" by default). */
		if (wire_string(&w, &s, &slen) != 0)
			return "malformed key data";
	}
	if (w.left != 0)
		return "trailing bytes in key data";
	return NULL;
}

int
sshkey_parse_parts(const char *type, const char *b64,
    struct sshkey_pub *out, const char **why)
{
	const struct key_type *kt;
	const char *problem;
	unsigned char *blob = NULL;
	unsigned char hash[crypto_hash_sha256_BYTES];
	size_t b64len, bloblen, cap;
	char *canon;

	memset(out, 0, sizeof(*out));
	if (type == NULL || (kt = key_type_lookup(type, strlen(type))) == NULL) {
		SET_WHY(why, "unsupported key type");
		return SD_EBADREQ;
	}
	if (b64 == NULL || (b64len = strlen(b64)) == 0) {
		SET_WHY(why, "missing key data");
		return SD_EBADREQ;
	}
	if (b64len > SSHKEY_MAX_B64) {
		SET_WHY(why, "key data too long");
		return SD_EBADREQ;
	}
	cap = b64len / 4 * 3 + 3;
	blob = xmalloc(cap);
	if (b64len % 4 != 0 ||
	    sodium_base642bin(blob, cap, b64, b64len, NULL, &bloblen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(blob);
		SET_WHY(why, "key data is not valid base64");
		return SD_EBADREQ;
	}
	if ((problem = blob_problem(kt, blob, bloblen)) != NULL) {
		free(blob);
		SET_WHY(why, problem);
		return SD_EBADREQ;
	}

	canon = xmalloc(sodium_base64_ENCODED_LEN(bloblen,
	    sodium_base64_VARIANT_ORIGINAL));
	sodium_bin2base64(canon, sodium_base64_ENCODED_LEN(bloblen,
	    sodium_base64_VARIANT_ORIGINAL), blob, bloblen,
	    sodium_base64_VARIANT_ORIGINAL);
	crypto_hash_sha256(hash, blob, bloblen);
	free(blob);

	memcpy(out->fp, "SHA256:", 7);
	sodium_bin2base64(out->fp + 7, sizeof(out->fp) - 7, hash, sizeof(hash),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	memcpy(out->type, kt->name, strlen(kt->name) + 1);
	out->b64 = canon;
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Next whitespace-separated token in [*p, end). */
static int
next_token(const char **p, const char *end, const char **tok, size_t *len)
{
	const char *s = *p;

	while (s < end && is_space(*s))
		s++;
	if (s == end)
		return -1;
	*tok = s;
	while (s < end && !is_space(*s))
		s++;
	*len = (size_t)(s - *tok);
	*p = s;
	return 0;
}

int
sshkey_parse_line(const char *line, size_t len, struct sshkey_pub *out,
    const char **why)
{
	const char *p, *end, *tok, *b64tok;
	size_t toklen, b64len;
	const struct key_type *kt;
	char *b64;
	int r;

	memset(out, 0, sizeof(*out));
	if (line == NULL || len == 0) {
		SET_WHY(why, "empty key line");
		return SD_EBADREQ;
	}
	if (len > SSHKEY_MAX_LINE) {
		SET_WHY(why, "key line too long");
		return SD_EBADREQ;
	}
	if (memchr(line, '\0', len) != NULL) {
		SET_WHY(why, "NUL in key line");
		return SD_EBADREQ;
	}
	p = line;
	end = line + len;
	if (next_token(&p, end, &tok, &toklen) != 0) {
		SET_WHY(why, "empty key line");
		return SD_EBADREQ;
	}
	/* $SSH_USER_AUTH form: "publickey <type> <base64>". */
	if (toklen == 9 && memcmp(tok, "publickey", 9) == 0 &&
	    next_token(&p, end, &tok, &toklen) != 0) {
		SET_WHY(why, "missing key type");
		return SD_EBADREQ;
	}
	if ((kt = key_type_lookup(tok, toklen)) == NULL) {
		if (memchr(tok, '=', toklen) != NULL ||
		    memchr(tok, ',', toklen) != NULL ||
		    memchr(tok, '"', toklen) != NULL)
			SET_WHY(why, "key options are not accepted");
		else
			SET_WHY(why, "unsupported key type");
		return SD_EBADREQ;
	}
	if (next_token(&p, end, &b64tok, &b64len) != 0) {
		SET_WHY(why, "missing key data");
		return SD_EBADREQ;
	}
	if (b64len > SSHKEY_MAX_B64) {
		SET_WHY(why, "key data too long");
		return SD_EBADREQ;
	}
	/* Whatever follows is a comment; it is ignored, never copied. */
	b64 = xstrndup(b64tok, b64len);
	r = sshkey_parse_parts(kt->name, b64, out, why);
	free(b64);
	return r;
}

int
sshkey_fp_valid(const char *s)
{
	unsigned char bin[crypto_hash_sha256_BYTES];
	size_t binlen;

	if (s == NULL || strlen(s) != FP_STRLEN ||
	    strncmp(s, "SHA256:", 7) != 0)
		return 0;
	if (sodium_base642bin(bin, sizeof(bin), s + 7, FP_STRLEN - 7,
	    NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
		return 0;
	return binlen == sizeof(bin);
}

void
sshkey_pub_free(struct sshkey_pub *k)
{
	if (k == NULL)
		return;
	free(k->b64);
	memset(k, 0, sizeof(*k));
}
