/* /v1/accounts/{id}/settlement-offers, /v1/settlement-offers/{id}/accept —
 * "what do you think would be fair?" */
#include "internal.h"

static const struct json_field offer_spec[] = {
        {"offer_cents", JSON_INT, JSON_REQUIRED},
        {"note", JSON_STRING, 0, .max = 1000},
        {"contact_channel", JSON_STRING, 0, .max = 20},
        {0},
};

static const struct json_field accept_spec[] = {
        {"amount_cents", JSON_INT, 0},
        {"installments", JSON_INT, 0},
        {"first_due_date", JSON_DATE, JSON_REQUIRED},
        {"replaces_plan_id", JSON_INT, 0},
        {"contact_channel", JSON_STRING, 0, .max = 20},
        {"reminder_consent", JSON_BOOL, 0},
        {0},
};

kept_err api_settlements_offer(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {offer_spec, q_settlement_offer_create_value, "account", 201, NULL};
	return api_write(ctx, &w, err);
}

kept_err api_settlements_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, q_settlement_offer_get_value, "settlement_offer", err);
}

/* Answers the plan the settlement became. */
kept_err api_settlements_accept(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {accept_spec, q_settlement_accept_value, "settlement_offer", 201,
	                                   "/v1/plans"};
	return api_write(ctx, &w, err);
}
