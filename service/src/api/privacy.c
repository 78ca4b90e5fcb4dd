/* PUT /v1/retention-policies/{jurisdiction} — admin only: how long each
 * jurisdiction's records are kept (sql/functions/35_privacy.sql). A C handler
 * because its path names a jurisdiction, not an id; erasure and the list are
 * plain rows of routes.c. */
#include "internal.h"

kept_err api_retention_put(struct api_ctx *ctx, struct kept_error *err)
{
	const char *body = NULL, *policy = NULL;
	kept_err r = api_json_body(ctx, ctx->route->spec, NULL, &body, err);
	if (r)
		return r;
	r = q_retention_put_value(ctx->db, ctx->arena, API_ACTOR(ctx),
	                          route_param(&ctx->params, "jurisdiction"), body, &policy, err);
	if (!r)
		api_reply_ok(ctx, policy);
	return r;
}
