/* /v1/reviews — supervisors look at out-of-policy decisions after the fact. */
#include "internal.h"

static const struct json_field decide_spec[] = {
        {"decision", JSON_STRING, JSON_REQUIRED, .max = 16},
        {"note", JSON_STRING, 0, .max = 2000},
        {0},
};

/* ?status=open|upheld|corrected|all&cursor=&limit= — validated in SQL, which
 * shows the caller's team's reviews only (a reviewer reads every one of them;
 * anyone else those of the plans their user made or approved) and logs whose
 * they were. */
kept_err api_reviews_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *page;
	const char *params[6];
	api_viewer_params(ctx, params);
	params[3] = http_query(ctx->req, "status");
	params[4] = http_query(ctx->req, "cursor");
	params[5] = http_query(ctx->req, "limit");
	kept_err r = db_run_json(ctx->db, ctx->arena, SQL_Q_REVIEW_PAGE, 6, params, &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}

kept_err api_reviews_get(struct api_ctx *ctx, struct kept_error *err)
{
	const char *id, *review;
	kept_err r = api_path_id(ctx, "id", "review_not_found", &id, err);
	const char *params[] = {id, ctx->who.actor.key_id[0] ? ctx->who.actor.key_id : NULL};
	if (!r)
		r = db_run_json(ctx->db, ctx->arena, SQL_Q_REVIEW_GET, 2, params, &review, err);
	if (!r)
		api_reply_ok(ctx, review);
	return r;
}

kept_err api_reviews_decide(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {decide_spec, SQL_Q_REVIEW_DECIDE, "review", 200, NULL};
	return api_write(ctx, &w, err);
}
