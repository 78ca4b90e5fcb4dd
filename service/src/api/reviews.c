/* GET /v1/reviews/{id} — a C handler because who may read a review depends on
 * the viewer (a reviewer every one of their team's; anyone else those of the
 * plans their user made or approved: kept.review_get). The list and the
 * decision are plain rows of routes.c. */
#include "internal.h"

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
