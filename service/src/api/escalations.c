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
	return api_create(ctx, open_spec, SQL_Q_ESCALATION_OPEN, "/v1/escalations", err);
}

kept_err api_escalations_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, SQL_Q_ESCALATION_GET, "escalation", err);
}

/* ?status=&reason=&team=&assigned_to=&account_id=&overdue=&cursor=&limit= — checked in SQL,
 * which shows the caller's team's escalations only and logs whose they were. */
kept_err api_escalations_list(struct api_ctx *ctx, struct kept_error *err)
{
	static const char *const filters[] = {"status",     "reason",  "team",   "assigned_to",
	                                      "account_id", "overdue", "cursor", "limit"};
	const char *params[11], *page = NULL;
	api_viewer_params(ctx, params);
	for (size_t i = 0; i < 8; i++)
		params[3 + i] = http_query(ctx->req, filters[i]);
	kept_err r = db_run_json(ctx->db, ctx->arena, SQL_Q_ESCALATION_PAGE, 11, params, &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}

kept_err api_escalations_assign(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {assign_spec, SQL_Q_ESCALATION_ASSIGN, "escalation", 200, NULL};
	return api_write(ctx, &w, err);
}

kept_err api_escalations_resolve(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {resolve_spec, SQL_Q_ESCALATION_RESOLVE, "escalation", 200, NULL};
	return api_write(ctx, &w, err);
}
