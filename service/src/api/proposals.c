/* /v1/accounts/{id}/proposals — "how much can you afford each week?" */
#include "internal.h"

static const struct json_field propose_spec[] = {
        {"weekly_amount_cents", JSON_INT, JSON_REQUIRED},
        {"first_due_date", JSON_DATE, JSON_REQUIRED},
        {"note", JSON_STRING, 0, .max = 1000},
        {"contact_channel", JSON_STRING, 0, .max = 20},
        {0},
};

kept_err api_proposals_create(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {propose_spec, q_proposal_create_value, "account", 201, NULL};
	return api_write(ctx, &w, err);
}
