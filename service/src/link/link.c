#include "link.h"

#include <stdint.h>
#include <string.h>

#define TOKEN_RANDOM 24
#define TOKEN_SIG    16
#define CSRF_BYTES   24

static kept_err derive(const char *secret, const char *label, unsigned char out[CRYPTO_SHA256_LEN])
{
	return crypto_hmac_sha256(secret, strlen(secret), label, strlen(label), out);
}

kept_err link_keys_derive(const char *secret, struct link_keys *out)
{
	if (!secret || strlen(secret) < LINK_SECRET_MIN)
		return KEPT_ERR_INVALID;
	kept_err r = derive(secret, "kept self-service: link token", out->token);
	if (!r)
		r = derive(secret, "kept self-service: form token", out->csrf);
	if (!r)
		r = derive(secret, "kept self-service: one-time code", out->code);
	if (!r)
		r = derive(secret, "kept self-service: client address", out->address);
	if (!r)
		r = derive(secret, "kept self-service: sealed text", out->seal);
	return r;
}

static kept_err sign(const struct link_keys *k, const unsigned char *random, unsigned char sig[TOKEN_SIG])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	kept_err r = crypto_hmac_sha256(k->token, sizeof k->token, random, TOKEN_RANDOM, mac);
	if (!r)
		memcpy(sig, mac, TOKEN_SIG);
	return r;
}

kept_err link_token_new(const struct link_keys *k, char token[LINK_TOKEN_LEN + 1],
                        char hash_hex[LINK_HASH_HEX_LEN + 1])
{
	unsigned char raw[TOKEN_RANDOM + TOKEN_SIG];
	if (crypto_random(raw, TOKEN_RANDOM) || sign(k, raw, raw + TOKEN_RANDOM))
		return KEPT_ERR_INTERNAL;
	crypto_base64url(raw, sizeof raw, token);
	crypto_sha256_hex(token, LINK_TOKEN_LEN, hash_hex);
	return KEPT_OK;
}

bool link_token_check(const struct link_keys *k, const char *token, char hash_hex[LINK_HASH_HEX_LEN + 1])
{
	unsigned char raw[TOKEN_RANDOM + TOKEN_SIG + 1], sig[TOKEN_SIG];
	size_t n = 0;
	if (!token || strlen(token) != LINK_TOKEN_LEN ||
	    !crypto_base64url_decode(token, LINK_TOKEN_LEN, raw, sizeof raw, &n) ||
	    n != TOKEN_RANDOM + TOKEN_SIG || sign(k, raw, sig) ||
	    !crypto_equal(sig, raw + TOKEN_RANDOM, TOKEN_SIG))
		return false;
	crypto_sha256_hex(token, LINK_TOKEN_LEN, hash_hex);
	return true;
}

kept_err link_session_new(char cookie[LINK_SESSION_LEN + 1], char hash_hex[LINK_HASH_HEX_LEN + 1])
{
	unsigned char raw[32];
	if (crypto_random(raw, sizeof raw))
		return KEPT_ERR_INTERNAL;
	crypto_base64url(raw, sizeof raw, cookie);
	crypto_sha256_hex(cookie, LINK_SESSION_LEN, hash_hex);
	return KEPT_OK;
}

bool link_session_hash(const char *cookie, char hash_hex[LINK_HASH_HEX_LEN + 1])
{
	unsigned char raw[33];
	size_t n = 0;
	if (!cookie || strlen(cookie) != LINK_SESSION_LEN ||
	    !crypto_base64url_decode(cookie, LINK_SESSION_LEN, raw, sizeof raw, &n) || n != 32)
		return false;
	crypto_sha256_hex(cookie, LINK_SESSION_LEN, hash_hex);
	return true;
}

void link_csrf(const struct link_keys *k, const char *binding, char out[LINK_CSRF_LEN + 1])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	if (!binding || crypto_hmac_sha256(k->csrf, sizeof k->csrf, binding, strlen(binding), mac))
		memset(mac, 0, sizeof mac); /* never equal to a presented token: see link_csrf_ok */
	crypto_base64url(mac, CSRF_BYTES, out);
}

bool link_csrf_ok(const struct link_keys *k, const char *binding, const char *presented)
{
	char want[LINK_CSRF_LEN + 1];
	if (!binding || !*binding || !presented || strlen(presented) != LINK_CSRF_LEN)
		return false;
	link_csrf(k, binding, want);
	return crypto_equal(want, presented, LINK_CSRF_LEN);
}

kept_err link_code_new(char code[LINK_CODE_DIGITS + 1])
{
	/* rejection sampling: the largest multiple of 10^6 below 2^32 keeps the digits uniform */
	for (;;) {
		uint32_t v;
		if (crypto_random(&v, sizeof v))
			return KEPT_ERR_INTERNAL;
		if (v >= 4294000000u)
			continue;
		v %= 1000000u;
		for (int i = LINK_CODE_DIGITS - 1; i >= 0; i--) {
			code[i] = (char)('0' + v % 10);
			v /= 10;
		}
		code[LINK_CODE_DIGITS] = '\0';
		return KEPT_OK;
	}
}

void link_code_hash(const struct link_keys *k, const char *token_hash_hex, const char *code,
                    char out[LINK_HASH_HEX_LEN + 1])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char bound[LINK_HASH_HEX_LEN + LINK_CODE_DIGITS + 8];
	size_t n = 0;
	for (const char *p = token_hash_hex; p && *p && n < LINK_HASH_HEX_LEN; p++)
		bound[n++] = *p;
	bound[n++] = ':';
	for (const char *p = code; p && *p && n + 1 < sizeof bound; p++)
		bound[n++] = *p;
	if (crypto_hmac_sha256(k->code, sizeof k->code, bound, n, mac))
		memset(mac, 0xff, sizeof mac);
	crypto_hex(mac, sizeof mac, out);
}

void link_address_key(const struct link_keys *k, const char *address, char out[LINK_ADDRESS_LEN + 1])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	const char *a = address ? address : "";
	if (crypto_hmac_sha256(k->address, sizeof k->address, a, strlen(a), mac))
		memset(mac, 0, sizeof mac);
	crypto_hex(mac, LINK_ADDRESS_LEN / 2, out);
}

const char *link_seal(const struct link_keys *k, struct arena *arena, const char *text)
{
	size_t n = strlen(text), sealed_len = crypto_sealed_len(n);
	unsigned char *sealed = arena_alloc(arena, sealed_len);
	char *hex = arena_alloc(arena, 2 * sealed_len + 1);
	if (!sealed || !hex || crypto_seal(k->seal, text, n, sealed))
		return NULL;
	crypto_hex(sealed, sealed_len, hex);
	return hex;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *link_open(const struct link_keys *k, struct arena *arena, const char *hex)
{
	size_t len = hex ? strlen(hex) : 0;
	if (len % 2 || len / 2 < CRYPTO_SEAL_OVERHEAD)
		return NULL;
	size_t n = len / 2;
	unsigned char *sealed = arena_alloc(arena, n);
	char *plain = arena_alloc(arena, n - CRYPTO_SEAL_OVERHEAD + 1);
	if (!sealed || !plain)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return NULL;
		sealed[i] = (unsigned char)(hi << 4 | lo);
	}
	if (crypto_open(k->seal, sealed, n, plain))
		return NULL;
	plain[n - CRYPTO_SEAL_OVERHEAD] = '\0';
	return plain;
}
