/* /v1/admin/... — admins run a background job by hand at a given as_of. */
#include "adherence/adherence.h"
#include "internal.h"
#include "reminders/reminders.h"

static const struct json_field evaluate_spec[] = {
        {"as_of", JSON_STRING, 0, .max = 40},
        {0},
};

/* POST /v1/admin/evaluate {"as_of": "..."} — waits for a running evaluation. */
kept_err api_admin_evaluate(struct api_ctx *ctx, struct kept_error *err)
{
	cJSON *body;
	const char *normalized;
	struct adherence_result res;
	kept_err r = api_json_body(ctx, evaluate_spec, &body, &normalized, err);
	if (!r)
		r = adherence_evaluate(ctx->db, ctx->arena, json_get_string(body, "as_of"), true, &res, err);
	if (r)
		return r;
	const char *json = adherence_result_json(ctx->arena, &res);
	if (!json)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	http_reply_json(ctx->req, 200, json);
	return KEPT_OK;
}

/* POST /v1/admin/reminders {"as_of": "..."} — one scheduler pass, then dials what is due. */
kept_err api_admin_reminders(struct api_ctx *ctx, struct kept_error *err)
{
	cJSON *body;
	const char *normalized, *json = NULL;
	kept_err r = api_json_body(ctx, evaluate_spec, &body, &normalized, err);
	if (!r)
		r = reminders_run(ctx->db, ctx->arena, json_get_string(body, "as_of"), &json, err);
	if (r)
		return r;
	http_reply_json(ctx->req, 200, json);
	return KEPT_OK;
}
