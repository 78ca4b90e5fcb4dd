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
	const char *body, *account;
	kept_err r = api_json_body(ctx, create_spec, NULL, &body, err);
	if (r)
		return r;
	const char *params[4];
	api_actor_params(ctx, params);
	params[3] = body;
	r = db_run_json(ctx->db, ctx->arena, SQL_Q_ACCOUNT_CREATE, 4, params, &account, err);
	if (r)
		return r;
	api_reply_created(ctx, "/v1/accounts", account);
	return KEPT_OK;
}

kept_err api_accounts_get(struct api_ctx *ctx, struct kept_error *err)
{
	const char *id, *account;
	kept_err r = api_path_id(ctx, "id", "account_not_found", &id, err);
	if (r)
		return r;
	const char *params[] = {id};
	r = db_run_json(ctx->db, ctx->arena, SQL_Q_ACCOUNT_GET, 1, params, &account, err);
	if (r)
		return r;
	if (!account)
		return kept_fail(err, KEPT_ERR_NOT_FOUND, "account_not_found", "id", "no account with id %s",
		                 id);
	api_reply_ok(ctx, account);
	return KEPT_OK;
}

/* ?customer_id=&external_ref=&cursor=&limit= — validated in SQL (kept.account_page). */
kept_err api_accounts_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *page;
	const char *params[] = {
	        http_query(ctx->req, "customer_id"),
	        http_query(ctx->req, "external_ref"),
	        http_query(ctx->req, "cursor"),
	        http_query(ctx->req, "limit"),
	};
	kept_err r = db_run_json(ctx->db, ctx->arena, SQL_Q_ACCOUNT_PAGE, 4, params, &page, err);
	if (r)
		return r;
	http_reply_json(ctx->req, 200, page);
	return KEPT_OK;
}
