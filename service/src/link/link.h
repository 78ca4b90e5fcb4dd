/*
 * link — the secrets of the customer's self-service page, all from one
 * server secret (KEPT_LINK_SECRET) through HMAC-SHA256 with a label per use,
 * so that no key serves two purposes:
 *
 *   token     a personal link's token: 24 random bytes and the first 16 bytes
 *             of their HMAC, base64url (54 characters). A token whose
 *             signature fails is refused before the database is asked; the
 *             database holds only the token's SHA-256.
 *   session   a verified visit's cookie: 32 random bytes, base64url; stored as
 *             its SHA-256.
 *   csrf      the token every form carries: an HMAC of what the form is bound
 *             to (the visit's cookie), so a page of another site cannot make one.
 *   code      a one-time code (six digits) is stored as an HMAC, bound to its
 *             link, so the table of codes cannot be searched for it.
 *   address   the client's address is counted for rate limits as an HMAC,
 *             never as the address.
 *   seal      a text that carries a link or a code waits in the database
 *             sealed (AES-256-GCM), opened only to be sent.
 *
 * Nothing here logs, and every buffer is the caller's. A struct link_keys is
 * made once at start and read by every thread.
 */
#ifndef KEPT_LINK_H
#define KEPT_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "arena/arena.h"
#include "crypto/crypto.h"
#include "err/err.h"

#define LINK_SECRET_MIN   32 /* bytes of KEPT_LINK_SECRET at least */
#define LINK_TOKEN_LEN    54 /* base64url of 24 random bytes + a 16-byte signature */
#define LINK_SESSION_LEN  43 /* base64url of 32 random bytes */
#define LINK_CSRF_LEN     32 /* base64url of 24 bytes of HMAC */
#define LINK_CODE_DIGITS  6
#define LINK_HASH_HEX_LEN 64
#define LINK_ADDRESS_LEN  32 /* hex of 16 bytes of HMAC */

struct link_keys {
	unsigned char token[CRYPTO_SHA256_LEN];
	unsigned char csrf[CRYPTO_SHA256_LEN];
	unsigned char code[CRYPTO_SHA256_LEN];
	unsigned char address[CRYPTO_SHA256_LEN];
	unsigned char seal[CRYPTO_SEAL_KEY_LEN];
};

/* Derives every key from `secret` (at least LINK_SECRET_MIN bytes). */
kept_err link_keys_derive(const char *secret, struct link_keys *out) KEPT_MUST_CHECK;

/* A new token and the hex SHA-256 to store for it. */
kept_err link_token_new(const struct link_keys *k, char token[LINK_TOKEN_LEN + 1],
                        char hash_hex[LINK_HASH_HEX_LEN + 1]) KEPT_MUST_CHECK;

/* True when `token` has the shape of a token and its signature holds; then
 * `hash_hex` is its SHA-256. Constant time in the signature. */
bool link_token_check(const struct link_keys *k, const char *token, char hash_hex[LINK_HASH_HEX_LEN + 1]);

/* A new session cookie and the hex SHA-256 to store for it. */
kept_err link_session_new(char cookie[LINK_SESSION_LEN + 1],
                          char hash_hex[LINK_HASH_HEX_LEN + 1]) KEPT_MUST_CHECK;

/* The hex SHA-256 of a presented cookie, when it has the shape of one. */
bool link_session_hash(const char *cookie, char hash_hex[LINK_HASH_HEX_LEN + 1]);

/* The form token bound to `binding` (a cookie), and whether `presented` is it. */
void link_csrf(const struct link_keys *k, const char *binding, char out[LINK_CSRF_LEN + 1]);
bool link_csrf_ok(const struct link_keys *k, const char *binding, const char *presented);

/* A one-time code: six digits, uniform. */
kept_err link_code_new(char code[LINK_CODE_DIGITS + 1]) KEPT_MUST_CHECK;

/* The stored form of a code for the link whose token hashes to `token_hash_hex`. */
void link_code_hash(const struct link_keys *k, const char *token_hash_hex, const char *code,
                    char out[LINK_HASH_HEX_LEN + 1]);

/* The client address as rate limits count it. */
void link_address_key(const struct link_keys *k, const char *address, char out[LINK_ADDRESS_LEN + 1]);

/* `text` sealed, as hex (arena-owned); NULL when out of memory or OpenSSL failed. */
const char *link_seal(const struct link_keys *k, struct arena *arena, const char *text);

/* A sealed text (hex) opened (arena-owned); NULL when it is not one sealed under these keys. */
const char *link_open(const struct link_keys *k, struct arena *arena, const char *hex);

#endif
