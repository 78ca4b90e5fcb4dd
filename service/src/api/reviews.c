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
	kept_err r = q_review_page_value(ctx->db, ctx->arena, API_VIEWER(ctx), http_query(ctx->req, "status"),
	                                 http_query(ctx->req, "cursor"), http_query(ctx->req, "limit"), &page,
	                                 err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}

kept_err api_reviews_get(struct api_ctx *ctx, struct kept_error *err)
{
	const char *review;
	int64_t id;
	kept_err r = api_path_id(ctx, "id", "review_not_found", &id, err);
	if (!r)
		r = q_review_get_value(ctx->db, ctx->arena, id, api_viewer_key(ctx), &review, err);
	if (!r)
		api_reply_ok(ctx, review);
	return r;
}

kept_err api_reviews_decide(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {decide_spec, q_review_decide_value, "review", 200, NULL};
	return api_write(ctx, &w, err);
}
