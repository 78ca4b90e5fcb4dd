/*
 * /s/{token}... — the customer's self-service page (KEPT_SELF_SERVICE=on).
 *
 * The link's token is the credential: its signature is checked here before
 * the database is asked (link/), and SQL answers a view for every step
 * (sql/functions/86_self_service.sql), drawn by page/. Around that, this file
 * keeps the page safe by default:
 *   - a visit cookie (random, HttpOnly, Secure, SameSite=Strict) binds every
 *     form token; a POST without the cookie, with a form token not made for
 *     it, or from another origin (Origin, Sec-Fetch-Site) changes nothing
 *     and answers 403;
 *   - proving who you are starts a session: another such cookie, stored
 *     hashed and bound to the link;
 *   - every answer carries a CSP that allows this origin's stylesheet and
 *     forms and nothing else (no script at all), no-store, a referrer only
 *     to this origin (with no-referrer a browser sends "Origin: null" on the
 *     page's own form posts, which would refuse them all);
 *   - the client's address reaches SQL only as an HMAC (rate limits), the
 *     token only as its SHA-256, a code only as an HMAC, and a text that
 *     carries a code only sealed.
 */
#include <stdio.h>
#include <string.h>

#include "form/form.h"
#include "internal.h"
#include "lang/lang.h"
#include "link/link.h"
#include "page/page.h"
#include "sms/sms.h"
#include "texts/texts.h"

#define VISIT_COOKIE   "kept_visit"
#define SESSION_COOKIE "kept_session"
#define LANG_COOKIE    "kept_lang"
#define COOKIE_ATTRS   "; Path=/s/; Secure; HttpOnly; SameSite=Strict"

static const char page_csp[] = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'";

struct visit {
	struct api_ctx *ctx;
	char token_hash[LINK_HASH_HEX_LEN + 1];
	char address[LINK_ADDRESS_LEN + 1];
	char session_hash[LINK_HASH_HEX_LEN + 1]; /* "" when there is no session cookie */
	const char *visit;                        /* the visit cookie (made now when missing) */
	char csrf[LINK_CSRF_LEN + 1];
	struct form form;
	enum lang lang;
	bool lang_chosen; /* by the switch, a form or the cookie: stronger than the customer's own */
	const char *base; /* /s/<token> */
};

/* ---- answering ------------------------------------------------------------------------------- */

static kept_err header(struct visit *v, const char *name, const char *value)
{
	return http_add_header(v->ctx->req, name, value);
}

static kept_err cookie(struct visit *v, const char *name, const char *value, int max_age)
{
	const char *c =
	        arena_sprintf(v->ctx->arena, "%s=%s%s; Max-Age=%d", name, value, COOKIE_ATTRS, max_age);
	return c ? header(v, "Set-Cookie", c) : KEPT_ERR_NOMEM;
}

static kept_err safe_headers(struct visit *v)
{
	kept_err r = header(v, "Content-Security-Policy", page_csp);
	r = r ? r : header(v, "Cache-Control", "no-store");
	r = r ? r : header(v, "Referrer-Policy", "same-origin");
	r = r ? r : header(v, "X-Content-Type-Options", "nosniff");
	return r ? r : header(v, "X-Frame-Options", "DENY");
}

/* Draws `view` (show: another form of the account view) and answers it. */
static kept_err draw(struct visit *v, const cJSON *view, const char *show, struct kept_error *err)
{
	enum lang l = v->lang;
	if (!v->lang_chosen)
		lang_of_tag(json_get_string(view, "language"), &l);
	struct page_ctx pc = {
	        l, v->base, v->csrf, api_cfg->business_name, api_cfg->callback_number, api_cfg->contact_name};
	struct buf b;
	buf_init(&b, 1u << 20);
	int status = 200;
	kept_err r = page_render(&b, &pc, view, show, &status);
	r = r ? r : safe_headers(v);
	if (!r && status == 429) {
		long long retry = 0;
		json_get_int(view, "retry_after", &retry);
		r = header(v, "Retry-After", arena_sprintf(v->ctx->arena, "%lld", retry > 0 ? retry : 60));
	}
	if (!r)
		http_reply(v->ctx->req, status, "text/html; charset=utf-8", buf_str(&b), buf_len(&b));
	buf_free(&b);
	return r ? kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory") : KEPT_OK;
}

