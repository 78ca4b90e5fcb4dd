/* /v1/policies — admin: the default policy and per-creditor ones. */
#include "internal.h"

#define POLICY_SETTINGS(required)                                                                            \
	{"max_weeks", JSON_INT, required}, {"grace_days", JSON_INT, required},                               \
	        {"kept_threshold_percent", JSON_INT, required}, {"breaks_after_misses", JSON_INT, required}, \
	        {"min_settlement_percent", JSON_INT, required},                                              \
	{                                                                                                    \
		"reminder_lead_days", JSON_INT, required                                                     \
	}

/* The reminder settings: left out of a PUT they stay as they are. */
#define REMINDER_SETTINGS                                                                                    \
	{"min_call_gap_minutes", JSON_INT, 0},                                                               \
	{                                                                                                    \
		"failed_calls_before_triage", JSON_INT, 0                                                    \
	}

static const struct json_field create_spec[] = {
        {"creditor", JSON_STRING, JSON_REQUIRED, .max = 200},
        POLICY_SETTINGS(0),
        REMINDER_SETTINGS,
        {0},
};

/* PUT replaces every setting. */
static const struct json_field replace_spec[] = {
        POLICY_SETTINGS(JSON_REQUIRED),
        REMINDER_SETTINGS,
        {0},
};

kept_err api_policies_list(struct api_ctx *ctx, struct kept_error *err)
{
	const char *list;
	kept_err r = q_policy_list_value(ctx->db, ctx->arena, &list, err);
	if (!r)
		http_reply_json(ctx->req, 200, list);
	return r;
}

kept_err api_policies_create(struct api_ctx *ctx, struct kept_error *err)
{
	return api_create(ctx, create_spec, q_policy_create_value, "/v1/policies", err);
}

kept_err api_policies_replace(struct api_ctx *ctx, struct kept_error *err)
{
	const char *body = NULL, *policy = NULL;
	int64_t id;
	int version;
	kept_err r = api_path_id(ctx, "id", "policy_not_found", &id, err);
	if (!r)
		r = api_if_match(ctx, &version, err);
	if (!r)
		r = api_json_body(ctx, replace_spec, NULL, &body, err);
	if (r)
		return r;
	r = q_policy_replace_value(ctx->db, ctx->arena, API_ACTOR(ctx), id, version, body, &policy, err);
	if (!r)
		api_reply_ok(ctx, policy);
	return r;
}
