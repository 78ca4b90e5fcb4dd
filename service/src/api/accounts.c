/* /v1/accounts — one debt each: balances in integer cents with a currency. */
#include "internal.h"

static const struct json_field create_spec[] = {
        {"customer_id", JSON_INT, JSON_REQUIRED},
        {"external_ref", JSON_STRING, JSON_REQUIRED, .max = 64},
        {"creditor", JSON_STRING, JSON_REQUIRED, .max = 200},
        {"original_balance_cents", JSON_INT, JSON_REQUIRED},
        {"balance_cents", JSON_INT, 0},
        {"currency", JSON_STRING, JSON_REQUIRED, .max = 3},
        {"placed_on", JSON_DATE, 0},
        {0},
};

kept_err api_accounts_create(struct api_ctx *ctx, struct kept_error *err)
{
	return api_create(ctx, create_spec, q_account_create_value, "/v1/accounts", err);
}

kept_err api_accounts_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, q_account_get_value, "account", err);
}

/* ?customer_id=&external_ref=&cursor=&limit= — validated in SQL (kept.account_page),
 * which shows the caller's team's accounts only and logs whose they were. */
kept_err api_accounts_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *page;
	kept_err r = q_account_page_value(
	        ctx->db, ctx->arena, API_VIEWER(ctx), http_query(ctx->req, "customer_id"),
	        http_query(ctx->req, "external_ref"), http_query(ctx->req, "cursor"),
	        http_query(ctx->req, "limit"), &page, err);
	if (r)
		return r;
	http_reply_json(ctx->req, 200, page);
	return KEPT_OK;
}

/* GET /v1/accounts/{id}/overview: the account on one screen (sql/functions/85_overview.sql). */
kept_err api_accounts_overview(struct api_ctx *ctx, struct kept_error *err)
{
	const char *doc;
	int64_t id;
	kept_err r = api_path_id(ctx, "id", "account_not_found", &id, err);
	if (!r)
		r = q_account_overview_value(ctx->db, ctx->arena, id, &doc, err);
	if (!r)
		http_reply_json(ctx->req, 200, doc);
	return r;
}