/* A view kept answers without asking the database: {"view": name}. */
static kept_err draw_named(struct visit *v, const char *name, struct kept_error *err)
{
	cJSON *view = json_object_in(v->ctx->arena);
	if (!view || !cJSON_AddStringToObject(view, "view", name))
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	return draw(v, view, NULL, err);
}

/* The name of the view a step answered ("" when there is none). */
static const char *view_name(struct visit *v, const char *json)
{
	cJSON *view = NULL;
	struct kept_error ignored;
	if (!json || json_parse_body(v->ctx->arena, json, strlen(json), &view, &ignored))
		return "";
	const char *name = json_get_string(view, "view");
	return name ? name : "";
}

static kept_err draw_json(struct visit *v, const char *json, const char *show, struct kept_error *err)
{
	cJSON *view = NULL;
	kept_err r = json_parse_body(v->ctx->arena, json ? json : "", json ? strlen(json) : 0, &view, err);
	return r ? r : draw(v, view, show, err);
}

static kept_err see_other(struct visit *v, struct kept_error *err)
{
	kept_err r = safe_headers(v);
	r = r ? r : header(v, "Location", v->base);
	if (r)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	http_reply(v->ctx->req, 303, "text/html; charset=utf-8", "", 0);
	return KEPT_OK;
}

/* ---- the visit ------------------------------------------------------------------------------ */

/* The language: the switch (?lang= or the form's), then the cookie it set, then Accept-Language. */
static kept_err choose_language(struct visit *v, const char *asked)
{
	const char *kept_lang = http_cookie(v->ctx->req, LANG_COOKIE);
	v->lang = LANG_EN;
	if (asked && lang_of_tag(asked, &v->lang)) {
		v->lang_chosen = true;
		return cookie(v, LANG_COOKIE, lang_code(v->lang), 31536000);
	}
	if (kept_lang && lang_of_tag(kept_lang, &v->lang)) {
		v->lang_chosen = true;
		return KEPT_OK;
	}
	v->lang_chosen = lang_of_accept(http_header(v->ctx->req, "Accept-Language"), &v->lang);
	return KEPT_OK;
}

/* The visit cookie (made when missing, for a GET) and the form token bound to it. */
static kept_err visit_cookie(struct visit *v, bool make)
{
	const char *c = http_cookie(v->ctx->req, VISIT_COOKIE);
	char hash[LINK_HASH_HEX_LEN + 1], fresh[LINK_SESSION_LEN + 1];
	if (c && link_session_hash(c, hash)) {
		v->visit = c;
	} else if (make) {
		if (link_session_new(fresh, hash))
			return KEPT_ERR_INTERNAL;
		v->visit = arena_strdup(v->ctx->arena, fresh);
		kept_err r = v->visit ? cookie(v, VISIT_COOKIE, v->visit, 86400) : KEPT_ERR_NOMEM;
		if (r)
			return r;
	}
	link_csrf(api_cfg->link_keys, v->visit, v->csrf);
	return KEPT_OK;
}

/* The origin of KEPT_PUBLIC_URL (scheme://host[:port]). */
static bool same_origin(const char *origin)
{
	size_t n = strlen(api_cfg->public_url);
	const char *path =
	        strchr(strstr(api_cfg->public_url, "://") ? strstr(api_cfg->public_url, "://") + 3 : "", '/');
	if (path)
		n = (size_t)(path - api_cfg->public_url);
	return strlen(origin) == n && strncmp(origin, api_cfg->public_url, n) == 0;
}

