/* /v1/api-keys — admin only: create (the key is shown once), list, revoke. */
#include "internal.h"

static const struct json_field create_spec[] = {
        {"name", JSON_STRING, JSON_REQUIRED, .max = 200},
        {"role", JSON_STRING, JSON_REQUIRED, .max = 16},
        {0},
};

kept_err api_keys_create(struct api_ctx *ctx, struct kept_error *err)
{
	cJSON *body;
	const char *normalized, *key, *record;
	kept_err r = api_json_body(ctx, create_spec, &body, &normalized, err);
	if (r)
		return r;
	enum auth_role role;
	if (!auth_role_parse(json_get_string(body, "role"), &role))
		return kept_fail(err, KEPT_ERR_INVALID, "invalid_role", "role",
		                 "role must be agent, supervisor, finance or admin");
	r = auth_key_create(ctx->db, ctx->arena, &ctx->who.actor, auth_role_name(role),
	                    json_get_string(body, "name"), &key, &record, err);
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
	kept_err r = db_run_json(ctx->db, ctx->arena, SQL_Q_API_KEY_LIST, 0, NULL, &items, err);
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
	const char *id, *record;
	kept_err r = api_path_id(ctx, "id", "api_key_not_found", &id, err);
	if (r)
		return r;
	const char *params[4];
	api_actor_params(ctx, params);
	params[3] = id;
	r = db_run_json(ctx->db, ctx->arena, SQL_Q_API_KEY_REVOKE, 4, params, &record, err);
	if (r)
		return r;
	api_reply_ok(ctx, record);
	return KEPT_OK;
}
