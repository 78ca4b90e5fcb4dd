/* /v1/customers — the debtor: phones with consent, time zone, jurisdiction,
 * contact restrictions. Shape is checked here; value rules are the database's
 * constraints (schema/0001_foundation.sql). */
#include "internal.h"

static const struct json_field phone_fields[] = {
        {"number", JSON_STRING, JSON_REQUIRED, .max = 16},
        {"consent_automated", JSON_BOOL, JSON_REQUIRED},
        {"consent_texts", JSON_BOOL, 0},     /* a separate consent: texts (default false) */
        {"type", JSON_STRING, 0, .max = 10}, /* mobile (default), home, work */
        {0},
};

/* Times the customer says are inconvenient, in their time zone; values are
 * checked by the database (kept.is_inconvenient_times). */
static const struct json_field day_item[] = {
        {"day", JSON_STRING, 0, .max = 3},
        {0},
};

static const struct json_field period_fields[] = {
        {"days", JSON_ARRAY, JSON_REQUIRED, .max = 7, .items = day_item},
        {"from", JSON_STRING, JSON_REQUIRED, .max = 5},
        {"to", JSON_STRING, JSON_REQUIRED, .max = 5},
        {"note", JSON_STRING, 0, .max = 200},
        {0},
};

static const struct json_field period_item[] = {
        {"period", JSON_OBJECT, 0, .members = period_fields},
        {0},
};

static const struct json_field phone_item[] = {
        {"phone", JSON_OBJECT, 0, .members = phone_fields},
        {0},
};

static const struct json_field restriction_fields[] = {
        {"cease_communication", JSON_BOOL, 0},
        {"attorney_represented", JSON_BOOL, 0},
        {"bankruptcy", JSON_BOOL, 0},
        {"dispute_open", JSON_BOOL, 0},
        {"vulnerable", JSON_BOOL, 0},
        {"moratorium_until", JSON_DATE, JSON_NULLABLE},
        {0},
};

#define CUSTOMER_FIELDS(required)                                                                            \
	{"name", JSON_STRING, required, .max = 200}, {"time_zone", JSON_STRING, required, .max = 64},        \
	        {"jurisdiction", JSON_STRING, required, .max = 6}, {"language", JSON_STRING, 0, .max = 35},  \
	        {"phones", JSON_ARRAY, 0, .max = 10, .items = phone_item},                                   \
	        {"inconvenient_times", JSON_ARRAY, 0, .max = 20, .items = period_item},                      \
	        {"date_of_birth", JSON_DATE, JSON_NULLABLE},                                                 \
	        {"postcode", JSON_STRING, JSON_NULLABLE, .max = 12},                                         \
	{                                                                                                    \
		"contact_restrictions", JSON_OBJECT, 0, .members = restriction_fields                        \
	}

static const struct json_field create_spec[] = {
        {"external_ref", JSON_STRING, JSON_REQUIRED, .max = 64},
        CUSTOMER_FIELDS(JSON_REQUIRED),
        {0},
};

/* external_ref is the creditor's key for the customer and never changes;
 * note says why a contact restriction is cleared (a supervisor's, required then). */
static const struct json_field update_spec[] = {
        CUSTOMER_FIELDS(0),
        {"note", JSON_STRING, 0, .max = 2000},
        {0},
};

kept_err api_customers_create(struct api_ctx *ctx, struct kept_error *err)
{
	return api_create(ctx, create_spec, q_customer_create_value, "/v1/customers", err);
}

/* GET /v1/customers?q=: the customer on the telephone, by name, phone digits
 * or reference (sql/functions/32_find.sql): of the customers the caller's
 * team sees, each one answered logged as a read. */
kept_err api_customers_find(struct api_ctx *ctx, struct kept_error *err)
{
	const char *q = http_query(ctx->req, "q"), *page;
	if (!q)
		return kept_fail(err, KEPT_ERR_INVALID, "missing_value", "q",
		                 "q is required: part of a name, a phone number or a reference");
	kept_err r =
	        q_customer_find_value(ctx->db, ctx->arena, API_VIEWER(ctx), q, http_query(ctx->req, "cursor"),
	                              http_query(ctx->req, "limit"), &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}

kept_err api_customers_get(struct api_ctx *ctx, struct kept_error *err)
{
	return api_get(ctx, q_customer_get_value, "customer", err);
}

kept_err api_customers_update(struct api_ctx *ctx, struct kept_error *err)
{
	const char *body, *customer;
	int64_t id;
	int version;
	cJSON *obj;
	kept_err r = api_path_id(ctx, "id", "customer_not_found", &id, err);
	if (!r)
		r = api_if_match(ctx, &version, err);
	if (!r)
		r = api_json_body(ctx, update_spec, &obj, &body, err);
	if (r)
		return r;
	if (!obj->child)
		return kept_fail(err, KEPT_ERR_INVALID, "empty_update", "",
		                 "name at least one field to change");
	r = q_customer_update_value(ctx->db, ctx->arena, API_ACTOR(ctx), id, version, body, &customer, err);
	if (r)
		return r;
	api_reply_ok(ctx, customer);
	return KEPT_OK;
}