/* A form from this page: the visit cookie, its form token, and nothing saying it came from elsewhere. */
static bool form_is_ours(struct visit *v)
{
	const char *origin = http_header(v->ctx->req, "Origin");
	const char *site = http_header(v->ctx->req, "Sec-Fetch-Site");
	if (origin && !same_origin(origin))
		return false;
	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return false;
	return v->visit && link_csrf_ok(api_cfg->link_keys, v->visit, form_get(&v->form, "csrf"));
}

/*
 * Every request's start. Answers (and sets *done) when the page is off, the
 * token's signature fails, or a POST is not this page's own; otherwise the
 * visit is ready for its step.
 */
static kept_err begin(struct api_ctx *ctx, struct visit *v, bool post, bool *done, struct kept_error *err)
{
	*v = (struct visit){.ctx = ctx};
	*done = true;
	const char *token = route_param(&ctx->params, "token");
	v->base = arena_sprintf(ctx->arena, "/s/%s", token ? token : "");
	size_t len;
	const char *body = post ? http_body(ctx->req, &len) : NULL;
	bool form_ok = !post || !form_decode(ctx->arena, body, len, &v->form, err);
	kept_err r = choose_language(v, post ? form_get(&v->form, "lang") : http_query(ctx->req, "lang"));
	if (r)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	if (!api_cfg->link_keys || !link_token_check(api_cfg->link_keys, token, v->token_hash)) {
		v->base = NULL;
		return draw_named(v, "invalid", err);
	}
	r = visit_cookie(v, !post);
	if (r)
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "",
		                 "no visit cookie could be made");
	if (post && (!form_ok || !form_is_ours(v)))
		return draw_named(v, "cross_site", err);
	char address[64];
	http_client_address(ctx->req, address, sizeof address);
	link_address_key(api_cfg->link_keys, address, v->address);
	const char *session = http_cookie(ctx->req, SESSION_COOKIE);
	if (!session || !link_session_hash(session, v->session_hash))
		v->session_hash[0] = '\0';
	*done = false;
	return KEPT_OK;
}

static const char *session_param(const struct visit *v)
{
	return v->session_hash[0] ? v->session_hash : NULL;
}

/* The form as a JSON object of its fields (the first value of each), for SQL. */
static const char *form_json(struct visit *v)
{
	cJSON *o = json_object_in(v->ctx->arena);
	for (size_t i = 0; o && i < v->form.count; i++) {
		const char *name = v->form.fields[i].name;
		if (strcmp(name, "csrf") == 0 || cJSON_HasObjectItem(o, name))
			continue;
		cJSON_AddStringToObject(o, name, v->form.fields[i].value);
	}
	return o ? json_print(v->ctx->arena, o) : NULL;
}

/* ---- GET ------------------------------------------------------------------------------------ */

/* GET /s/{token}, /s/{token}/budget, /s/{token}/settlement. */
kept_err api_page_get(struct api_ctx *ctx, struct kept_error *err)
{
	struct visit v;
	bool done;
	kept_err r = begin(ctx, &v, false, &done, err);
	if (r || done)
		return r;
	const char *path = http_path(ctx->req);
	const char *show = strstr(path, "/budget")       ? "budget"
	                   : strstr(path, "/settlement") ? "settlement"
	                                                 : NULL;
	const char *json = NULL;
	r = q_page_view_value(ctx->db, ctx->arena, v.token_hash, session_param(&v), v.address,
	                      http_request_id(ctx->req), &json, err);
	return r ? r : draw_json(&v, json, show, err);
}

/* ---- proving who you are ------------------------------------------------------------------------ */

/* A number typed as 1 to `max` digits (spaces before it allowed), or -1. */
static int typed_number(const char *s, size_t max)
{
	if (!s)
		return -1;
	while (*s == ' ')
		s++;
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > max || s[n] != '\0')
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* "YYYY-MM-DD" from the three fields as typed ("" when they are not three numbers). */
static const char *typed_date(struct visit *v)
{
	const char *d = form_get(&v->form, "dob_day"), *m = form_get(&v->form, "dob_month");
	const char *y = form_get(&v->form, "dob_year");
	int day = typed_number(d, 2), month = typed_number(m, 2), year = typed_number(y, 4);
	if (year < 1000 || month < 1 || day < 1)
		return "";
	return arena_sprintf(v->ctx->arena, "%04d-%02d-%02d", year, month, day);
}

