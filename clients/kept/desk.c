/*
 * kept find | account | policies | report — what an agent on a live call, a
 * supervisor or a finance analyst reads: find the customer, see the account
 * on one screen, the policies in force, a report as a table or CSV.
 *
 * Dates a customer pays by are the customer's own (the API gives them as
 * local dates); times of calls are shown in the customer's zone, every other
 * time in this machine's, to the second.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const cJSON *item(const cJSON *doc, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(doc, name);
}

static void money_of(const cJSON *doc, const char *field, const char *currency, char *out, size_t size)
{
	money_format(cli_int(doc, field), currency, out, size);
}

/* ---- find -------------------------------------------------------------------------------------- */

static void show_found(const cJSON *doc)
{
	static const char *const headers[] = {"CUSTOMER", "NAME", "REF", "PHONES", "ACCOUNTS", "MATCHED"};
	struct table t;
	table_init(&t, 6, headers);
	const cJSON *c;
	cJSON_ArrayForEach (c, item(doc, "items")) {
		char id[24], phones[128] = "", accounts[512] = "";
		snprintf(id, sizeof id, "%lld", cli_int(c, "id"));
		const cJSON *p;
		cJSON_ArrayForEach (p, item(c, "phones_last4")) {
			size_t n = strlen(phones);
			snprintf(phones + n, sizeof phones - n, "%s…%s", n ? ", " : "",
			         cJSON_IsString(p) ? p->valuestring : "");
		}
		const cJSON *a;
		cJSON_ArrayForEach (a, item(c, "accounts")) {
			char balance[64];
			money_of(a, "balance_cents", cli_str(a, "currency"), balance, sizeof balance);
			size_t n = strlen(accounts);
			snprintf(accounts + n, sizeof accounts - n, "%s%lld %s %s (%s)", n ? "; " : "",
			         cli_int(a, "id"), cli_str(a, "external_ref"), balance, cli_str(a, "status"));
		}
		const char *row[] = {id,
		                     cli_str(c, "name"),
		                     cli_str(c, "external_ref"),
		                     *phones ? phones : NULL,
		                     *accounts ? accounts : NULL,
		                     cli_str(c, "matched")};
		table_add(&t, row);
	}
	if (t.nrows)
		table_print(&t, stdout);
	else
		printf("no customer matches\n");
	table_free(&t);
}

int cmd_find(struct cli *cli, int argc, char **argv)
{
	static const struct cli_option options[] = {{"--limit", true, false}, {"--cursor", true, false}, {0}};
	struct cli_args a;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1)
		return cli_usage("kept find TEXT [--limit N] [--cursor C]   (kept help find)");
	char *q = client_escape(a.positional[0]);
	char *limit = cli_has(&a, "--limit") ? client_escape(cli_get(&a, "--limit")) : NULL;
	char *cursor = cli_has(&a, "--cursor") ? client_escape(cli_get(&a, "--cursor")) : NULL;
	size_t size = strlen(q ? q : "") + (limit ? strlen(limit) : 0) + (cursor ? strlen(cursor) : 0) + 64;
	char *path = malloc(size);
	int code = CLI_FAILED;
	if (q && path) {
		snprintf(path, size, "/v1/customers?q=%s%s%s%s%s", q, limit ? "&limit=" : "",
		         limit ? limit : "", cursor ? "&cursor=" : "", cursor ? cursor : "");
		cJSON *doc = NULL;
		code = cli_call(cli, "GET", path, NULL, NULL, &doc);
		if (code == CLI_OK && !cli->json) {
			show_found(doc);
			cli_more(cli, cli_str(doc, "next_cursor"));
		}
		cJSON_Delete(doc);
	}
	free(path);
	free(q);
	free(limit);
	free(cursor);
	return code;
}

/* ---- account -------------------------------------------------------------------------------------- */

static void print_customer(const cJSON *c)
{
	printf("%s (customer %lld, %s), %s, %s; local date %s\n", cli_str(c, "name"), cli_int(c, "id"),
	       cli_str(c, "external_ref"), cli_str(c, "jurisdiction"), cli_str(c, "time_zone"),
	       cli_str(c, "local_today"));
	const cJSON *p;
	printf("  phones:");
	int n = 0;
	cJSON_ArrayForEach (p, item(c, "phones")) {
		printf("%s …%s%s", n++ ? "," : "", cli_str(p, "last4"),
		       cJSON_IsTrue(item(p, "consent_automated")) ? " (automated calls allowed)" : "");
	}
	printf("%s\n", n ? "" : " none");
	const cJSON *r = item(c, "contact_restrictions");
	char restrictions[256] = "";
	const cJSON *flag;
	cJSON_ArrayForEach (flag, r) {
		size_t len = strlen(restrictions);
		if (cJSON_IsTrue(flag))
			snprintf(restrictions + len, sizeof restrictions - len, "%s%s", len ? ", " : "",
			         flag->string);
		else if (cJSON_IsString(flag))
			snprintf(restrictions + len, sizeof restrictions - len, "%s%s until %s",
			         len ? ", " : "", flag->string, flag->valuestring);
	}
	if (*restrictions)
		printf("  restrictions: %s\n", restrictions);
}

