/*
 * crypto — the only module that talks to OpenSSL.
 *
 * Randomness for secrets, SHA-256, encodings and constant-time comparison.
 * Functions write into caller-provided buffers of the documented sizes and
 * never allocate.
 */
#ifndef KEPT_CRYPTO_H
#define KEPT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err/err.h"

#define CRYPTO_SHA256_LEN     32
#define CRYPTO_SHA256_HEX_LEN 64

/* Fills `out` with `n` cryptographically secure random bytes (OpenSSL RAND_bytes).
 * KEPT_ERR_INTERNAL if the generator fails; `out` must then not be used. */
kept_err crypto_random(void *out, size_t n) KEPT_MUST_CHECK;

/* SHA-256 of `data`. */
void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);

/* Lower-case hex of `n` bytes into `out`, which must hold 2n + 1 bytes. */
void crypto_hex(const unsigned char *data, size_t n, char *out);

/* SHA-256 of `data` as 64 lower-case hex digits plus NUL (out: 65 bytes). */
void crypto_sha256_hex(const void *data, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1]);

/* Unpadded base64url (RFC 4648 §5) of `n` bytes into `out`, which must hold
 * crypto_base64url_len(n) + 1 bytes. */
void crypto_base64url(const unsigned char *data, size_t n, char *out);
size_t crypto_base64url_len(size_t n);

/* Decodes unpadded base64url; false for any character outside the alphabet
 * or when the result would not fit `out_size`. *out_len receives the length. */
bool crypto_base64url_decode(const char *in, size_t in_len, unsigned char *out, size_t out_size,
                             size_t *out_len);

#define CRYPTO_SHA1_LEN 20

/* HMAC-SHA1 of `data` under `key` (webhook signatures of Twilio-style
 * providers); KEPT_ERR_INTERNAL if OpenSSL fails (or key_len > INT_MAX),
 * `out` then unusable. */
kept_err crypto_hmac_sha1(const void *key, size_t key_len, const void *data, size_t n,
                          unsigned char out[CRYPTO_SHA1_LEN]) KEPT_MUST_CHECK;

/* Padded standard base64 (RFC 4648 §4) of `n` bytes into `out`, which must
 * hold crypto_base64_len(n) + 1 bytes. */
void crypto_base64(const unsigned char *data, size_t n, char *out);
size_t crypto_base64_len(size_t n);

/* HMAC-SHA256 of `data` under `key` (the self-service links' tokens, codes
 * and forms); KEPT_ERR_INTERNAL if OpenSSL fails, `out` then unusable. */
kept_err crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n,
                            unsigned char out[CRYPTO_SHA256_LEN]) KEPT_MUST_CHECK;

/* Authenticated encryption, AES-256-GCM under a 32-byte key: a sealed box is
 * a random 12-byte nonce, the ciphertext (as long as the plaintext) and the
 * 16-byte tag. crypto_seal writes crypto_sealed_len(n) bytes to `out`;
 * crypto_open writes n - CRYPTO_SEAL_OVERHEAD bytes and fails (KEPT_ERR_INVALID,
 * `out` unusable) when the box was changed, cut, or sealed under another key. */
#define CRYPTO_SEAL_KEY_LEN  32
#define CRYPTO_SEAL_OVERHEAD 28
size_t crypto_sealed_len(size_t n);
kept_err crypto_seal(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const void *plain, size_t n,
                     unsigned char *out) KEPT_MUST_CHECK;
kept_err crypto_open(const unsigned char key[CRYPTO_SEAL_KEY_LEN], const unsigned char *sealed, size_t n,
                     void *out) KEPT_MUST_CHECK;

/* Overwrites `n` bytes of a secret before its memory is released. */
void crypto_cleanse(void *p, size_t n);

/* True when the `n` bytes at a and b are equal, in time independent of the data. */
bool crypto_equal(const void *a, const void *b, size_t n);

#endif
