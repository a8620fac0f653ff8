/*
 * crypto.c - keyring file handling, sealing and opening of values.
 *
 * Keyring file: text, one key per line "ID BASE64" (32-byte keys, ids
 * ascending, 1 to 2^31-1 like the database's key_id column), '#'
 * comments, and at most one "kdf BASE64" line: the root of derived keys
 * (the audit hash key), which never seals and is never retired, so that
 * retiring old sealing keys leaves the audit hashes comparable.  A file
 * without a kdf line (made by hand) derives from its lowest-id key.
 * Mode 0400 (or 0600), owned by the daemon's user.  Must never: print a key, leave a decoded key outside
 * sodium_malloc'ed memory, or open a ciphertext under associated data
 * other than its own row's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto.h"
#include "xmalloc.h"

#define KEY_LEN		crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define MAX_KEYS	256
#define KEYRING_MAX	(64 * 1024)

struct keyring {
	int		 n;
	uint32_t	 ids[MAX_KEYS];
	unsigned char	*keys;		/* sodium_malloc: MAX_KEYS * KEY_LEN */
	unsigned char	*kdf;		/* sodium_malloc: KEY_LEN, kdf line */
	int		 has_kdf;
	unsigned char	*audit_key;	/* sodium_malloc: AUDIT_HASH_LEN */
	unsigned char	*mac_key;	/* sodium_malloc: row MACs, seals */
};

#define KEY_ID_MAX	2147483647UL	/* secret_version.key_id is integer */

_Static_assert(crypto_kdf_KEYBYTES == KEY_LEN, "kdf root key size");

_Static_assert(KEY_LEN == 32, "xchacha20poly1305 key size");

static int
read_file(const char *path, char **text, size_t *len, char *err,
    size_t errlen, int check_mode)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "keyring %s: %s%s", path,
		    errno == ELOOP ? "is a symbolic link" : strerror(errno),
		    errno == ENOENT ? " (create it with \"secretd init\")" :
		    errno == ELOOP ? "; set keyring to the file itself" : "");
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "keyring %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (check_mode && (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "keyring %s: mode %04o is readable or "
		    "writable by group or others; fix with \"chmod 0400 %s\"",
		    path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	if (check_mode && st.st_uid != geteuid()) {
		snprintf(err, errlen, "keyring %s: owned by uid %u, not by "
		    "uid %u that secretd runs as; run secretd (also keygen "
		    "and rekey) as the keyring's owner, or fix with "
		    "\"chown %u %s\"", path, (unsigned)st.st_uid,
		    (unsigned)geteuid(), (unsigned)geteuid(), path);
		close(fd);
		return -1;
	}
	if (st.st_size > KEYRING_MAX) {
		snprintf(err, errlen, "keyring %s: larger than 64 KiB", path);
		close(fd);
		return -1;
	}
	buf = sodium_malloc(KEYRING_MAX + 1);
	if (buf == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (off < KEYRING_MAX) {
		n = read(fd, buf + off, KEYRING_MAX - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "keyring %s: %s", path,
			    strerror(errno));
			sodium_free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*text = buf;
	*len = off;
	return 0;
}

/* 32 bytes of standard base64 into out; 0 or -1. */
static int
decode_key(unsigned char *out, const char *b64)
{
	size_t klen;

	return sodium_base642bin(out, KEY_LEN, b64, strlen(b64), NULL, &klen,
	    NULL, sodium_base64_VARIANT_ORIGINAL) == 0 && klen == KEY_LEN ?
	    0 : -1;
}

/*
 * Parse keyring text into ids/keys (keys is sodium memory of MAX_KEYS)
 * and the kdf root (sodium memory of KEY_LEN; *has_kdf set if present).
 */
static int
parse_keyring(const char *path, char *text, uint32_t *ids,
    unsigned char *keys, int *nkeys, unsigned char *kdf, int *has_kdf,
    char *err, size_t errlen)
{
	char *line, *save = NULL, *sp;
	int n = 0, lineno = 0;
	unsigned long id;

	*has_kdf = 0;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (*line == '#' || *line == '\0')
			continue;
		if ((sp = strchr(line, ' ')) == NULL) {
			snprintf(err, errlen, "keyring %s: line %d: expected "
			    "\"ID BASE64\"", path, lineno);
			return -1;
		}
		*sp = '\0';
		if (strcmp(line, "kdf") == 0) {
			if (*has_kdf) {
				snprintf(err, errlen, "keyring %s: line %d: "
				    "a second kdf line", path, lineno);
				return -1;
			}
			if (decode_key(kdf, sp + 1) != 0) {
				snprintf(err, errlen, "keyring %s: line %d: "
				    "key is not 32 bytes of base64", path,
				    lineno);
				return -1;
			}
			*has_kdf = 1;
			continue;
		}
		errno = 0;
		id = strtoul(line, NULL, 10);
		if (errno != 0 || id == 0 || id > KEY_ID_MAX ||
		    strspn(line, "0123456789") != strlen(line)) {
			snprintf(err, errlen, "keyring %s: line %d: bad key id",
			    path, lineno);
			return -1;
		}
		if (n > 0 && id <= ids[n - 1]) {
			snprintf(err, errlen, "keyring %s: line %d: key ids "
			    "must ascend", path, lineno);
			return -1;
		}
		if (n >= MAX_KEYS) {
			snprintf(err, errlen, "keyring %s: more than %d keys",
			    path, MAX_KEYS);
			return -1;
		}
		if (decode_key(keys + (size_t)n * KEY_LEN, sp + 1) != 0) {
			snprintf(err, errlen, "keyring %s: line %d: key is not "
			    "32 bytes of base64", path, lineno);
			return -1;
		}
		ids[n++] = (uint32_t)id;
	}
	if (n == 0) {
		snprintf(err, errlen, "keyring %s: no keys", path);
		return -1;
	}
	*nkeys = n;
	return 0;
}

