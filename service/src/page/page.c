/*
 * The self-service page's HTML. A `struct page` is a builder with a sticky
 * error: every writer does nothing once one has failed, and page_render
 * returns that first failure (a buffer past its cap), so the views read as
 * the documents they write.
 */
#include "page.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "words.h"

struct page {
	struct buf *out;
	const struct page_ctx *c;
	const struct page_words *w;
	const cJSON *v; /* the view */
	const char *currency;
	int minor_units;
	kept_err r;
};

/* ---- writing ------------------------------------------------------------------------------ */

static void raw(struct page *p, const char *s)
{
	if (!p->r && s)
		p->r = buf_adds(p->out, s);
}

static void esc(struct page *p, const char *s)
{
	for (; !p->r && s && *s; s++) {
		switch (*s) {
		case '&': p->r = buf_adds(p->out, "&amp;"); break;
		case '<': p->r = buf_adds(p->out, "&lt;"); break;
		case '>': p->r = buf_adds(p->out, "&gt;"); break;
		case '"': p->r = buf_adds(p->out, "&quot;"); break;
		case '\'': p->r = buf_adds(p->out, "&#39;"); break;
		default: p->r = buf_addc(p->out, *s);
		}
	}
}

/* A text with {1}..{4} filled by the arguments (NULL: empty), all escaped. */
static void fill(struct page *p, const char *tmpl, const char *a1, const char *a2, const char *a3,
                 const char *a4)
{
	const char *args[] = {a1, a2, a3, a4};
	for (const char *t = tmpl; !p->r && t && *t; t++) {
		if (t[0] == '{' && t[1] >= '1' && t[1] <= '4' && t[2] == '}') {
			esc(p, args[t[1] - '1']);
			t += 2;
			continue;
		}
		char one[2] = {*t, '\0'};
		esc(p, one);
	}
}

/* <open>text</close>, the text filled like fill(). */
static void el(struct page *p, const char *open, const char *tmpl, const char *a1, const char *a2,
               const char *close)
{
	raw(p, open);
	fill(p, tmpl, a1, a2, NULL, NULL);
	raw(p, close);
}

static const char *str(const cJSON *o, const char *name)
{
	return json_get_string(o, name);
}

static long long num(const cJSON *o, const char *name)
{
	long long v = 0;
	json_get_int(o, name, &v);
	return v;
}

static bool has_num(const cJSON *o, const char *name)
{
	long long v;
	return json_get_int(o, name, &v);
}

/* An amount in the account's currency, into `out` (LANG_MONEY_MAX). */
static const char *money(struct page *p, long long minor, char *out)
{
	lang_money(p->c->lang, minor, p->minor_units, p->currency, out, LANG_MONEY_MAX);
	return out;
}

/* A date with its weekday, into `out` (LANG_DATE_MAX); the text as given when it is not a date. */
static const char *day(struct page *p, const char *iso, char *out)
{
	if (!lang_date(p->c->lang, iso, true, out, LANG_DATE_MAX))
		snprintf(out, LANG_DATE_MAX, "%s", iso ? iso : "");
	return out;
}

static const char *number_text(long long v, char *out, size_t n)
{
	snprintf(out, n, "%lld", v);
	return out;
}

/* ---- the document --------------------------------------------------------------------------- */

