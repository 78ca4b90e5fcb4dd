/* /v1/payments — money in (idempotent by Idempotency-Key), money back out
 * (reversal). Allocation and adherence are SQL (sql/functions/70_payments.sql). */
#include <string.h>

#include "internal.h"

#define IDEMPOTENCY_KEY_MAX 200

static const struct json_field post_spec[] = {
        {"account_id", JSON_INT, JSON_REQUIRED},
        {"amount_cents", JSON_INT, JSON_REQUIRED},
        {"received_at", JSON_STRING, 0, .max = 40}, /* absent: now */
        {"source", JSON_STRING, JSON_REQUIRED, .max = 40},
        {"source_ref", JSON_STRING, JSON_REQUIRED, .max = 128},
        {0},
};

static const struct json_field reversal_spec[] = {
        {"reason", JSON_STRING, JSON_REQUIRED, .max = 1000},
        {0},
};

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
		r = api_json_body(ctx, post_spec, NULL, &body, err);
	if (r)
		return r;
	r = q_payment_post_value(ctx->db, ctx->arena, API_ACTOR(ctx), body, key, &payment, err);
	if (!r && replayed(ctx, payment))
		r = http_add_header(ctx->req, "Idempotent-Replayed", "true") ? no_memory(err) : KEPT_OK;
	if (!r)
		api_reply_created(ctx, "/v1/payments", payment);
	return r;
}

kept_err api_payments_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, q_payment_get_value, "payment", err);
}

kept_err api_payments_reverse(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {reversal_spec, q_payment_reverse_value, "payment", 200, NULL};
	return api_write(ctx, &w, err);
}

/* GET /v1/accounts/{id}/payments?cursor=&limit= */
kept_err api_payments_of_account(struct api_ctx *ctx, struct kept_error *err)
{
	const char *page = NULL;
	int64_t id;
	kept_err r = api_path_id(ctx, "id", "account_not_found", &id, err);
	if (r)
		return r;
	r = q_payment_page_value(ctx->db, ctx->arena, id, http_query(ctx->req, "cursor"),
	                         http_query(ctx->req, "limit"), &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}
