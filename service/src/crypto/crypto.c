#include "crypto.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

kept_err crypto_random(void *out, size_t n)
{
	if (n > INT_MAX)
		return KEPT_ERR_INTERNAL;
	return RAND_bytes(out, (int)n) == 1 ? KEPT_OK : KEPT_ERR_INTERNAL;
}

void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;
	/* EVP_Digest only fails on allocation failure inside OpenSSL; an
	 * all-zero digest then never matches a stored key hash. */
	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1)
		memset(out, 0, CRYPTO_SHA256_LEN);
}

void crypto_hex(const unsigned char *data, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

void crypto_sha256_hex(const void *data, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	unsigned char digest[CRYPTO_SHA256_LEN];
	crypto_sha256(data, n, digest);
	crypto_hex(digest, sizeof digest, out);
}

size_t crypto_base64url_len(size_t n)
{
	return (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void crypto_base64url(const unsigned char *data, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)data[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
}

static int b64url_value(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;
	return p ? (int)(p - b64url) : -1;
}

bool crypto_base64url_decode(const char *in, size_t in_len, unsigned char *out, size_t out_size,
                             size_t *out_len)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0;
	if (in_len % 4 == 1)
		return false;
	for (size_t i = 0; i < in_len; i++) {
		int v = b64url_value(in[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= out_size)
				return false;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) /* non-canonical trailing bits */
		return false;
	*out_len = o;
	return true;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

kept_err crypto_hmac_sha1(const void *key, size_t key_len, const void *data, size_t n,
                          unsigned char out[CRYPTO_SHA1_LEN])
{
	unsigned int len = CRYPTO_SHA1_LEN;
	bool ok = key_len <= INT_MAX && HMAC(EVP_sha1(), key, (int)key_len, data, n, out, &len) != NULL &&
	          len == CRYPTO_SHA1_LEN;
	return ok ? KEPT_OK : KEPT_ERR_INTERNAL;
}

size_t crypto_base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void crypto_base64(const unsigned char *data, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, data, (int)n);
}

void crypto_cleanse(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

kept_err crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n,
                            unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = CRYPTO_SHA256_LEN;
	bool ok = key_len <= INT_MAX && HMAC(EVP_sha256(), key, (int)key_len, data, n, out, &len) != NULL &&
	          len == CRYPTO_SHA256_LEN;
	return ok ? KEPT_OK : KEPT_ERR_INTERNAL;
}

/* ---- sealed boxes: AES-256-GCM -------------------------------------------------------------- */

#define SEAL_NONCE 12
#define SEAL_TAG   16

size_t crypto_sealed_len(size_t n)
{
	return n + CRYPTO_SEAL_OVERHEAD;
}

kept_err crypto_seal(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *plain, size_t n,
                     unsigned char *out)
{
	if (n > INT_MAX - CRYPTO_SEAL_OVERHEAD || crypto_random(out, SEAL_NONCE))
		return KEPT_ERR_INTERNAL;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, out) == 1 &&
	          EVP_EncryptUpdate(c, out + SEAL_NONCE, &len, plain, (int)n) == 1 &&
	          EVP_EncryptFinal_ex(c, out + SEAL_NONCE + len, &fin) == 1 &&
	          EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, out + SEAL_NONCE + n) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok && len >= 0 && fin >= 0 && (size_t)len + (size_t)fin == n ? KEPT_OK : KEPT_ERR_INTERNAL;
}

kept_err crypto_open(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const unsigned char *sealed, size_t n,
                     void *out)
{
	if (n < CRYPTO_SEAL_OVERHEAD || n > INT_MAX)
		return KEPT_ERR_INVALID;
	size_t plain = n - CRYPTO_SEAL_OVERHEAD;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;
	bool ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, sealed) == 1 &&
	          EVP_DecryptUpdate(c, out, &len, sealed + SEAL_NONCE, (int)plain) == 1 &&
	          EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG,
	                              (void *)(sealed + SEAL_NONCE + plain)) == 1 &&
	          EVP_DecryptFinal_ex(c, (unsigned char *)out + len, &fin) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok && len >= 0 && fin >= 0 && (size_t)len + (size_t)fin == plain ? KEPT_OK : KEPT_ERR_INVALID;
}