/* The document's start, its title (and first heading) the template `title` filled with `a1`. */
static void head(struct page *p, const char *title, const char *a1)
{
	raw(p, "<!doctype html>\n<html lang=\"");
	raw(p, lang_code(p->c->lang));
	raw(p, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	fill(p, title, a1, NULL, NULL, NULL);
	raw(p, " — ");
	esc(p, p->c->business);
	raw(p, "</title>\n<link rel=\"stylesheet\" href=\"" PAGE_STYLESHEET "\">\n</head>\n<body>\n"
	       "<header class=\"top\"><p class=\"brand\">");
	esc(p, p->c->business);
	raw(p, "</p>");
	if (p->c->base) {
		raw(p, "<a class=\"lang\" href=\"");
		esc(p, p->c->base);
		raw(p, "?lang=");
		raw(p, p->w->other_code);
		raw(p, "\" lang=\"");
		raw(p, p->w->other_code);
		raw(p, "\" hreflang=\"");
		raw(p, p->w->other_code);
		raw(p, "\">");
		esc(p, p->w->other_language);
		raw(p, "</a>");
	}
	raw(p, "</header>\n<main id=\"main\">\n");
	el(p, "<h1>", title, a1, NULL, "</h1>\n");
}

static void foot(struct page *p)
{
	raw(p, "</main>\n<footer><p>");
	fill(p, p->w->footer, p->c->contact_name ? p->c->contact_name : p->c->business, p->c->callback_number,
	     NULL, NULL);
	raw(p, "</p></footer>\n</body>\n</html>\n");
}

/* <form> posting to base + `action`, with the form token and the language. */
static void form_open(struct page *p, const char *action, const char *cls)
{
	raw(p, "<form method=\"post\" novalidate class=\"");
	raw(p, cls);
	raw(p, "\" action=\"");
	esc(p, p->c->base);
	esc(p, action);
	raw(p, "\">\n<input type=\"hidden\" name=\"csrf\" value=\"");
	esc(p, p->c->csrf);
	raw(p, "\"><input type=\"hidden\" name=\"lang\" value=\"");
	raw(p, lang_code(p->c->lang));
	raw(p, "\">\n");
}

static void hidden(struct page *p, const char *name, const char *value)
{
	raw(p, "<input type=\"hidden\" name=\"");
	raw(p, name);
	raw(p, "\" value=\"");
	esc(p, value);
	raw(p, "\">\n");
}

static void button(struct page *p, const char *label, const char *cls)
{
	raw(p, "<button type=\"submit\" class=\"");
	raw(p, cls);
	raw(p, "\">");
	esc(p, label);
	raw(p, "</button>\n</form>\n");
}

/* A labelled text input: id and name `name`, the hint (if any) tied to it. */
struct field {
	const char *name, *label, *hint, *value, *inputmode, *autocomplete, *type, *min, *max, *cls;
	bool invalid;
};

static void input(struct page *p, const struct field *f)
{
	raw(p, "<div class=\"field\"><label for=\"");
	raw(p, f->name);
	raw(p, "\">");
	esc(p, f->label);
	raw(p, "</label>\n");
	if (f->hint) {
		raw(p, "<p class=\"hint\" id=\"");
		raw(p, f->name);
		raw(p, "-hint\">");
		esc(p, f->hint);
		raw(p, "</p>\n");
	}
	raw(p, "<input id=\"");
	raw(p, f->name);
	raw(p, "\" name=\"");
	raw(p, f->name);
	raw(p, "\" type=\"");
	raw(p, f->type ? f->type : "text");
	raw(p, "\"");
	const char *attrs[][2] = {{"inputmode", f->inputmode},
	                          {"autocomplete", f->autocomplete},
	                          {"min", f->min},
	                          {"max", f->max},
	                          {"value", f->value},
	                          {"class", f->cls}};
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		if (!attrs[i][1])
			continue;
		raw(p, " ");
		raw(p, attrs[i][0]);
		raw(p, "=\"");
		esc(p, attrs[i][1]);
		raw(p, "\"");
	}
	if (f->hint) {
		raw(p, " aria-describedby=\"");
		raw(p, f->name);
		raw(p, "-hint\"");
	}
	raw(p, f->invalid ? " aria-invalid=\"true\"></div>\n" : "></div>\n");
}

static void problem(struct page *p, const char *tmpl, const char *a1)
{
	raw(p, "<div class=\"error\" role=\"alert\" id=\"problem\"><p>");
	fill(p, tmpl, a1, NULL, NULL, NULL);
	raw(p, "</p></div>\n");
}

static void link_to(struct page *p, const char *path, const char *label)
{
	raw(p, "<p><a href=\"");
	esc(p, p->c->base);
	esc(p, path);
	raw(p, "\">");
	esc(p, label);
	raw(p, "</a></p>\n");
}

/* ---- the identity step ------------------------------------------------------------------------ */

static void identity_error(struct page *p, const char *error)
{
	char n[24];
	if (!error)
		return;
	if (strcmp(error, "mismatch") == 0)
		problem(p, p->w->err_mismatch, number_text(num(p->v, "tries_left"), n, sizeof n));
	else if (strcmp(error, "incomplete") == 0)
		problem(p, p->w->err_incomplete, NULL);
	else if (strcmp(error, "session_over") == 0)
		problem(p, p->w->err_session_over, NULL);
	else if (strcmp(error, "code_unavailable") == 0)
		problem(p, p->w->err_code_unavailable, p->c->callback_number);
	else
		problem(p, p->w->no_method, p->c->callback_number);
}

