/* /v1/users, /v1/creditors, /v1/access-log — admin only: the people who use
 * kept (their keys hang off them), the teams that own creditors, and who
 * read whose personal data (sql/functions/19_users.sql). */
#include "internal.h"

static const struct json_field role_item[] = {
        {"role", JSON_STRING, 0, .max = 16},
        {0},
};

#define USER_FIELDS(required)                                                                                \
	{"name", JSON_STRING, required, .max = 200}, {"email", JSON_STRING, JSON_NULLABLE, .max = 254},      \
	        {"team", JSON_STRING, 0, .max = 64},                                                         \
	        {"roles", JSON_ARRAY, required, .max = 4, .items = role_item},                               \
	{                                                                                                    \
		"active", JSON_BOOL, 0                                                                       \
	}

static const struct json_field create_spec[] = {
        USER_FIELDS(JSON_REQUIRED),
        {0},
};

static const struct json_field update_spec[] = {
        USER_FIELDS(0),
        {0},
};

static const struct json_field creditor_spec[] = {
        {"name", JSON_STRING, JSON_REQUIRED, .max = 200},
        {"team", JSON_STRING, JSON_REQUIRED, .max = 64},
        {0},
};

kept_err api_users_create(struct api_ctx *ctx, struct kept_error *err)
{
	return api_create(ctx, create_spec, q_user_create_value, "/v1/users", err);
}

kept_err api_users_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, q_user_get_value, "user", err);
}

/* ?team=&cursor=&limit= */
kept_err api_users_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *page = NULL;
	kept_err r =
	        q_user_page_value(ctx->db, ctx->arena, http_query(ctx->req, "team"),
	                          http_query(ctx->req, "cursor"), http_query(ctx->req, "limit"), &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}

kept_err api_users_update(struct api_ctx *ctx, struct kept_error *err)
{
	const char *body, *user;
	int64_t id;
	int version;
	cJSON *obj;
	kept_err r = api_path_id(ctx, "id", "user_not_found", &id, err);
	if (!r)
		r = api_if_match(ctx, &version, err);
	if (!r)
		r = api_json_body(ctx, update_spec, &obj, &body, err);
	if (r)
		return r;
	if (!obj->child)
		return kept_fail(err, KEPT_ERR_INVALID, "empty_update", "",
		                 "name at least one field to change");
	r = q_user_update_value(ctx->db, ctx->arena, API_ACTOR(ctx), id, version, body, &user, err);
	if (!r)
		api_reply_ok(ctx, user);
	return r;
}

kept_err api_creditors_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *list = NULL;
	kept_err r = q_creditor_list_value(ctx->db, ctx->arena, &list, err);
	if (!r)
		http_reply_json(ctx->req, 200, list);
	return r;
}

kept_err api_creditors_put(struct api_ctx *ctx, struct kept_error *err)
{
	return api_create_with(ctx, creditor_spec, q_creditor_put_value, 200, NULL, err);
}

/* ?customer_id=&user_id=&from=&to=&cursor=&limit= — newest first. */
kept_err api_access_log(struct api_ctx *ctx, struct kept_error *err)
{
	static const char *const filters[] = {"customer_id", "user_id", "from", "to", "cursor", "limit"};
	const char *f[6], *page = NULL;
	for (size_t i = 0; i < 6; i++)
		f[i] = http_query(ctx->req, filters[i]);
	kept_err r = q_access_page_value(ctx->db, ctx->arena, f[0], f[1], f[2], f[3], f[4], f[5], &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}
