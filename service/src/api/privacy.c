/* POST /v1/customers/{id}/erasure and /v1/retention-policies — admin only:
 * erasing a customer whose retention period has passed, and how long each
 * jurisdiction's records are kept (sql/functions/35_privacy.sql). */
#include "internal.h"

static const struct json_field erasure_spec[] = {
        {"reason", JSON_STRING, 0, .max = 500},
        {0},
};

static const struct json_field retention_spec[] = {
        {"retain_days", JSON_INT, JSON_REQUIRED, .min = 0, .max_int = 3650},
        {"citation", JSON_STRING, JSON_REQUIRED, .max = 500},
        {0},
};

kept_err api_customers_erase(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {erasure_spec, q_customer_erase_value, "customer", 200, NULL};
	return api_write(ctx, &w, err);
}

kept_err api_retention_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *list = NULL;
	kept_err r = q_retention_list_value(ctx->db, ctx->arena, &list, err);
	if (!r)
		http_reply_json(ctx->req, 200, list);
	return r;
}

kept_err api_retention_put(struct api_ctx *ctx, struct kept_error *err)
{
	const char *body = NULL, *policy = NULL;
	kept_err r = api_json_body(ctx, retention_spec, NULL, &body, err);
	if (r)
		return r;
	r = q_retention_put_value(ctx->db, ctx->arena, API_ACTOR(ctx),
	                          route_param(&ctx->params, "jurisdiction"), body, &policy, err);
	if (!r)
		api_reply_ok(ctx, policy);
	return r;
}