static kept_err verify(struct visit *v, struct kept_error *err)
{
	char cookie_value[LINK_SESSION_LEN + 1], new_hash[LINK_HASH_HEX_LEN + 1];
	if (link_session_new(cookie_value, new_hash))
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "no session could be made");
	const char *method = form_get(&v->form, "method"), *json = NULL;
	kept_err r;
	if (method && strcmp(method, "code") == 0) {
		char code_hash[LINK_HASH_HEX_LEN + 1];
		const char *code = form_get(&v->form, "code");
		link_code_hash(api_cfg->link_keys, v->token_hash, code ? code : "", code_hash);
		r = q_page_verify_code_value(v->ctx->db, v->ctx->arena, v->token_hash, new_hash, v->address,
		                             http_request_id(v->ctx->req), code_hash, &json, err);
	} else {
		r = q_page_verify_value(v->ctx->db, v->ctx->arena, v->token_hash, new_hash, v->address,
		                        http_request_id(v->ctx->req), typed_date(v),
		                        form_get(&v->form, "postcode"), &json, err);
	}
	if (r)
		return r;
	if (strcmp(view_name(v, json), "verified") != 0)
		return draw_json(v, json, NULL, err);
	r = cookie(v, SESSION_COOKIE, cookie_value, 7200);
	if (r)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	return see_other(v, err);
}

/* A one-time code texted to a number on file, in the page's language. */
static kept_err send_code(struct visit *v, struct kept_error *err)
{
	char code[LINK_CODE_DIGITS + 1], code_hash[LINK_HASH_HEX_LEN + 1];
	struct buf words, shown;
	if (link_code_new(code))
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "no code could be made");
	link_code_hash(api_cfg->link_keys, v->token_hash, code, code_hash);
	buf_init(&words, 4096);
	buf_init(&shown, 4096);
	kept_err r = sms_code_text(&words, v->lang, api_cfg->business_name, code, 10);
	r = r ? r : sms_code_text(&shown, v->lang, api_cfg->business_name, "••••••", 10);
	const char *sealed = r ? NULL : link_seal(api_cfg->link_keys, v->ctx->arena, buf_str(&words));
	const char *shown_text = r ? NULL : arena_strdup(v->ctx->arena, buf_str(&shown));
	buf_free(&words);
	buf_free(&shown);
	if (!sealed || !shown_text)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	const char *json = NULL;
	r = q_page_code_send_value(v->ctx->db, v->ctx->arena, v->token_hash, v->address,
	                           http_request_id(v->ctx->req), code_hash, lang_code(v->lang), shown_text,
	                           sealed, &json, err);
	if (r)
		return r;
	texts_wake(); /* a code may be on its way */
	return draw_json(v, json, NULL, err);
}

/* ---- the negotiation's steps ---------------------------------------------------------------------- */

/* A step's typed query (db_queries.h): token hash, session hash, address
 * key, request id, the form as JSON. */
typedef kept_err (*page_step_fn)(struct db_conn *c, struct arena *arena, const char *token_hash,
                                 const char *session_hash, const char *address, const char *request_id,
                                 const char *body, const char **json, struct kept_error *err);

struct step_tx {
	struct visit *v;
	page_step_fn q;
	const char *body;
	const char *json;
	bool texted;
};

