/* POST /v1/payments — money in, idempotent by Idempotency-Key: a C handler for
 * the header and the replay. Allocation and adherence are SQL
 * (sql/functions/70_payments.sql); reading and reversing payments are plain
 * rows of routes.c. */
#include <string.h>

#include "internal.h"

#define IDEMPOTENCY_KEY_MAX 200

/* Printable ASCII, 1 to IDEMPOTENCY_KEY_MAX characters (a UUID, say). */
static kept_err idempotency_key(struct api_ctx *ctx, const char **key, struct kept_error *err)
{
	const char *k = http_header(ctx->req, "Idempotency-Key");
	size_t n = k ? strlen(k) : 0;
	if (n == 0)
		return kept_fail(
		        err, KEPT_ERR_INVALID, "missing_idempotency_key", "Idempotency-Key",
		        "payments need an Idempotency-Key header, so that a retry never posts twice");
	for (size_t i = 0; i < n; i++)
		if (k[i] < 0x21 || k[i] > 0x7e)
			n = IDEMPOTENCY_KEY_MAX + 1;
	if (n > IDEMPOTENCY_KEY_MAX)
		return kept_fail(err, KEPT_ERR_INVALID, "invalid_idempotency_key", "Idempotency-Key",
		                 "the Idempotency-Key is 1-200 printable characters without spaces");
	*key = k;
	return KEPT_OK;
}

static kept_err no_memory(struct kept_error *err)
{
	return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
}

/* True when the answer is a replay of a payment already posted under the key. */
static bool replayed(struct api_ctx *ctx, const char *payment)
{
	cJSON *doc = NULL;
	struct kept_error ignored;
	if (json_parse_body(ctx->arena, payment, strlen(payment), &doc, &ignored))
		return false;
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "replayed"));
}

kept_err api_payments_post(struct api_ctx *ctx, struct kept_error *err)
{
	const char *key = NULL, *body = NULL, *payment = NULL;
	kept_err r = idempotency_key(ctx, &key, err);
	if (!r)
		r = api_json_body(ctx, ctx->route->spec, NULL, &body, err);
	if (r)
		return r;
	r = q_payment_post_value(ctx->db, ctx->arena, API_ACTOR(ctx), body, key, &payment, err);
	if (!r && replayed(ctx, payment))
		r = http_add_header(ctx->req, "Idempotent-Replayed", "true") ? no_memory(err) : KEPT_OK;
	if (!r)
		api_reply_created(ctx, "/v1/payments", payment);
	return r;
}