int
keyring_load(const char *path, struct keyring **out, char *err,
    size_t errlen)
{
	struct keyring *kr;
	char *text;
	size_t len;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (read_file(path, &text, &len, err, errlen, 1) != 0)
		return -1;
	kr = xcalloc(1, sizeof(*kr));
	kr->keys = sodium_malloc((size_t)MAX_KEYS * KEY_LEN);
	kr->kdf = sodium_malloc(KEY_LEN);
	kr->audit_key = sodium_malloc(AUDIT_HASH_LEN);
	kr->mac_key = sodium_malloc(AUDIT_HASH_LEN);
	if (kr->keys == NULL || kr->kdf == NULL || kr->audit_key == NULL ||
	    kr->mac_key == NULL) {
		snprintf(err, errlen, "out of memory");
		sodium_free(text);
		keyring_free(kr);
		return -1;
	}
	if (parse_keyring(path, text, kr->ids, kr->keys, &kr->n, kr->kdf,
	    &kr->has_kdf, err, errlen) != 0) {
		sodium_free(text);
		keyring_free(kr);
		return -1;
	}
	sodium_free(text);
	/* The kdf root, else (a hand-made file) the lowest-id key. */
	crypto_kdf_derive_from_key(kr->audit_key, AUDIT_HASH_LEN, 1,
	    "sdaudit1", kr->has_kdf ? kr->kdf : kr->keys);
	crypto_kdf_derive_from_key(kr->mac_key, AUDIT_HASH_LEN, 2,
	    "sdaudit1", kr->has_kdf ? kr->kdf : kr->keys);
	sodium_mprotect_readonly(kr->keys);
	sodium_mprotect_readonly(kr->kdf);
	sodium_mprotect_readonly(kr->audit_key);
	sodium_mprotect_readonly(kr->mac_key);
	*out = kr;
	return 0;
}