static void date_of_birth_form(struct page *p, bool invalid)
{
	form_open(p, "/verify", "identity");
	hidden(p, "method", "date_of_birth_postcode");
	raw(p, "<fieldset class=\"date\" aria-describedby=\"dob-hint\"><legend>");
	esc(p, p->w->dob_legend);
	raw(p, "</legend>\n<p class=\"hint\" id=\"dob-hint\">");
	esc(p, p->w->dob_hint);
	raw(p, "</p>\n");
	const struct field parts[] = {
	        {"dob_day", p->w->day, NULL, NULL, "numeric", "bday-day", NULL, NULL, NULL, "w2", invalid},
	        {"dob_month", p->w->month, NULL, NULL, "numeric", "bday-month", NULL, NULL, NULL, "w2",
	         invalid},
	        {"dob_year", p->w->year, NULL, NULL, "numeric", "bday-year", NULL, NULL, NULL, "w4", invalid},
	};
	for (size_t i = 0; i < 3; i++)
		input(p, &parts[i]);
	raw(p, "</fieldset>\n");
	const struct field postcode = {"postcode", p->w->postcode, NULL, NULL, NULL,   "postal-code",
	                               NULL,       NULL,           NULL, "w8", invalid};
	input(p, &postcode);
	button(p, p->w->continue_, "primary");
}

static void code_forms(struct page *p)
{
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p->v, "code_sent"))) {
		const char *last2 = str(p->v, "number_last2");
		if (last2)
			el(p, "<p class=\"notice\" role=\"status\">", p->w->code_sent, last2, NULL, "</p>\n");
		form_open(p, "/verify", "identity");
		hidden(p, "method", "code");
		const struct field code = {"code",    p->w->code_label,
		                           NULL,      NULL,
		                           "numeric", "one-time-code",
		                           NULL,      NULL,
		                           NULL,      "w6",
		                           false};
		input(p, &code);
		button(p, p->w->continue_, "primary");
	}
	el(p, "<p>", p->w->or_code, NULL, NULL, "</p>\n");
	form_open(p, "/code", "code");
	button(p, p->w->send_code, "secondary");
}

static void view_identity(struct page *p)
{
	const char *error = str(p->v, "error");
	bool dob = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p->v, "date_of_birth_postcode"));
	bool code = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p->v, "code"));
	head(p, p->w->identity_title, NULL);
	el(p, "<p>", p->w->identity_intro, NULL, NULL, "</p>\n");
	identity_error(p, error);
	if (dob)
		date_of_birth_form(p, error && strcmp(error, "mismatch") == 0);
	if (code)
		code_forms(p);
	if (!dob && !code && !(error && strcmp(error, "method_unavailable") == 0))
		el(p, "<p>", p->w->no_method, p->c->callback_number, NULL, "</p>\n");
	foot(p);
}

/* ---- the account ----------------------------------------------------------------------------- */

static const char *refusal_text(struct page *p, const char *code)
{
	static const struct {
		const char *code;
		size_t offset;
	} map[] = {
	        {"invalid_amount", offsetof(struct page_words, err_invalid_amount)},
	        {"invalid_date", offsetof(struct page_words, err_invalid_date)},
	        {"first_due_date_in_past", offsetof(struct page_words, err_date_past)},
	        {"first_due_date_too_far", offsetof(struct page_words, err_date_far)},
	        {"plan_too_long", offsetof(struct page_words, err_too_long)},
	        {"plan_changed", offsetof(struct page_words, err_changed)},
	        {"plan_exists", offsetof(struct page_words, err_changed)},
	        {"unknown_proposal", offsetof(struct page_words, err_changed)},
	        {"proposal_used", offsetof(struct page_words, err_changed)},
	        {"offer_closed", offsetof(struct page_words, err_changed)},
	        {"settlement_offer_not_found", offsetof(struct page_words, err_changed)},
	        {"offer_above_balance", offsetof(struct page_words, err_above_balance)},
	        {"amount_above_balance", offsetof(struct page_words, err_above_balance)},
	        {"account_not_open", offsetof(struct page_words, err_not_open)},
	};
	for (size_t i = 0; code && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].code, code) == 0)
			return *(const char *const *)((const char *)p->w + map[i].offset);
	return p->w->err_generic;
}

