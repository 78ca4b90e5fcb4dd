/* /v1/accounts/{id}/plans, /v1/plans/{id} — weekly commitments, their
 * two-associate approval and cancellation. The rules are in SQL
 * (sql/functions/61_plans.sql); here: the body's shape, and that imported
 * history is for admins. */
#include "internal.h"

/* contact_channel: how the agent and the customer agreed it (default phone:
 * a telephone conversation for Reg F); reminder_consent: the customer's
 * direct consent to a reminder within seven days (12 CFR 1006.14(b)(3)(i)). */
static const struct json_field create_spec[] = {
        {"proposal_id", JSON_INT, 0},       {"weekly_amount_cents", JSON_INT, 0},
        {"first_due_date", JSON_DATE, 0},   {"replaces_plan_id", JSON_INT, 0},
        {"imported", JSON_BOOL, 0},         {"contact_channel", JSON_STRING, 0, .max = 20},
        {"reminder_consent", JSON_BOOL, 0}, {0},
};

static const struct json_field approve_spec[] = {
        {"note", JSON_STRING, 0, .max = 1000},
        {0},
};

static const struct json_field cancel_spec[] = {
        {"reason", JSON_STRING, JSON_REQUIRED, .max = 1000},
        {0},
};

/* From a proposal, or from the agent's amount and first date: one or the other. */
static kept_err check_terms(struct api_ctx *ctx, const cJSON *body, struct kept_error *err)
{
	bool proposal = json_has(body, "proposal_id");
	bool weekly = json_has(body, "weekly_amount_cents"), first = json_has(body, "first_due_date");
	bool imported = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "imported"));
	if (proposal && (weekly || first))
		return kept_fail(err, KEPT_ERR_INVALID, "conflicting_fields", "proposal_id",
		                 "give proposal_id, or weekly_amount_cents and first_due_date, not both");
	if (!proposal && !(weekly && first))
		return kept_fail(err, KEPT_ERR_INVALID, "missing_field",
		                 weekly ? "first_due_date" : "weekly_amount_cents",
		                 "give proposal_id, or weekly_amount_cents and first_due_date");
	if (imported && proposal)
		return kept_fail(err, KEPT_ERR_INVALID, "conflicting_fields", "imported",
		                 "an imported plan brings history from another system, not a proposal");
	if (imported && !(ctx->who.roles & AUTH_ADMIN))
		return kept_fail(err, KEPT_ERR_FORBIDDEN, "imported_plan_admin_only", "imported",
		                 "only an admin may bring in a plan that started in the past");
	return KEPT_OK;
}

kept_err api_plans_create(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {create_spec, q_plan_create_value, "account", 201, "/v1/plans"};
	cJSON *body;
	const char *normalized;
	kept_err r = api_json_body(ctx, create_spec, &body, &normalized, err);
	if (!r)
		r = check_terms(ctx, body, err);
	return r ? r : api_write(ctx, &w, err);
}

kept_err api_plans_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, q_plan_get_value, "plan", err);
}

kept_err api_plans_of_account(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, q_plans_of_account_value, "account", err);
}

kept_err api_plans_approve(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {approve_spec, q_plan_approve_value, "plan", 200, NULL};
	return api_write(ctx, &w, err);
}

kept_err api_plans_cancel(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {cancel_spec, q_plan_cancel_value, "plan", 200, NULL};
	return api_write(ctx, &w, err);
}
