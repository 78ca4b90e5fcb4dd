/* /v1/accounts/{id}/affordability — income and expenditure in the shape of
 * the UK Standard Financial Statement, monthly integer cents. Categories and
 * sums are checked in SQL (sql/functions/60_negotiation.sql). */
#include "internal.h"

static const struct json_field line_fields[] = {
        {"category", JSON_STRING, JSON_REQUIRED, .max = 40},
        {"description", JSON_STRING, 0, .max = 200},
        {"monthly_cents", JSON_INT, JSON_REQUIRED},
        {0},
};

static const struct json_field line_item[] = {{"line", JSON_OBJECT, 0, .members = line_fields}, {0}};

static const struct json_field record_spec[] = {
        {"income", JSON_ARRAY, JSON_REQUIRED, .max = 30, .items = line_item},
        {"fixed_costs", JSON_ARRAY, JSON_REQUIRED, .max = 30, .items = line_item},
        {"flexible_costs", JSON_ARRAY, JSON_REQUIRED, .max = 30, .items = line_item},
        {0},
};

kept_err api_affordability_record(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {record_spec, q_affordability_record_value, "account", 201, NULL};
	return api_write(ctx, &w, err);
}

kept_err api_affordability_latest(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, q_affordability_latest_value, "affordability", err);
}