static void refusal(struct page *p)
{
	const char *code = str(p->v, "error");
	if (code)
		problem(p, refusal_text(p, code), p->c->callback_number);
}

static void summary(struct page *p)
{
	char m[LANG_MONEY_MAX];
	raw(p, "<section class=\"summary\" aria-labelledby=\"account-title\">\n");
	el(p, "<h2 id=\"account-title\">", p->w->account_with, str(p->v, "creditor"), NULL, "</h2>\n<dl>\n");
	el(p, "<dt>", p->w->balance, NULL, NULL, "</dt>");
	el(p, "<dd class=\"balance\">", "{1}", money(p, num(p->v, "balance_cents"), m), NULL, "</dd>\n");
	el(p, "<dt>", p->w->reference, NULL, NULL, "</dt>");
	el(p, "<dd>", "{1}", str(p->v, "account_ref"), NULL, "</dd>\n</dl>\n");
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(p->v, "plan");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(plan, "next_due");
	if (cJSON_IsObject(plan)) {
		char w[LANG_MONEY_MAX], a[LANG_MONEY_MAX], d[LANG_DATE_MAX], n[24];
		raw(p, "<p class=\"plan\">");
		fill(p, p->w->plan_now, money(p, num(plan, "weekly_amount_cents"), w),
		     money(p, num(next, "amount_cents"), a), day(p, str(next, "due_date"), d),
		     number_text(num(plan, "remaining"), n, sizeof n));
		raw(p, "</p>\n");
	}
	const cJSON *pending = cJSON_GetObjectItemCaseSensitive(p->v, "pending");
	if (cJSON_IsObject(pending)) {
		char w[LANG_MONEY_MAX], d[LANG_DATE_MAX];
		el(p, "<p class=\"notice\">", p->w->pending_now,
		   money(p, num(pending, "weekly_amount_cents"), w), day(p, str(p->v, "hear_back_by"), d),
		   "</p>\n");
	}
	raw(p, "</section>\n");
}

/* The first due date the form offers: what was asked, else the plan's next, else a week from today. */
static const char *default_first_date(struct page *p)
{
	const cJSON *asked = cJSON_GetObjectItemCaseSensitive(p->v, "asked");
	const cJSON *next =
	        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->v, "plan"), "next_due");
	if (str(asked, "first_due_date"))
		return str(asked, "first_due_date");
	if (str(next, "due_date") &&
	    strcmp(str(next, "due_date"), str(p->v, "today") ? str(p->v, "today") : "") >= 0)
		return str(next, "due_date");
	return str(p->v, "suggested_first_due");
}

static void question(struct page *p)
{
	char m[LANG_MONEY_MAX], weeks[24], d1[LANG_DATE_MAX], d2[LANG_DATE_MAX];
	raw(p, "<section aria-labelledby=\"question\">\n");
	el(p, "<h2 id=\"question\">", p->w->question, NULL, NULL, "</h2>\n");
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(p->v, "plan")))
		el(p, "<p>", p->w->cant_pay, NULL, NULL, "</p>\n");
	if (has_num(p->v, "weekly_disposable_cents"))
		el(p, "<p class=\"notice\">", p->w->budget_result,
		   money(p, num(p->v, "weekly_disposable_cents"), m), NULL, "</p>\n");
	form_open(p, "/proposal", "proposal");
	hidden(p, "replaces_plan_id", str(p->v, "replaces_plan_id"));
	const char *error = str(p->v, "error");
	const cJSON *asked = cJSON_GetObjectItemCaseSensitive(p->v, "asked");
	const char *value = str(asked, "amount");
	bool invalid = error && strcmp(error, "invalid_amount") == 0;
	raw(p, "<div class=\"field\"><label for=\"amount\">");
	fill(p, p->w->amount_label, p->currency, NULL, NULL, NULL);
	raw(p, "</label>\n<p class=\"hint\" id=\"amount-hint\">");
	fill(p, p->w->minimum_hint, money(p, num(p->v, "minimum_weekly_cents"), m),
	     number_text(num(p->v, "minimum_weeks"), weeks, sizeof weeks), NULL, NULL);
	raw(p, "</p>\n<input id=\"amount\" name=\"amount\" type=\"text\" inputmode=\"decimal\" "
	       "autocomplete=\"off\" "
	       "class=\"w8\" aria-describedby=\"amount-hint\"");
	if (value) {
		raw(p, " value=\"");
		esc(p, value);
		raw(p, "\"");
	}
	raw(p, invalid ? " aria-invalid=\"true\"></div>\n" : "></div>\n");
	raw(p, "<div class=\"field\"><label for=\"first_due_date\">");
	esc(p, p->w->first_date_label);
	raw(p, "</label>\n<p class=\"hint\" id=\"first_due_date-hint\">");
	fill(p, p->w->first_date_hint, day(p, str(p->v, "today"), d1),
	     day(p, str(p->v, "latest_first_due"), d2), NULL, NULL);
	raw(p, "</p>\n<input id=\"first_due_date\" name=\"first_due_date\" type=\"date\" "
	       "aria-describedby=\"first_due_date-hint\" min=\"");
	esc(p, str(p->v, "today"));
	raw(p, "\" max=\"");
	esc(p, str(p->v, "latest_first_due"));
	raw(p, "\" value=\"");
	esc(p, default_first_date(p));
	raw(p, "\"></div>\n");
	button(p, p->w->see_plan, "primary");
	raw(p, "</section>\n");
}

