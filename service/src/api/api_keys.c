/* /v1/api-keys — admin only: create (the key is made here and shown once) and
 * revoke (a write with no body, the one route of that shape). The list is a
 * plain row of routes.c. */
#include "internal.h"

kept_err api_keys_create(struct api_ctx *ctx, struct kept_error *err)
{
	const char *normalized, *key, *record;
	kept_err r = api_json_body(ctx, ctx->route->spec, NULL, &normalized, err);
	if (!r)
		r = auth_key_create(ctx->db, ctx->arena, &ctx->who.actor, normalized, &key, &record, err);
	if (r)
		return r;
	cJSON *doc = cJSON_Parse(record);
	cJSON_AddStringToObject(doc, "key", key);
	char *text = doc ? json_print(ctx->arena, doc) : NULL;
	cJSON_Delete(doc);
	if (!text)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	api_reply_created(ctx, "/v1/api-keys", text);
	return KEPT_OK;
}

kept_err api_keys_revoke(struct api_ctx *ctx, struct kept_error *err)
{
	const char *record;
	int64_t id;
	kept_err r = api_path_id(ctx, "id", "api_key_not_found", &id, err);
	if (r)
		return r;
	r = q_api_key_revoke_value(ctx->db, ctx->arena, API_ACTOR(ctx), id, &record, err);
	if (r)
		return r;
	api_reply_ok(ctx, record);
	return KEPT_OK;
}