static void print_plan(const cJSON *plan, const char *currency)
{
	char weekly[64], total[64], paid[64], due[64];
	if (!cJSON_IsObject(plan)) {
		printf("plan:      none active\n");
		return;
	}
	money_of(plan, "weekly_amount_cents", currency, weekly, sizeof weekly);
	money_of(plan, "total_cents", currency, total, sizeof total);
	money_of(plan, "paid_cents", currency, paid, sizeof paid);
	printf("plan:      %lld, %s a week, %lld installments (%s), %s paid of %s\n", cli_int(plan, "id"),
	       weekly, cli_int(plan, "installments"), cli_str(plan, "origin"), paid, total);
	const cJSON *next = item(plan, "next_due");
	if (cJSON_IsObject(next)) {
		long long days = cli_int(next, "days_from_today");
		money_format(cli_int(next, "amount_due_cents") - cli_int(next, "amount_paid_cents"), currency,
		             due, sizeof due);
		printf("next due:  %s on %s (customer's date; %s%lld day%s), installment %lld\n", due,
		       cli_str(next, "due_date"), days < 0 ? "" : "in ", days < 0 ? -days : days,
		       (days == 1 || days == -1) ? "" : "s", cli_int(next, "seq"));
		if (days < 0)
			printf("           (that was %lld day%s ago: not yet judged)\n", -days,
			       days == -1 ? "" : "s");
	}
}