static void view_account(struct page *p)
{
	head(p, p->w->hello, str(p->v, "first_name"));
	refusal(p);
	summary(p);
	question(p);
	raw(p, "<section class=\"more\">\n");
	link_to(p, "/budget", p->w->budget_link);
	link_to(p, "/settlement", p->w->settle_link);
	raw(p, "</section>\n");
	form_open(p, "/signout", "signout");
	button(p, p->w->signout, "link");
	foot(p);
}

/* ---- a proposal and its schedule ------------------------------------------------------------- */

static void schedule(struct page *p, const cJSON *rows)
{
	char caption[256], d[LANG_DATE_MAX], m[LANG_MONEY_MAX], n[24];
	int count = cJSON_GetArraySize(rows), shown = count > 6 ? 4 : count;
	snprintf(caption, sizeof caption, "%s", str(p->v, "time_zone") ? str(p->v, "time_zone") : "");
	raw(p, "<table class=\"schedule\">\n<caption>");
	fill(p, p->w->schedule_caption, caption, NULL, NULL, NULL);
	raw(p, "</caption>\n<thead><tr>");
	el(p, "<th scope=\"col\">", p->w->col_payment, NULL, NULL, "</th>");
	el(p, "<th scope=\"col\">", p->w->col_date, NULL, NULL, "</th>");
	el(p, "<th scope=\"col\" class=\"num\">", p->w->col_amount, NULL, NULL,
	   "</th></tr></thead>\n<tbody>\n");
	for (int i = 0; i < shown; i++) {
		const cJSON *row = cJSON_GetArrayItem(rows, i);
		el(p, "<tr><td>", "{1}", number_text(num(row, "seq"), n, sizeof n), NULL, "</td>");
		el(p, "<td>", "{1}", day(p, str(row, "due_date"), d), NULL, "</td>");
		el(p, "<td class=\"num\">", "{1}", money(p, num(row, "amount_due_cents"), m), NULL,
		   "</td></tr>\n");
	}
	raw(p, "</tbody>\n</table>\n");
	if (count > shown) {
		const cJSON *last = cJSON_GetArrayItem(rows, count - 1);
		el(p, "<p class=\"hint\">", p->w->more_payments, number_text(count - shown, n, sizeof n),
		   day(p, str(last, "due_date"), d), "</p>\n");
	}
}

static void reasons(struct page *p, const cJSON *ev)
{
	char m[LANG_MONEY_MAX], n[24];
	const cJSON *r;
	raw(p, "<ul class=\"reasons\">\n");
	cJSON_ArrayForEach (r, cJSON_GetObjectItemCaseSensitive(ev, "reasons")) {
		const char *why = cJSON_IsString(r) ? r->valuestring : "";
		raw(p, "<li>");
		if (strcmp(why, "below_policy_minimum") == 0)
			fill(p, p->w->reason_minimum, money(p, num(ev, "policy_minimum_weekly_cents"), m),
			     number_text(num(ev, "max_weeks"), n, sizeof n), NULL, NULL);
		else if (strcmp(why, "longer_than_max_weeks") == 0)
			fill(p, p->w->reason_weeks, number_text(num(ev, "max_weeks"), n, sizeof n), NULL,
			     NULL, NULL);
		else
			fill(p, p->w->reason_budget, money(p, num(ev, "weekly_disposable_cents"), m), NULL,
			     NULL, NULL);
		raw(p, "</li>\n");
	}
	raw(p, "</ul>\n");
}

