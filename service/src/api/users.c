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
	return api_create(ctx, create_spec, SQL_Q_USER_CREATE, "/v1/users", err);
}

kept_err api_users_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, SQL_Q_USER_GET, "user", err);
}

/* ?team=&cursor=&limit= */
kept_err api_users_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *page = NULL;
	const char *params[] = {http_query(ctx->req, "team"), http_query(ctx->req, "cursor"),
	                        http_query(ctx->req, "limit")};
	kept_err r = db_run_json(ctx->db, ctx->arena, SQL_Q_USER_PAGE, 3, params, &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}

kept_err api_users_update(struct api_ctx *ctx, struct kept_error *err)
{
	const char *id, *version, *body, *user;
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
	const char *params[6];
	api_actor_params(ctx, params);
	params[3] = id;
	params[4] = version;
	params[5] = body;
	r = db_run_json(ctx->db, ctx->arena, SQL_Q_USER_UPDATE, 6, params, &user, err);
	if (!r)
		api_reply_ok(ctx, user);
	return r;
}

kept_err api_creditors_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *list = NULL;
	kept_err r = db_run_json(ctx->db, ctx->arena, SQL_Q_CREDITOR_LIST, 0, NULL, &list, err);
	if (!r)
		http_reply_json(ctx->req, 200, list);
	return r;
}

kept_err api_creditors_put(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {creditor_spec, SQL_Q_CREDITOR_PUT, NULL, 200, NULL};
	return api_write(ctx, &w, err);
}

/* ?customer_id=&user_id=&from=&to=&cursor=&limit= — newest first. */
kept_err api_access_log(struct api_ctx *ctx, struct kept_error *err)
{
	static const char *const filters[] = {"customer_id", "user_id", "from", "to", "cursor", "limit"};
	const char *params[6], *page = NULL;
	for (size_t i = 0; i < 6; i++)
		params[i] = http_query(ctx->req, filters[i]);
	kept_err r = db_run_json(ctx->db, ctx->arena, SQL_Q_ACCESS_PAGE, 6, params, &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}
