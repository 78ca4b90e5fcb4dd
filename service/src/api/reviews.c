/* /v1/reviews — supervisors look at out-of-policy decisions after the fact. */
#include "internal.h"

static const struct json_field decide_spec[] = {
        {"decision", JSON_STRING, JSON_REQUIRED, .max = 16},
        {"note", JSON_STRING, 0, .max = 2000},
        {0},
};

static const char *key_id(struct api_ctx *ctx)
{
	return arena_sprintf(ctx->arena, "%lld", ctx->who.key_id);
}

/* ?status=open|upheld|corrected|all&cursor=&limit= — validated in SQL. A
 * reviewer reads every review; anyone else those of their own plans. */
kept_err api_reviews_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *page;
	const char *params[] = {http_query(ctx->req, "status"), http_query(ctx->req, "cursor"),
	                        http_query(ctx->req, "limit"), key_id(ctx), auth_role_name(ctx->who.role)};
	kept_err r = db_run_json(ctx->db, ctx->arena, SQL_Q_REVIEW_PAGE, 5, params, &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}

kept_err api_reviews_get(struct api_ctx *ctx, struct kept_error *err)
{
	const char *id, *review;
	kept_err r = api_path_id(ctx, "id", "review_not_found", &id, err);
	const char *params[] = {id, key_id(ctx), auth_role_name(ctx->who.role)};
	if (!r)
		r = db_run_json(ctx->db, ctx->arena, SQL_Q_REVIEW_GET, 3, params, &review, err);
	if (!r)
		api_reply_ok(ctx, review);
	return r;
}

kept_err api_reviews_decide(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {decide_spec, SQL_Q_REVIEW_DECIDE, "review", 200, NULL};
	return api_write(ctx, &w, err);
}