static void view_proposal(struct page *p)
{
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(p->v, "proposal");
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(pr, "evaluation");
	bool in_policy = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "in_policy"));
	char m[LANG_MONEY_MAX], d[LANG_DATE_MAX], n[24];
	head(p, p->w->proposal_title, NULL);
	el(p, "<p class=\"lead\">", p->w->offered, money(p, num(pr, "weekly_amount_cents"), m),
	   day(p, str(pr, "first_due_date"), d), "</p>\n");
	el(p, "<p>", p->w->clears, money(p, num(ev, "balance_cents"), m),
	   number_text(num(ev, "weeks_to_clear"), n, sizeof n), "</p>\n");
	schedule(p, cJSON_GetObjectItemCaseSensitive(pr, "schedule"));
	if (in_policy) {
		el(p, "<p class=\"good\">", p->w->in_policy, NULL, NULL, "</p>\n");
	} else {
		el(p, "<p class=\"warn\">", p->w->out_policy, NULL, NULL, "</p>\n");
		reasons(p, ev);
		el(p, "<p>", p->w->send_for_approval_text, day(p, str(p->v, "hear_back_by"), d), NULL,
		   "</p>\n");
	}
	if (has_num(p->v, "replaces_plan_id"))
		el(p, "<p>", p->w->replaces, NULL, NULL, "</p>\n");
	form_open(p, "/plan", "confirm");
	hidden(p, "proposal_id", number_text(num(pr, "id"), n, sizeof n));
	hidden(p, "replaces_plan_id",
	       has_num(p->v, "replaces_plan_id") ? number_text(num(p->v, "replaces_plan_id"), n, sizeof n)
	                                         : "");
	button(p, in_policy ? p->w->agree : p->w->send_for_approval, "primary");
	link_to(p, "", p->w->change_amount);
	foot(p);
}

static void view_plan_made(struct page *p)
{
	const cJSON *made = cJSON_GetObjectItemCaseSensitive(p->v, "made");
	bool active = str(made, "status") && strcmp(str(made, "status"), "active") == 0;
	char m[LANG_MONEY_MAX], d[LANG_DATE_MAX], n[24];
	head(p, active ? p->w->agreed_title : p->w->pending_title, NULL);
	if (active) {
		raw(p, "<p class=\"lead good\" role=\"status\">");
		fill(p, p->w->agreed_text, money(p, num(made, "weekly_amount_cents"), m),
		     day(p, str(made, "first_due_date"), d),
		     number_text(num(made, "installment_count"), n, sizeof n), NULL);
		raw(p, "</p>\n");
		el(p, "<p>", p->w->texted, NULL, NULL, "</p>\n");
	} else {
		el(p, "<p class=\"lead\" role=\"status\">", p->w->pending_text,
		   day(p, str(p->v, "hear_back_by"), d), NULL, "</p>\n");
	}
	link_to(p, "", p->w->back);
	foot(p);
}

/* ---- the budget helper --------------------------------------------------------------------------- */

static const char *const sections[3] = {"income", "fixed_costs", "flexible_costs"};
static const char *const categories[16] = {
        "income.earnings",
        "income.benefits",
        "income.pensions",
        "income.other_income",
        "fixed_costs.home_and_contents",
        "fixed_costs.utilities",
        "fixed_costs.care_and_health",
        "fixed_costs.transport_and_travel",
        "fixed_costs.school_costs",
        "fixed_costs.pensions_and_insurances",
        "fixed_costs.professional_costs",
        "fixed_costs.other_essential_costs",
        "flexible_costs.communications_and_leisure",
        "flexible_costs.food_and_housekeeping",
        "flexible_costs.personal_costs",
        "flexible_costs.savings_contributions",
};