void
keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	if (kr->keys != NULL)
		sodium_free(kr->keys);
	if (kr->kdf != NULL)
		sodium_free(kr->kdf);
	if (kr->audit_key != NULL)
		sodium_free(kr->audit_key);
	if (kr->mac_key != NULL)
		sodium_free(kr->mac_key);
	free(kr);
}

uint32_t
keyring_current_id(const struct keyring *kr)
{
	return kr->ids[kr->n - 1];
}

static const unsigned char *
find_key(const struct keyring *kr, uint32_t id)
{
	int i;

	for (i = 0; i < kr->n; i++)
		if (kr->ids[i] == id)
			return kr->keys + (size_t)i * KEY_LEN;
	return NULL;
}

int
keyring_has(const struct keyring *kr, uint32_t id)
{
	return find_key(kr, id) != NULL;
}

/* fsync the directory holding path, so a rename or link survives a crash
 * (a key that sealed values must not vanish with a power cut). */
static void
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xasprintf("%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Write text to path atomically (temp file, fsync, rename, fsync of the
 * directory), mode 0400. */
static int
write_keyring(const char *path, const char *text, size_t len, int excl,
    char *err, size_t errlen)
{
	char *tmp = xasprintf("%s.new", path);
	int fd, r = -1;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0400);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	close(fd);
	if (excl) {
		if (link(tmp, path) != 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		else
			r = 0;
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
	} else
		r = 0;
	if (r == 0)
		sync_dir(path);
	free(tmp);
	return r;
}

