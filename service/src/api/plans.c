/* POST /v1/accounts/{id}/plans — the one rule on a plan's body that its spec
 * cannot say. The rules of plans themselves are in SQL
 * (sql/functions/61_plans.sql); the routes are plain rows of routes.c. */
#include "internal.h"

/* From a proposal, or from the agent's amount and first date: one or the
 * other; imported history is for admins. */
kept_err api_plans_terms(struct api_ctx *ctx, const cJSON *body, struct kept_error *err)
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