static void view_budget(struct page *p)
{
	const char *legends[3] = {p->w->section_income, p->w->section_fixed, p->w->section_flexible};
	const cJSON *asked = cJSON_GetObjectItemCaseSensitive(p->v, "asked");
	const char *bad = str(p->v, "field");
	head(p, p->w->budget_title, NULL);
	el(p, "<p>", p->w->budget_intro, NULL, NULL, "</p>\n");
	refusal(p);
	form_open(p, "/budget", "budget");
	for (size_t s = 0; s < 3; s++) {
		raw(p, "<fieldset><legend>");
		esc(p, legends[s]);
		raw(p, "</legend>\n");
		for (size_t i = 0; i < 16; i++) {
			if (strncmp(categories[i], sections[s], strlen(sections[s])) != 0 ||
			    categories[i][strlen(sections[s])] != '.')
				continue;
			struct field f = {categories[i],
			                  p->w->categories[i],
			                  NULL,
			                  str(asked, categories[i]),
			                  "decimal",
			                  "off",
			                  NULL,
			                  NULL,
			                  NULL,
			                  "w8 money",
			                  bad && strcmp(bad, categories[i]) == 0};
			input(p, &f);
		}
		raw(p, "</fieldset>\n");
	}
	button(p, p->w->work_it_out, "primary");
	link_to(p, "", p->w->back);
	foot(p);
}

/* ---- settling -------------------------------------------------------------------------------------- */

static void settle_offer_form(struct page *p)
{
	char m[LANG_MONEY_MAX];
	head(p, p->w->settle_title, NULL);
	refusal(p);
	form_open(p, "/settlement", "settlement");
	raw(p, "<div class=\"field\"><label for=\"amount\">");
	fill(p, p->w->offer_label, p->currency, NULL, NULL, NULL);
	raw(p, "</label>\n<p class=\"hint\" id=\"amount-hint\">");
	fill(p, p->w->settle_question, money(p, num(p->v, "balance_cents"), m), NULL, NULL, NULL);
	raw(p, "</p>\n<input id=\"amount\" name=\"amount\" type=\"text\" inputmode=\"decimal\" "
	       "autocomplete=\"off\" "
	       "class=\"w8\" aria-describedby=\"amount-hint\"></div>\n");
	button(p, p->w->make_offer, "primary");
	link_to(p, "", p->w->back);
	foot(p);
}

static void take_choice(struct page *p, const char *value, const char *tmpl, const char *amount, bool checked)
{
	raw(p, "<div class=\"choice\"><input type=\"radio\" name=\"take\" id=\"take-");
	raw(p, value);
	raw(p, "\" value=\"");
	raw(p, value);
	raw(p, checked ? "\" checked>" : "\">");
	raw(p, "<label for=\"take-");
	raw(p, value);
	raw(p, "\">");
	fill(p, tmpl, amount, NULL, NULL, NULL);
	raw(p, "</label></div>\n");
}

static void installments(struct page *p)
{
	char n[24];
	raw(p, "<div class=\"field\"><label for=\"installments\">");
	esc(p, p->w->installments_label);
	raw(p, "</label>\n<select id=\"installments\" name=\"installments\">\n<option value=\"1\">");
	esc(p, p->w->one_payment);
	raw(p, "</option>\n");
	for (int k = 2; k <= 12; k++) {
		snprintf(n, sizeof n, "%d", k);
		raw(p, "<option value=\"");
		raw(p, n);
		raw(p, "\">");
		fill(p, p->w->weekly_n, n, NULL, NULL, NULL);
		raw(p, "</option>\n");
	}
	raw(p, "</select></div>\n");
}

static void view_settlement(struct page *p)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(p->v, "offer");
	if (!cJSON_IsObject(o)) {
		settle_offer_form(p);
		return;
	}
	char m1[LANG_MONEY_MAX], m2[LANG_MONEY_MAX], d[LANG_DATE_MAX], n[24];
	bool within = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "within_policy"));
	head(p, p->w->settle_title, NULL);
	refusal(p);
	if (within)
		el(p, "<p class=\"lead good\">", p->w->offer_ok, money(p, num(o, "offer_cents"), m1), NULL,
		   "</p>\n");
	else
		el(p, "<p class=\"lead\">", p->w->offer_low, money(p, num(o, "offer_cents"), m1),
		   money(p, num(o, "counter_cents"), m2), "</p>\n");
	form_open(p, "/settlement/accept", "accept");
	hidden(p, "offer_id", number_text(num(o, "id"), n, sizeof n));
	hidden(p, "replaces_plan_id",
	       has_num(p->v, "replaces_plan_id") ? number_text(num(p->v, "replaces_plan_id"), n, sizeof n)
	                                         : "");
	if (within) {
		hidden(p, "take", "offer");
	} else {
		raw(p, "<fieldset><legend class=\"visually-hidden\">");
		esc(p, p->w->settle_title);
		raw(p, "</legend>\n");
		take_choice(p, "counter", p->w->take_counter, m2, true);
		take_choice(p, "offer", p->w->take_offer, m1, false);
		raw(p, "</fieldset>\n");
		el(p, "<p>", p->w->low_note, day(p, str(p->v, "hear_back_by"), d), NULL, "</p>\n");
	}
	installments(p);
	struct field first = {"first_due_date",
	                      p->w->first_date_label,
	                      NULL,
	                      str(p->v, "today"),
	                      NULL,
	                      NULL,
	                      "date",
	                      str(p->v, "today"),
	                      str(p->v, "latest_first_due"),
	                      NULL,
	                      false};
	input(p, &first);
	button(p, p->w->accept, "primary");
	link_to(p, "", p->w->back);
	foot(p);
}