/* The confirmation text of a plan the customer just made (active, or waiting for an associate). */
static kept_err queue_confirmation(struct db_conn *db, struct step_tx *t, const cJSON *view,
                                   struct kept_error *err)
{
	struct visit *v = t->v;
	const cJSON *made = cJSON_GetObjectItemCaseSensitive(view, "made");
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(view, "text");
	const char *number = json_get_string(text, "number"), *status = json_get_string(made, "status");
	long long weekly = 0, minor = 2, customer = 0, account = 0, link = 0;
	if (!number || !status || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(view, "again")) ||
	    !texts_can_send())
		return KEPT_OK;
	json_get_int(made, "weekly_amount_cents", &weekly);
	json_get_int(view, "minor_units", &minor);
	json_get_int(text, "customer_id", &customer);
	json_get_int(made, "account_id", &account);
	json_get_int(view, "link_id", &link);
	char amount[LANG_MONEY_MAX];
	lang_money(v->lang, weekly, (int)minor, json_get_string(view, "currency"), amount, sizeof amount);
	struct buf words;
	buf_init(&words, 4096);
	kept_err r =
	        sms_plan_text(&words, v->lang, api_cfg->business_name, strcmp(status, "active") == 0, amount,
	                      json_get_string(made, "first_due_date"), json_get_string(view, "hear_back_by"));
	const char *body = r ? NULL : arena_strdup(v->ctx->arena, buf_str(&words));
	buf_free(&words);
	if (!body)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	const char *m = NULL;
	r = q_message_queue_value(db, v->ctx->arena, DB_NULL_BIGINT,
	                          arena_sprintf(v->ctx->arena, "customer (self-service link %lld)", link),
	                          http_request_id(v->ctx->req), customer, account, link, "confirmation",
	                          number, lang_code(v->lang), body,
	                          NULL /* nothing secret in it: not sealed */,
	                          NULL /* of use for three days */, &m, err);
	t->texted = !r;
	return r;
}

static kept_err run_step(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct step_tx *t = arg;
	struct visit *v = t->v;
	t->texted = false;
	kept_err r = t->q(db, v->ctx->arena, v->token_hash, session_param(v), v->address,
	                  http_request_id(v->ctx->req), t->body, &t->json, err);
	if (r || strcmp(view_name(v, t->json), "plan_made") != 0)
		return r;
	cJSON *view = cJSON_Parse(t->json);
	r = view ? queue_confirmation(db, t, view, err)
	         : kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "bad view");
	cJSON_Delete(view);
	return r;
}

static kept_err negotiate(struct visit *v, page_step_fn q, struct kept_error *err)
{
	struct step_tx t = {v, q, form_json(v), NULL, false};
	if (!t.body)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	kept_err r = db_transaction(v->ctx->db, run_step, &t, err);
	if (r)
		return r;
	if (t.texted)
		texts_wake();
	return draw_json(v, t.json, NULL, err);
}

static kept_err sign_out(struct visit *v, struct kept_error *err)
{
	const char *json = NULL;
	kept_err r = v->session_hash[0] ? q_page_signout_value(v->ctx->db, v->ctx->arena, v->token_hash,
	                                                       session_param(v), http_request_id(v->ctx->req),
	                                                       &json, err)
	                                : KEPT_OK;
	if (!r)
		r = cookie(v, SESSION_COOKIE, "", 0)
		            ? kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory")
		            : KEPT_OK;
	return r ? r : draw_named(v, "signed_out", err);
}

/* POST /s/{token}/<step>: verify, code, proposal, plan, budget, settlement, settlement/accept, signout. */
kept_err api_page_post(struct api_ctx *ctx, struct kept_error *err)
{
	struct visit v;
	bool done;
	kept_err r = begin(ctx, &v, true, &done, err);
	if (r || done)
		return r;
	const char *path = http_path(ctx->req);
	const char *step = path + strlen(v.base);
	if (strcmp(step, "/verify") == 0)
		return verify(&v, err);
	if (strcmp(step, "/code") == 0)
		return send_code(&v, err);
	if (strcmp(step, "/signout") == 0)
		return sign_out(&v, err);
	static const struct {
		const char *step;
		page_step_fn q;
	} steps[] = {
	        {"/proposal", q_page_propose_value},
	        {"/plan", q_page_plan_value},
	        {"/budget", q_page_budget_value},
	        {"/settlement", q_page_offer_value},
	        {"/settlement/accept", q_page_settle_value},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (strcmp(step, steps[i].step) == 0)
			return negotiate(&v, steps[i].q, err);
	return draw_named(&v, "invalid", err);
}
