/* X-Twilio-Signature: base64(HMAC-SHA1(token, url . name1 . value1 . name2 . value2 ...)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/buf.h"
#include "crypto/crypto.h"
#include "provider.h"

static int by_name(const void *a, const void *b)
{
	const struct form_field *x = *(const struct form_field *const *)a;
	const struct form_field *y = *(const struct form_field *const *)b;
	int c = strcmp(x->name, y->name); /* byte order, which is code point order in UTF-8 */
	if (c)
		return c;
	return x < y ? -1 : x > y; /* a repeated name keeps the order it came in */
}

kept_err provider_sign(const char *auth_token, const char *url, const struct form *params,
                       char out[PROVIDER_SIGNATURE_LEN + 1])
{
	size_t n = params ? params->count : 0;
	const struct form_field **sorted = calloc(n ? n : 1, sizeof(const struct form_field *));
	if (!sorted)
		return KEPT_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &params->fields[i];
	qsort(sorted, n, sizeof(const struct form_field *), by_name);
	struct buf b;
	buf_init(&b, 1u << 24);
	kept_err r = buf_adds(&b, url);
	for (size_t i = 0; i < n && !r; i++) {
		r = buf_adds(&b, sorted[i]->name);
		if (!r)
			r = buf_adds(&b, sorted[i]->value);
	}
	free(sorted);
	unsigned char mac[CRYPTO_SHA1_LEN];
	if (!r)
		r = crypto_hmac_sha1(auth_token, strlen(auth_token), buf_str(&b), buf_len(&b), mac);
	buf_free(&b);
	if (!r)
		crypto_base64(mac, sizeof mac, out);
	return r;
}

/* The URL with its port taken out (`with` false) or the scheme's default
 * port put in when it names none (`with` true); NULL when it is not an
 * http(s) URL or nothing changes. Caller frees. */
static char *port_variant(const char *url, bool with)
{
	size_t scheme_len;
	const char *port;
	if (strncmp(url, "https://", 8) == 0) {
		scheme_len = 8;
		port = ":443";
	} else if (strncmp(url, "http://", 7) == 0) {
		scheme_len = 7;
		port = ":80";
	} else {
		return NULL;
	}
	const char *host = url + scheme_len;
	size_t host_len = strcspn(host, "/?#");
	const char *at = memchr(host, '@', host_len);
	const char *hostname = at ? at + 1 : host;
	size_t hostname_len = host_len - (size_t)(hostname - host);
	const char *colon = hostname[0] == '[' ? NULL : memchr(hostname, ':', hostname_len);
	if (hostname[0] == '[') {
		const char *close = memchr(hostname, ']', hostname_len);
		colon = close && close + 1 < hostname + hostname_len && close[1] == ':' ? close + 1 : NULL;
	}
	if (with == (colon != NULL))
		return NULL;
	size_t total = strlen(url) + 8;
	char *out = malloc(total);
	if (!out)
		return NULL;
	int head = (int)((with ? hostname + hostname_len : colon) - url);
	snprintf(out, total, "%.*s%s%s", head, url, with ? port : "", hostname + hostname_len);
	return out;
}

static bool matches(const char *auth_token, const char *url, const struct form *params, const char *signature)
{
	char expected[PROVIDER_SIGNATURE_LEN + 1];
	if (!url || provider_sign(auth_token, url, params, expected))
		return false;
	/* both strings are 28 bytes here, so the comparison's time does not depend on them */
	return crypto_equal(expected, signature, PROVIDER_SIGNATURE_LEN);
}

bool provider_signature_valid(const char *auth_token, const char *url, const struct form *params,
                              const char *signature)
{
	if (!auth_token || !url || !signature || strlen(signature) != PROVIDER_SIGNATURE_LEN)
		return false;
	char *with = port_variant(url, true);
	char *without = port_variant(url, false);
	bool ok = matches(auth_token, url, params, signature);
	ok |= matches(auth_token, with, params, signature);
	ok |= matches(auth_token, without, params, signature);
	free(with);
	free(without);
	return ok;
}
