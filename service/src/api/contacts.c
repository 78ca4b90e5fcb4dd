/* /v1/accounts/{id}/contacts — contacts from every channel: an agent's call,
 * a customer's call in, a letter, an email. The contact rules read them
 * (sql/functions/82_contacts.sql); values are checked there. */
#include "internal.h"

static const struct json_field log_spec[] = {
        {"channel", JSON_STRING, JSON_REQUIRED, .max = 20},
        {"direction", JSON_STRING, JSON_REQUIRED, .max = 20},
        {"outcome", JSON_STRING, JSON_REQUIRED, .max = 20},
        {"number", JSON_STRING, 0, .max = 16},
        {"occurred_at", JSON_STRING, 0, .max = 40},
        {"note", JSON_STRING, 0, .max = 2000},
        {0},
};

kept_err api_contacts_log(struct api_ctx *ctx, struct kept_error *err)
{
	static const struct api_write w = {log_spec, q_contact_log_value, "account", 201, NULL};
	return api_write(ctx, &w, err);
}

/* ?cursor=&limit= */
kept_err api_contacts_of_account(struct api_ctx *ctx, struct kept_error *err)
{
	const char *page = NULL;
	int64_t id;
	kept_err r = api_path_id(ctx, "id", "account_not_found", &id, err);
	if (r)
		return r;
	r = q_contact_page_value(ctx->db, ctx->arena, id, http_query(ctx->req, "cursor"),
	                         http_query(ctx->req, "limit"), &page, err);
	if (!r)
		http_reply_json(ctx->req, 200, page);
	return r;
}