/* "LABEL BASE64\n" for a fresh random key, into sodium memory. */
static char *
new_key_line(const char *label, size_t *len)
{
	unsigned char *key = sodium_malloc(KEY_LEN);
	char *line = sodium_malloc(128);
	char b64[sodium_base64_ENCODED_LEN(KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL)];

	if (key == NULL || line == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	sodium_bin2base64(b64, sizeof(b64), key, KEY_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	*len = (size_t)snprintf(line, 128, "%s %s\n", label, b64);
	sodium_memzero(b64, sizeof(b64));
	sodium_free(key);
	return line;
}

int
keyring_create(const char *path, char *err, size_t errlen)
{
	static const char head[] =
	    "# secretd keyring (mode 0400, owned by the user secretd runs as).\n"
	    "# \"kdf BASE64\": root of derived keys (audit hashes); never "
	    "remove it.\n"
	    "# \"ID BASE64\": sealing keys; the highest id seals new values. "
	    "Add one\n"
	    "# with \"secretd keygen\"; remove an old one only after "
	    "\"secretd rekey\".\n";
	char *kdf, *line, *text;
	size_t klen, len, hlen = sizeof(head) - 1;
	int r;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	kdf = new_key_line("kdf", &klen);
	line = new_key_line("1", &len);
	text = sodium_malloc(hlen + klen + len);
	memcpy(text, head, hlen);
	memcpy(text + hlen, kdf, klen);
	memcpy(text + hlen + klen, line, len);
	r = write_keyring(path, text, hlen + klen + len, 1, err, errlen);
	sodium_free(text);
	sodium_free(line);
	sodium_free(kdf);
	return r;
}

int
keyring_add_key(const char *path, uint32_t *new_id, char *err,
    size_t errlen)
{
	struct keyring *kr;
	char *text, *line, *all, idbuf[16];
	size_t len, llen;
	int r, n;

	if (keyring_load(path, &kr, err, errlen) != 0)
		return -1;
	*new_id = keyring_current_id(kr) + 1;
	n = kr->n;
	keyring_free(kr);
	if (n >= MAX_KEYS || *new_id > KEY_ID_MAX) {
		snprintf(err, errlen, "keyring %s: no room for another key "
		    "(at most %d keys, ids up to %lu): rekey, then retire old "
		    "keys", path, MAX_KEYS, KEY_ID_MAX);
		return -1;
	}
	if (read_file(path, &text, &len, err, errlen, 1) != 0)
		return -1;
	snprintf(idbuf, sizeof(idbuf), "%u", *new_id);
	line = new_key_line(idbuf, &llen);
	all = sodium_malloc(len + llen + 1);
	memcpy(all, text, len);
	if (len > 0 && text[len - 1] != '\n')
		all[len++] = '\n';
	memcpy(all + len, line, llen);
	r = write_keyring(path, all, len + llen, 0, err, errlen);
	sodium_free(all);
	sodium_free(line);
	sodium_free(text);
	return r;
}

/* Associated data: "secretd/v1" || node_id || version || key_id (BE). */
#define AD_LEN (10 + 8 + 4 + 4)
static void
make_ad(unsigned char ad[AD_LEN], int64_t node_id, int32_t version,
    uint32_t key_id)
{
	uint64_t n = (uint64_t)node_id;
	uint32_t v = (uint32_t)version;
	int i;

	memcpy(ad, "secretd/v1", 10);
	for (i = 0; i < 8; i++)
		ad[10 + i] = (unsigned char)(n >> (56 - 8 * i));
	for (i = 0; i < 4; i++) {
		ad[18 + i] = (unsigned char)(v >> (24 - 8 * i));
		ad[22 + i] = (unsigned char)(key_id >> (24 - 8 * i));
	}
}

int
seal_value(const struct keyring *kr, int64_t node_id, int32_t version,
    const unsigned char *pt, size_t len, uint32_t *key_id,
    unsigned char nonce[SEAL_NONCE_LEN], unsigned char **ct, size_t *ctlen)
{
	unsigned char ad[AD_LEN];
	unsigned long long clen;
	uint32_t id = keyring_current_id(kr);

	randombytes_buf(nonce, SEAL_NONCE_LEN);
	make_ad(ad, node_id, version, id);
	*ct = xmalloc(len + SEAL_TAG_LEN);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(*ct, &clen, pt, len,
	    ad, sizeof(ad), NULL, nonce, find_key(kr, id)) != 0) {
		free(*ct);
		*ct = NULL;
		return SD_EINTERNAL;
	}
	*ctlen = (size_t)clen;
	*key_id = id;
	return 0;
}

int
open_value(const struct keyring *kr, int64_t node_id, int32_t version,
    uint32_t key_id, const unsigned char *nonce, size_t noncelen,
    const unsigned char *ct, size_t ctlen, unsigned char **pt,
    size_t *ptlen)
{
	const unsigned char *key = find_key(kr, key_id);
	unsigned char ad[AD_LEN], *buf;
	unsigned long long plen;

	if (key == NULL || noncelen != SEAL_NONCE_LEN || ctlen < SEAL_TAG_LEN)
		return SD_EINTERNAL;
	make_ad(ad, node_id, version, key_id);
	buf = xmalloc(ctlen - SEAL_TAG_LEN + 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, &plen, NULL, ct,
	    ctlen, ad, sizeof(ad), nonce, key) != 0) {
		freezero(buf, ctlen - SEAL_TAG_LEN + 1);
		return SD_EINTERNAL;
	}
	buf[plen] = '\0';
	*pt = buf;
	*ptlen = (size_t)plen;
	return 0;
}

void
audit_value_hash(const struct keyring *kr, const unsigned char *val,
    size_t len, unsigned char out[AUDIT_HASH_LEN])
{
	crypto_generichash(out, AUDIT_HASH_LEN, val, len, kr->audit_key,
	    AUDIT_HASH_LEN);
}

void
audit_mac(const struct keyring *kr, const unsigned char *buf, size_t len,
    unsigned char out[AUDIT_HASH_LEN])
{
	crypto_generichash(out, AUDIT_HASH_LEN, buf, len, kr->mac_key,
	    AUDIT_HASH_LEN);
}
