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
	return api_create(ctx, create_spec, SQL_Q_ACCOUNT_CREATE, "/v1/accounts", err);
}

kept_err api_accounts_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, SQL_Q_ACCOUNT_GET, "account", err);
}

/* ?customer_id=&external_ref=&cursor=&limit= — validated in SQL (kept.account_page),
 * which shows the caller's team's accounts only and logs whose they were. */
kept_err api_accounts_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *page;
	const char *params[7];
	api_viewer_params(ctx, params);
	params[3] = http_query(ctx->req, "customer_id");
	params[4] = http_query(ctx->req, "external_ref");
	params[5] = http_query(ctx->req, "cursor");
	params[6] = http_query(ctx->req, "limit");
	kept_err r = db_run_json(ctx->db, ctx->arena, SQL_Q_ACCOUNT_PAGE, 7, params, &page, err);
	if (r)
		return r;
	http_reply_json(ctx->req, 200, page);
	return KEPT_OK;
}

/* GET /v1/accounts/{id}/overview: the account on one screen (sql/functions/85_overview.sql). */
kept_err api_accounts_overview(struct api_ctx *ctx, struct kept_error *err)
{
	const char *id, *doc;
	kept_err r = api_path_id(ctx, "id", "account_not_found", &id, err);
	const char *params[] = {id};
	if (!r)
		r = db_run_json(ctx->db, ctx->arena, SQL_Q_ACCOUNT_OVERVIEW, 1, params, &doc, err);
	if (!r)
		http_reply_json(ctx->req, 200, doc);
	return r;
}
