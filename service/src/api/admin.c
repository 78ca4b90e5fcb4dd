/* /v1/admin/... — admins run a background job by hand at a given as_of, and
 * set keptd's clock when it runs in simulated time. */
#include <stdio.h>

#include "adherence/adherence.h"
#include "clock/clock.h"
#include "internal.h"
#include "reminders/reminders.h"
#include "texts/texts.h"

/* POST /v1/admin/evaluate {"as_of": "..."} — waits for a running evaluation. */
kept_err api_admin_evaluate(struct api_ctx *ctx, struct kept_error *err)
{
	cJSON *body;
	const char *normalized;
	struct adherence_result res;
	kept_err r = api_json_body(ctx, ctx->route->spec, &body, &normalized, err);
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

/* POST /v1/admin/reminders {"as_of": "..."} — one scheduler pass, then dials
 * what is due, then sends the texts that are due. */
kept_err api_admin_reminders(struct api_ctx *ctx, struct kept_error *err)
{
	cJSON *body;
	const char *normalized, *json = NULL;
	struct texts_result texts;
	kept_err r = api_json_body(ctx, ctx->route->spec, &body, &normalized, err);
	if (!r)
		r = reminders_run(ctx->db, ctx->arena, json_get_string(body, "as_of"), &json, err);
	if (!r)
		r = texts_send_due(ctx->db, ctx->arena, NULL, &texts, err);
	if (r)
		return r;
	json = texts_add_to(ctx->arena, json, &texts);
	if (!json)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	http_reply_json(ctx->req, 200, json);
	return KEPT_OK;
}

/* ---- the clock ------------------------------------------------------------------ */

static void reply_clock(struct api_ctx *ctx)
{
	char now[40];
	int64_t us = clock_now_us();
	clock_format_us(us, now, sizeof now);
	const char *json = arena_sprintf(
	        ctx->arena, "{\"mode\":\"%s\",\"now\":\"%s\",\"offset_seconds\":%.6f}",
	        clock_is_simulated() ? "simulated" : "wall", now, (double)clock_offset_us(NULL) / 1e6);
	if (json)
		http_reply_json(ctx->req, 200, json);
	else
		http_reply_json(ctx->req, 500,
		                "{\"error\":{\"code\":\"no_memory\",\"message\":\"out of memory\"}}");
}

/* GET /v1/admin/clock — keptd's clock: the time every rule and record reads. */
kept_err api_admin_clock_get(struct api_ctx *ctx, struct kept_error *err)
{
	(void)err;
	reply_clock(ctx);
	return KEPT_OK;
}

/* PUT /v1/admin/clock {"now": "2026-03-08T13:00:00Z"} (or null: the wall
 * clock again) — simulated time only; from then on the clock flows from
 * there. Audited. */
kept_err api_admin_clock_set(struct api_ctx *ctx, struct kept_error *err)
{
	cJSON *body;
	const char *normalized;
	kept_err r = api_json_body(ctx, ctx->route->spec, &body, &normalized, err);
	if (r)
		return r;
	if (!clock_is_simulated())
		return kept_fail(
		        err, KEPT_ERR_CONFLICT, "clock_not_simulated", "now",
		        "keptd runs on the wall clock (KEPT_CLOCK=wall); only a simulated clock can be set");
	const char *now = json_get_string(body, "now");
	int64_t us = 0;
	if (now && !clock_parse_rfc3339(now, &us))
		return kept_fail(
		        err, KEPT_ERR_INVALID, "invalid_now", "now",
		        "now must be an RFC 3339 time like 2026-03-08T13:00:00Z, or null for the wall clock");
	char before[40], after[40];
	clock_format_us(clock_now_us(), before, sizeof before);
	clock_format_us(now ? us : clock_now_us() - clock_offset_us(NULL), after, sizeof after);
	r = q_clock_audit(ctx->db, ctx->arena, API_ACTOR(ctx), before, after, NULL, err);
	if (r)
		return r;
	if (now)
		clock_set_us(us);
	else
		clock_reset();
	reply_clock(ctx);
	return KEPT_OK;
}
