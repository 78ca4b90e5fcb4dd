/*
 * /telephony/... — the provider's webhooks (call script and call progress,
 * texts in and their progress). A webhook is believed only with a valid
 * X-Twilio-Signature over KEPT_PUBLIC_URL + the path and the form body;
 * anything else is 403 and changes nothing.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "form/form.h"
#include "internal.h"
#include "lang/lang.h"
#include "provider/provider.h"
#include "script/script.h"
#include "sms/sms.h"

/* The signed form body of a webhook; 403 unless the signature is right. */
static kept_err signed_form(struct api_ctx *ctx, struct form *f, struct kept_error *err)
{
	if (!api_cfg->telephony_auth_token || !api_cfg->public_url)
		return kept_fail(err, KEPT_ERR_FORBIDDEN, "telephony_not_configured", "",
		                 "no telephony provider is configured, so no webhook can be verified");
	size_t len;
	const char *body = http_body(ctx->req, &len);
	kept_err r = form_decode(ctx->arena, body, len, f, err);
	if (r)
		return r;
	const char *url = arena_sprintf(ctx->arena, "%s%s", api_cfg->public_url, http_path(ctx->req));
	const char *signature = http_header(ctx->req, "X-Twilio-Signature");
	if (!url || !provider_signature_valid(api_cfg->telephony_auth_token, url, f, signature))
		return kept_fail(err, KEPT_ERR_FORBIDDEN, "invalid_signature", "X-Twilio-Signature",
		                 signature ? "the signature does not match this request"
		                           : "X-Twilio-Signature is required");
	return KEPT_OK;
}

/* A count the provider sends: 1 to 9 digits. */
static bool is_count(const char *v)
{
	size_t n = strlen(v);
	return n >= 1 && n <= 9 && strspn(v, "0123456789") == n;
}

static kept_err required(const struct form *f, const char *name, const char **out, struct kept_error *err)
{
	*out = form_get(f, name);
	if (!*out || !**out)
		return kept_fail(err, KEPT_ERR_INVALID, "missing_value", name, "%s is required", name);
	return KEPT_OK;
}

/* Every webhook's start: the call's id from the path, the signed form, its CallSid. */
static kept_err webhook(struct api_ctx *ctx, int64_t *id, struct form *f, const char **sid,
                        struct kept_error *err)
{
	kept_err r = api_path_id(ctx, "id", "call_not_found", id, err);
	if (!r)
		r = signed_form(ctx, f, err);
	return r ? r : required(f, "CallSid", sid, err);
}

/* The call's facts (kept.call_script) into a script_call. */
static kept_err call_facts(struct api_ctx *ctx, int64_t id, const char *sid, const char *answered_by,
                           struct script_call *c, const char **answered, struct kept_error *err)
{
	const char *json = NULL;
	cJSON *doc = NULL;
	kept_err r = q_call_script_value(ctx->db, ctx->arena, id, sid, answered_by, &json, err);
	if (!r)
		r = json_parse_body(ctx->arena, json ? json : "", json ? strlen(json) : 0, &doc, err);
	if (r)
		return r;
	const char *purpose = json_get_string(doc, "purpose");
	*c = (struct script_call){
	        .business = api_cfg->business_name,
	        .contact_name = api_cfg->contact_name,
	        .callback_number = api_cfg->callback_number,
	        .customer_name = json_get_string(doc, "customer_name"),
	        .amount = json_get_string(doc, "amount"),
	        .due_date = json_get_string(doc, "due_date"),
	        .missed = purpose && strcmp(purpose, "missed") == 0,
	        .gather_url =
	                arena_sprintf(ctx->arena, "%s/telephony/gather/%" PRId64, api_cfg->public_url, id),
	        .agent_line = api_cfg->agent_line,
	        .amount_url =
	                arena_sprintf(ctx->arena, "%s/telephony/amount/%" PRId64, api_cfg->public_url, id),
	        .currency_name = json_get_string(doc, "currency_name"),
	};
	*answered = json_get_string(doc, "answered_by");
	return KEPT_OK;
}

static kept_err reply_twiml(struct api_ctx *ctx, struct buf *b, kept_err built, struct kept_error *err)
{
	if (built) {
		buf_free(b);
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	}
	http_reply(ctx->req, 200, "text/xml; charset=utf-8", buf_str(b), buf_len(b));
	buf_free(b);
	return KEPT_OK;
}

/* POST /telephony/twiml/{id}: the provider fetches the script when the call is answered. */
kept_err api_telephony_twiml(struct api_ctx *ctx, struct kept_error *err)
{
	struct form f;
	int64_t id;
	const char *sid, *answered = NULL;
	struct script_call c;
	kept_err r = webhook(ctx, &id, &f, &sid, err);
	if (!r)
		r = call_facts(ctx, id, sid, form_get(&f, "AnsweredBy"), &c, &answered, err);
	if (r)
		return r;
	struct buf b;
	buf_init(&b, 1u << 16);
	return reply_twiml(ctx, &b, script_opening(&b, &c, script_answer_of(answered)), err);
}

/* The words of a step (kept.call_gather, kept.call_amount) into the call's facts. */
static void step_words(struct api_ctx *ctx, const char *step_json, struct script_call *c, const char **step)
{
	cJSON *doc = NULL;
	struct kept_error ignored;
	*step = NULL;
	if (!step_json || json_parse_body(ctx->arena, step_json, strlen(step_json), &doc, &ignored))
		return;
	long long weeks = 0;
	*step = json_get_string(doc, "step");
	c->offer_amount = json_get_string(doc, "offer_amount");
	c->offer_first_date = json_get_string(doc, "offer_first_date");
	c->hear_back_by = json_get_string(doc, "hear_back_by");
	if (json_get_int(doc, "offer_weeks", &weeks))
		c->offer_weeks = arena_sprintf(ctx->arena, "%lld", weeks);
}

