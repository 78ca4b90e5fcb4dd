/* /v1/escalations — the skilled queue: by priority, then due-by. */
#include "internal.h"

static const struct json_field open_spec[] = {
        {"account_id", JSON_INT, JSON_REQUIRED},
        {"reason", JSON_STRING, JSON_REQUIRED, .max = 40},
        {"note", JSON_STRING, 0, .max = 2000},
        {"priority", JSON_INT, 0},
        {"plan_id", JSON_INT, 0},
        {0},
};

static const struct json_field assign_spec[] = {
        {"assignee_key_id", JSON_INT, 0},
        {0},
};

static const struct json_field resolve_spec[] = {
        {"note", JSON_STRING, JSON_REQUIRED, .max = 2000},
        {0},
};

kept_err api_escalations_open(struct api_ctx *ctx, struct kept_error *err)
{
	return api_create(ctx, open_spec, q_escalation_open_value, "/v1/escalations", err);
}

kept_err api_escalations_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, q_escalation_get_value, "escalation", err);
}

/* ?status=&reason=&team=&assigned_to=&account_id=&overdue=&cursor=&limit= — checked in SQL,
 * which shows the caller's team's escalations only and logs whose they were. */
kept_err api_escalations_list(struct api_ctx *ctx, struct kept_error *err)
{
	static const char *const filters[] = {"status",     "reason",  "team",   "assigned_to",
	                                      "account_id", "overdue", "cursor", "limit"};
	const char *f[8], *page = NULL;
	for (size_t i = 0; i < 8; i++)
		f[i] = http_query(ctx->req, filters[i]);
	kept_err r = q_escalation_page_value(ctx->db, ctx->arena, API_VIEWER(ctx), f[0], f[1], f[2], f[3],
	                                     f[4], f[5], f[6], f[7], &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}

kept_err api_escalations_assign(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {assign_spec, q_escalation_assign_value, "escalation", 200, NULL};
	return api_write(ctx, &w, err);
}

kept_err api_escalations_resolve(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {resolve_spec, q_escalation_resolve_value, "escalation", 200, NULL};
	return api_write(ctx, &w, err);
}
