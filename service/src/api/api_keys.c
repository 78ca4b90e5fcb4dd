/* /v1/api-keys — admin only: create (the key is shown once), list, revoke.
 * A key belongs to a user: {user_id, role?, name?, expires_at?}, or
 * {name, role} as before users (the user of that name; see kept.api_key_create). */
#include "internal.h"

static const struct json_field create_spec[] = {
        {"user_id", JSON_INT, 0, .min = 1, .max_int = JSON_INT_MAX},
        {"name", JSON_STRING, 0, .max = 200},
        {"role", JSON_STRING, 0, .max = 16},
        {"expires_at", JSON_STRING, 0, .max = 40},
        {0},
};

kept_err api_keys_create(struct api_ctx *ctx, struct kept_error *err)
{
	const char *normalized, *key, *record;
	kept_err r = api_json_body(ctx, create_spec, NULL, &normalized, err);
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

kept_err api_keys_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *items;
	kept_err r = q_api_key_list_value(ctx->db, ctx->arena, &items, err);
	if (r)
		return r;
	const char *page = arena_sprintf(ctx->arena, "{\"items\":%s}", items ? items : "[]");
	if (!page)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	http_reply_json(ctx->req, 200, page);
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