/* A key (or, on /amount, an amount and #) pressed: the next words. */
/* A key's typed query (db_queries.h): the call's id, its CallSid, the digits. */
typedef kept_err (*keyed_fn)(struct db_conn *c, struct arena *arena, int64_t id, const char *sid,
                             const char *digits, const char **step, struct kept_error *err);

static kept_err keyed(struct api_ctx *ctx, keyed_fn q, struct kept_error *err)
{
	struct form f;
	int64_t id;
	const char *sid, *answered = NULL, *step_json = NULL, *step = NULL;
	struct script_call c;
	kept_err r = webhook(ctx, &id, &f, &sid, err);
	if (r)
		return r;
	const char *digits = form_get(&f, "Digits");
	r = q(ctx->db, ctx->arena, id, sid, digits ? digits : "", &step_json, err);
	if (!r)
		r = call_facts(ctx, id, sid, NULL, &c, &answered, err);
	if (r)
		return r;
	step_words(ctx, step_json, &c, &step);
	struct buf b;
	buf_init(&b, 1u << 16);
	return reply_twiml(ctx, &b, script_step(&b, &c, step), err);
}

/* POST /telephony/gather/{id}: a key pressed; the next words. */
kept_err api_telephony_gather(struct api_ctx *ctx, struct kept_error *err)
{
	return keyed(ctx, q_call_gather_value, err);
}

/* POST /telephony/amount/{id}: the weekly amount the customer keyed in after
 * 3 (Digits, without the # that ended it); the evaluation read back. */
kept_err api_telephony_amount(struct api_ctx *ctx, struct kept_error *err)
{
	return keyed(ctx, q_call_amount_value, err);
}

/* POST /telephony/status/{id}: call progress, deduplicated, forward only. */
kept_err api_telephony_status(struct api_ctx *ctx, struct kept_error *err)
{
	struct form f;
	int64_t id;
	const char *sid, *sequence, *status, *json = NULL;
	kept_err r = webhook(ctx, &id, &f, &sid, err);
	if (!r)
		r = required(&f, "SequenceNumber", &sequence, err);
	if (!r)
		r = required(&f, "CallStatus", &status, err);
	if (r)
		return r;
	if (!is_count(sequence))
		return kept_fail(err, KEPT_ERR_INVALID, "invalid_sequence_number", "SequenceNumber",
		                 "SequenceNumber must be a whole number");
	const char *duration = form_get(&f, "CallDuration");
	if (duration && !is_count(duration))
		duration = NULL;
	r = q_call_status_value(ctx->db, ctx->arena, id, sid, (int)strtol(sequence, NULL, 10), status,
	                        form_get(&f, "AnsweredBy"),
	                        duration ? (int)strtol(duration, NULL, 10) : DB_NULL_INT, &json, err);
	if (!r)
		http_reply_json(ctx->req, 200, json);
	return r;
}

/* ---- text messages -------------------------------------------------------------------------- */

/* A message webhook's signed form (no call id in its path). */
static kept_err message_webhook(struct api_ctx *ctx, struct form *f, const char **sid, struct kept_error *err)
{
	kept_err r = signed_form(ctx, f, err);
	return r ? r : required(f, "MessageSid", sid, err);
}

/* POST /telephony/messages/{id}/status: a text's progress, forward only. */
kept_err api_telephony_message_status(struct api_ctx *ctx, struct kept_error *err)
{
	struct form f;
	int64_t id;
	const char *sid, *status, *json = NULL;
	kept_err r = api_path_id(ctx, "id", "message_not_found", &id, err);
	if (!r)
		r = message_webhook(ctx, &f, &sid, err);
	if (!r)
		r = required(&f, "MessageStatus", &status, err);
	if (r)
		return r;
	const char *code = form_get(&f, "ErrorCode");
	if (code && !is_count(code))
		code = NULL;
	r = q_message_status_value(ctx->db, ctx->arena, id, sid, status,
	                           code ? (int)strtol(code, NULL, 10) : DB_NULL_INT, &json, err);
	if (!r)
		http_reply_json(ctx->req, 200, json);
	return r;
}

/* POST /telephony/messages: a text a customer sent to kept's number. STOP,
 * START and HELP act at once (kept.message_inbound); the answer is TwiML, in
 * the language of the customer whose number it is. */
kept_err api_telephony_message_inbound(struct api_ctx *ctx, struct kept_error *err)
{
	struct form f;
	const char *sid, *from, *json = NULL;
	kept_err r = message_webhook(ctx, &f, &sid, err);
	if (!r)
		r = required(&f, "From", &from, err);
	if (r)
		return r;
	const char *body = form_get(&f, "Body");
	r = q_message_inbound_value(ctx->db, ctx->arena, sid, from, form_get(&f, "To"), body ? body : "",
	                            &json, err);
	cJSON *doc = NULL;
	if (!r)
		r = json_parse_body(ctx->arena, json ? json : "", json ? strlen(json) : 0, &doc, err);
	if (r)
		return r;
	enum lang l = LANG_EN;
	lang_of_tag(json_get_string(doc, "language"), &l);
	const char *keyword = json_get_string(doc, "keyword");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "duplicate")))
		keyword = NULL; /* answered the first time */
	struct buf b;
	buf_init(&b, 1u << 16);
	return reply_twiml(ctx, &b,
	                   sms_reply_twiml(&b, l, keyword, api_cfg->business_name, api_cfg->callback_number),
	                   err);
}