/* ---- when the link cannot be used -------------------------------------------------------------- */

static void view_closed(struct page *p, const char *view, int *status)
{
	const struct {
		const char *view;
		int status;
		size_t title, text;
	} map[] = {
	        {"expired", 410, offsetof(struct page_words, expired_title),
	         offsetof(struct page_words, expired_text)},
	        {"revoked", 410, offsetof(struct page_words, revoked_title),
	         offsetof(struct page_words, revoked_text)},
	        {"ended", 410, offsetof(struct page_words, revoked_title),
	         offsetof(struct page_words, revoked_text)},
	        {"locked", 403, offsetof(struct page_words, locked_title),
	         offsetof(struct page_words, locked_text)},
	        {"rate_limited", 429, offsetof(struct page_words, rate_title),
	         offsetof(struct page_words, rate_text)},
	        {"signed_out", 200, offsetof(struct page_words, signed_out_title),
	         offsetof(struct page_words, signed_out_text)},
	        {"cross_site", 403, offsetof(struct page_words, cross_title),
	         offsetof(struct page_words, cross_text)},
	};
	size_t title = offsetof(struct page_words, invalid_title),
	       text = offsetof(struct page_words, invalid_text);
	*status = 404;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].view, view) == 0) {
			title = map[i].title;
			text = map[i].text;
			*status = map[i].status;
		}
	char minutes[24];
	number_text((num(p->v, "retry_after") + 59) / 60, minutes, sizeof minutes);
	const char *base = p->c->base;
	struct page_ctx quiet = *p->c;
	quiet.base = strcmp(view, "signed_out") == 0 ? base : NULL; /* no link back into a link that failed */
	struct page q = *p; /* drawn with the quiet context; only its result goes back */
	q.c = &quiet;
	head(&q, *(const char *const *)((const char *)q.w + title), NULL);
	el(&q, "<p>", *(const char *const *)((const char *)q.w + text),
	   strcmp(view, "rate_limited") == 0 ? minutes : q.c->callback_number, NULL, "</p>\n");
	if (strcmp(view, "signed_out") == 0)
		link_to(&q, "", q.w->back);
	foot(&q);
	p->r = q.r;
}

kept_err page_render(struct buf *out, const struct page_ctx *c, const cJSON *view, const char *show,
                     int *status)
{
	struct page p = {out,
	                 c,
	                 page_words_for(c->lang),
	                 view,
	                 str(view, "currency"),
	                 (int)num(view, "minor_units"),
	                 KEPT_OK};
	const char *name = str(view, "view");
	*status = 200;
	name = name ? name : "invalid";
	if (strcmp(name, "account") == 0 && show && strcmp(show, "budget") == 0)
		name = "budget";
	else if (strcmp(name, "account") == 0 && show && strcmp(show, "settlement") == 0)
		name = "settlement";
	if (strcmp(name, "identity") == 0)
		view_identity(&p);
	else if (strcmp(name, "account") == 0)
		view_account(&p);
	else if (strcmp(name, "proposal") == 0)
		view_proposal(&p);
	else if (strcmp(name, "plan_made") == 0)
		view_plan_made(&p);
	else if (strcmp(name, "budget") == 0)
		view_budget(&p);
	else if (strcmp(name, "settlement") == 0)
		view_settlement(&p);
	else
		view_closed(&p, name, status);
	return p.r;
}