static void print_payments(const cJSON *payments, const char *currency)
{
	if (!cJSON_GetArraySize(payments))
		return;
	printf("\nlast payments\n");
	static const char *const headers[] = {"PAYMENT", "RECEIVED", "AMOUNT", "SOURCE", "STATUS"};
	struct table t;
	table_init(&t, 5, headers);
	const cJSON *p;
	cJSON_ArrayForEach (p, payments) {
		char id[24], when[64], amount[64];
		snprintf(id, sizeof id, "%lld", cli_int(p, "id"));
		time_format(cli_str(p, "received_at"), NULL, when, sizeof when);
		money_of(p, "amount_cents", currency, amount, sizeof amount);
		const char *row[] = {id, when, amount, cli_str(p, "source"), cli_str(p, "status")};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void print_calls(const cJSON *calls, const char *zone)
{
	if (!cJSON_GetArraySize(calls))
		return;
	printf("\nrecent calls (customer's time)\n");
	static const char *const headers[] = {"CALL", "WHEN", "PURPOSE", "WHAT HAPPENED"};
	struct table t;
	table_init(&t, 4, headers);
	const cJSON *c;
	cJSON_ArrayForEach (c, calls) {
		char id[24], when[64];
		snprintf(id, sizeof id, "%lld", cli_int(c, "id"));
		time_format(cli_str(c, "at"), zone, when, sizeof when);
		const char *row[] = {id, when, cli_str(c, "purpose"), cli_str(c, "what_happened")};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void print_contacts(const cJSON *contacts)
{
	if (!cJSON_GetArraySize(contacts))
		return;
	printf("\ncontacts\n");
	static const char *const headers[] = {"CONTACT", "WHEN", "CHANNEL", "DIRECTION", "OUTCOME", "NOTE"};
	struct table t;
	table_init(&t, 6, headers);
	const cJSON *c;
	cJSON_ArrayForEach (c, contacts) {
		char id[24], when[64];
		snprintf(id, sizeof id, "%lld", cli_int(c, "id"));
		time_format(cli_str(c, "at"), NULL, when, sizeof when);
		const char *direction = cli_str(c, "direction"), *note = cli_str(c, "note");
		const char *row[] = {id,
		                     when,
		                     cli_str(c, "channel"),
		                     *direction ? direction : NULL,
		                     cli_str(c, "outcome"),
		                     *note ? note : NULL};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void print_open_work(const cJSON *doc)
{
	const cJSON *e;
	cJSON_ArrayForEach (e, item(doc, "open_escalations")) {
		char due[64];
		time_format(cli_str(e, "due_by"), NULL, due, sizeof due);
		printf("escalation %lld open: %s, priority %lld, team %s, due by %s%s%s\n", cli_int(e, "id"),
		       cli_str(e, "reason"), cli_int(e, "priority"), cli_str(e, "team"), due,
		       *cli_str(e, "note") ? " - " : "", cli_str(e, "note"));
	}
	const cJSON *r;
	cJSON_ArrayForEach (r, item(doc, "open_reviews")) {
		char reasons[256] = "";
		const cJSON *why;
		cJSON_ArrayForEach (why, item(r, "reasons")) {
			size_t n = strlen(reasons);
			snprintf(reasons + n, sizeof reasons - n, "%s%s", n ? ", " : "",
			         cJSON_IsString(why) ? why->valuestring : "");
		}
		printf("review %lld open for plan %lld: %s\n", cli_int(r, "id"), cli_int(r, "plan_id"),
		       reasons);
	}
	const cJSON *pending = item(doc, "pending_plan");
	if (cJSON_IsObject(pending))
		printf("plan %lld waits for a second associate's approval (kept plan approve %lld)\n",
		       cli_int(pending, "id"), cli_int(pending, "id"));
}

static void show_overview(const cJSON *doc)
{
	const cJSON *account = item(doc, "account"), *customer = item(doc, "customer");
	const char *currency = cli_str(account, "currency");
	char balance[64], original[64], arrears[64];
	money_of(account, "balance_cents", currency, balance, sizeof balance);
	money_of(account, "original_balance_cents", currency, original, sizeof original);
	print_customer(customer);
	printf("\naccount:   %lld (%s), %s, placed on %s\n", cli_int(account, "id"),
	       cli_str(account, "external_ref"), cli_str(account, "creditor"), cli_str(account, "placed_on"));
	printf("balance:   %s of %s, %s\n", balance, original, cli_str(account, "status"));
	print_plan(item(doc, "plan"), currency);
	const cJSON *arr = item(doc, "arrears");
	if (cli_int(arr, "installments") > 0) {
		money_of(arr, "cents", currency, arrears, sizeof arrears);
		printf("arrears:   %s over %lld judged installment%s not kept\n", arrears,
		       cli_int(arr, "installments"), cli_int(arr, "installments") == 1 ? "" : "s");
	} else {
		printf("arrears:   none\n");
	}
	print_open_work(doc);
	print_payments(item(doc, "last_payments"), currency);
	print_calls(item(doc, "recent_calls"), cli_str(customer, "time_zone"));
	print_contacts(item(doc, "recent_contacts"));
}

int cmd_account(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	static const struct cli_option options[] = {{0}};
	long long id;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1)
		return cli_usage("kept account ID   (kept help account)");
	if (!cli_parse_int("ACCOUNT", a.positional[0], 1, 999999999999999LL, &id))
		return CLI_USAGE;
	char path[96];
	snprintf(path, sizeof path, "/v1/accounts/%lld/overview", id);
	return cli_get_and_show(cli, path, show_overview);
}

/* ---- policies -------------------------------------------------------------------------------------- */

static void show_policies(const cJSON *doc)
{
	static const char *const headers[] = {"POLICY",  "CREDITOR",     "MAX WEEKS",   "GRACE DAYS",
	                                      "KEPT AT", "BREAKS AFTER", "SETTLE FROM", "REMIND BEFORE",
	                                      "VERSION", "UPDATED"};
	struct table t;
	table_init(&t, 10, headers);
	const cJSON *p;
	cJSON_ArrayForEach (p, item(doc, "items")) {
		char id[24], weeks[24], grace[24], kept[24], misses[32], settle[24], lead[24], version[24],
		        when[64];
		snprintf(id, sizeof id, "%lld", cli_int(p, "id"));
		snprintf(weeks, sizeof weeks, "%lld", cli_int(p, "max_weeks"));
		snprintf(grace, sizeof grace, "%lld", cli_int(p, "grace_days"));
		snprintf(kept, sizeof kept, "%lld%%", cli_int(p, "kept_threshold_percent"));
		snprintf(misses, sizeof misses, "%lld missed", cli_int(p, "breaks_after_misses"));
		snprintf(settle, sizeof settle, "%lld%%", cli_int(p, "min_settlement_percent"));
		snprintf(lead, sizeof lead, "%lld days", cli_int(p, "reminder_lead_days"));
		snprintf(version, sizeof version, "%lld", cli_int(p, "version"));
		time_format(cli_str(p, "updated_at"), NULL, when, sizeof when);
		const char *creditor = *cli_str(p, "creditor") ? cli_str(p, "creditor") : "(default)";
		const char *row[] = {id, creditor, weeks, grace, kept, misses, settle, lead, version, when};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

int cmd_policies(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	static const struct cli_option options[] = {{0}};
	if (!cli_parse(argc, argv, options, &a) || a.npositional)
		return cli_usage("kept policies");
	cJSON *doc = NULL;
	int code = cli_call(cli, "GET", "/v1/policies", NULL, NULL, &doc);
	if (code == CLI_OK && !cli->json)
		show_policies(doc);
	cJSON_Delete(doc);
	return code;
}

/* ---- report -------------------------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* One cell of a report: money in its currency, rates as percentages. */
static void report_cell(const cJSON *row, const cJSON *v, char *out, size_t size)
{
	const char *name = v->string;
	if (cJSON_IsNull(v))
		snprintf(out, size, "-");
	else if (cJSON_IsNumber(v) && ends_with(name, "_cents"))
		money_format((long long)v->valuedouble, cli_str(row, "currency"), out, size);
	else if (cJSON_IsNumber(v) && (strstr(name, "rate") || strstr(name, "share")))
		snprintf(out, size, "%.1f%%", v->valuedouble * 100.0);
	else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
		snprintf(out, size, "%lld", (long long)v->valuedouble);
	else if (cJSON_IsNumber(v))
		snprintf(out, size, "%.4f", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(out, size, "%s", cJSON_IsTrue(v) ? "yes" : "no");
	else
		snprintf(out, size, "%s", cJSON_IsString(v) ? v->valuestring : "?");
}

static void show_report(const cJSON *doc)
{
	const cJSON *rows = item(doc, "rows"), *first = cJSON_GetArrayItem(rows, 0);
	const cJSON *fresh = item(doc, "analytics");
	char caught[64];
	time_format(cli_str(fresh, "caught_up_at"), NULL, caught, sizeof caught);
	printf("%s, weeks from %s to %s (not included); everything recorded before %s is counted\n",
	       cli_str(doc, "report"), cli_str(doc, "from"), cli_str(doc, "to"), *caught ? caught : "-");
	if (!first) {
		printf("no rows\n");
		return;
	}
	const char *headers[TABLE_MAX_COLS], *keys[TABLE_MAX_COLS];
	char names[TABLE_MAX_COLS][48];
	size_t ncols = 0;
	const cJSON *v;
	cJSON_ArrayForEach (v, first) {
		if (ncols == TABLE_MAX_COLS)
			break;
		size_t i = 0;
		for (const char *s = v->string; *s && i + 1 < sizeof names[0]; s++) {
			char c = (char)toupper((unsigned char)*s);
			if (c == '_')
				c = ' ';
			names[ncols][i++] = c;
		}
		names[ncols][i] = '\0';
		if (ends_with(names[ncols], " CENTS"))
			names[ncols][i - 6] = '\0';
		headers[ncols] = names[ncols];
		keys[ncols++] = v->string;
	}
	struct table t;
	table_init(&t, ncols, headers);
	const cJSON *row;
	cJSON_ArrayForEach (row, rows) {
		char cells[TABLE_MAX_COLS][64];
		const char *cell[TABLE_MAX_COLS];
		for (size_t c = 0; c < ncols; c++) {
			const cJSON *value = cJSON_GetObjectItemCaseSensitive(row, keys[c]);
			if (value)
				report_cell(row, value, cells[c], sizeof cells[c]);
			else
				snprintf(cells[c], sizeof cells[c], "-");
			cell[c] = cells[c];
		}
		table_add(&t, cell);
	}
	table_print(&t, stdout);
	table_free(&t);
}

/* The Monday of this week, on this machine's calendar, moved by `weeks`. */
static void monday(int weeks, char out[11])
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_mday -= (tm.tm_wday + 6) % 7 - 7 * weeks;
	tm.tm_hour = 12; /* clear of any daylight-saving hour */
	mktime(&tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "kept report NAME [--from DATE] [--to DATE] [--csv]   (kept help report)";
	static const struct cli_option options[] = {
	        {"--from", true, false}, {"--to", true, false}, {"--csv", false, false}, {0}};
	struct cli_args a;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1)
		return cli_usage(usage);
	char from[11], to[11];
	monday(-12, from);
	monday(1, to);
	char *name = client_escape(a.positional[0]);
	char *f = client_escape(cli_has(&a, "--from") ? cli_get(&a, "--from") : from);
	char *t = client_escape(cli_has(&a, "--to") ? cli_get(&a, "--to") : to);
	int code = CLI_FAILED;
	if (name && f && t) {
		char path[512];
		snprintf(path, sizeof path, "/v1/reports/%s?from=%s&to=%s%s", name, f, t,
		         cli_has(&a, "--csv") ? "&format=csv" : "");
		if (cli_has(&a, "--csv")) {
			struct client_call call = {"GET", path, NULL, NULL, NULL, NULL};
			struct client_response resp = {0};
			client_request(&cli->client, &call, &resp);
			if (resp.status == 200) {
				fwrite(resp.body, 1, resp.length, stdout);
				code = CLI_OK;
			} else {
				code = cli_answer(cli, &resp, NULL);
			}
			client_response_free(&resp);
		} else {
			cJSON *doc = NULL;
			code = cli_call(cli, "GET", path, NULL, NULL, &doc);
			if (code == CLI_OK && !cli->json)
				show_report(doc);
			cJSON_Delete(doc);
		}
	}
	free(name);
	free(f);
	free(t);
	return code;
}
