/* kept propose | plan | reviews | settle | affordability — the negotiation.
 * Amounts are given in the account's currency units (12.50) and shown the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- shared ------------------------------------------------------------------------------ */

/* The currency of `path`'s resource ("" when it cannot be read). */
static void currency_of(struct cli *cli, const char *path, char out[8])
{
	struct client_call call = {"GET", path, NULL, NULL, NULL};
	struct client_response resp = {0};
	out[0] = '\0';
	if (client_request(&cli->client, &call, &resp) && resp.status == 200) {
		cJSON *doc = cJSON_Parse(resp.body);
		snprintf(out, 8, "%s", cli_str(doc, "currency"));
		cJSON_Delete(doc);
	}
	client_response_free(&resp);
}

/* Adds `field` (minor units) parsed from `text` in `currency`; false after printing why not. */
static bool add_money(cJSON *body, const char *field, const char *option, const char *text,
                      const char *currency)
{
	long long minor;
	if (!money_parse(text, currency, &minor)) {
		fprintf(stderr, "kept: %s must be an amount like %s%s%s\n", option, money_example(currency),
		        *currency ? " in " : "", currency);
		return false;
	}
	cJSON_AddNumberToObject(body, field, (double)minor);
	return true;
}

static void add_string(cJSON *body, const char *field, const char *value)
{
	if (value)
		cJSON_AddStringToObject(body, field, value);
}

static bool add_id(cJSON *body, const char *field, const char *option, const char *value)
{
	long long id;
	if (!value)
		return true;
	if (!cli_parse_int(option, value, 1, 999999999999999LL, &id))
		return false;
	cJSON_AddNumberToObject(body, field, (double)id);
	return true;
}

/* POSTs `body` (consumed) and hands the parsed answer to `show`. */
static int post_and_show(struct cli *cli, const char *path, cJSON *body, void (*show)(const cJSON *))
{
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	cJSON *doc = NULL;
	int code = text ? cli_call(cli, "POST", path, "application/json", text, &doc) : CLI_FAILED;
	if (code == CLI_OK && !cli->json && show)
		show(doc);
	cJSON_Delete(doc);
	free(text);
	return code;
}

static void money(const cJSON *doc, const char *field, const char *currency, char *out, size_t size)
{
	money_format(cli_int(doc, field), currency, out, size);
}

static const char *reasons_text(const cJSON *reasons, char *out, size_t size)
{
	const cJSON *r;
	out[0] = '\0';
	cJSON_ArrayForEach (r, reasons) {
		size_t n = strlen(out);
		snprintf(out + n, size - n, "%s%s", n ? ", " : "", cJSON_IsString(r) ? r->valuestring : "?");
	}
	return *out ? out : "none";
}

/* SEQ / DUE DATE / AMOUNT [/ PAID / OUTCOME] */
static void print_schedule(const cJSON *rows, const char *currency, bool with_outcome)
{
	static const char *const headers[] = {"SEQ", "DUE DATE", "AMOUNT", "PAID", "OUTCOME"};
	struct table t;
	table_init(&t, with_outcome ? 5 : 3, headers);
	const cJSON *i;
	cJSON_ArrayForEach (i, rows) {
		char seq[16], due[64], paid[64];
		snprintf(seq, sizeof seq, "%lld", cli_int(i, "seq"));
		money(i, "amount_due_cents", currency, due, sizeof due);
		money(i, "amount_paid_cents", currency, paid, sizeof paid);
		const char *row[] = {seq, cli_str(i, "due_date"), due, paid, cli_str(i, "outcome")};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

/* ---- propose ---------------------------------------------------------------------------------- */

static void show_proposal(const cJSON *p)
{
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(p, "evaluation");
	const char *cur = cli_str(ev, "currency");
	char a[64], b[64], reasons[256];
	money(p, "weekly_amount_cents", cur, a, sizeof a);
	money(ev, "balance_cents", cur, b, sizeof b);
	printf("proposal %lld: %s a week from %s against a balance of %s\n", cli_int(p, "id"), a,
	       cli_str(p, "first_due_date"), b);
	money(ev, "policy_minimum_weekly_cents", cur, a, sizeof a);
	printf("policy minimum  %s a week (%lld weeks at most)\n", a, cli_int(ev, "max_weeks"));
	printf("weeks to clear  %lld\n", cli_int(ev, "weeks_to_clear"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(ev, "weekly_disposable_cents"))) {
		money(ev, "weekly_disposable_cents", cur, a, sizeof a);
		printf("affordable      %s a week\n", a);
	}
	printf("in policy       %s (reasons: %s)\n",
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "in_policy")) ? "yes" : "no",
	       reasons_text(cJSON_GetObjectItemCaseSensitive(ev, "reasons"), reasons, sizeof reasons));
	print_schedule(cJSON_GetObjectItemCaseSensitive(p, "schedule"), cur, false);
}

int cmd_propose(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	        "kept propose ACCOUNT --weekly AMOUNT --first-due YYYY-MM-DD [--note TEXT]";
	static const struct cli_option options[] = {
	        {"--weekly", true, false}, {"--first-due", true, false}, {"--note", true, false}, {0}};
	struct cli_args a;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1 || !cli_has(&a, "--weekly") ||
	    !cli_has(&a, "--first-due"))
		return cli_usage(usage);
	char path[96], currency[8];
	snprintf(path, sizeof path, "/v1/accounts/%s", a.positional[0]);
	currency_of(cli, path, currency);
	cJSON *body = cJSON_CreateObject();
	if (!add_money(body, "weekly_amount_cents", "--weekly", cli_get(&a, "--weekly"), currency)) {
		cJSON_Delete(body);
		return CLI_USAGE;
	}
	add_string(body, "first_due_date", cli_get(&a, "--first-due"));
	add_string(body, "note", cli_get(&a, "--note"));
	snprintf(path, sizeof path, "/v1/accounts/%s/proposals", a.positional[0]);
	return post_and_show(cli, path, body, show_proposal);
}

/* ---- plan ----------------------------------------------------------------------------------------- */

static void show_plan(const cJSON *p)
{
	const char *cur = cli_str(p, "currency");
	char weekly[64], total[64], reasons[256];
	money(p, "weekly_amount_cents", cur, weekly, sizeof weekly);
	money(p, "total_cents", cur, total, sizeof total);
	printf("plan %lld on account %lld: %s, %s\n", cli_int(p, "id"), cli_int(p, "account_id"),
	       cli_str(p, "origin"), cli_str(p, "status"));
	printf("%s a week, %lld installments, %s in all%s\n", weekly, cli_int(p, "installment_count"), total,
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "imported")) ? " (imported)" : "");
	printf("in policy: %s (reasons: %s)\n",
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "in_policy")) ? "yes" : "no",
	       reasons_text(cJSON_GetObjectItemCaseSensitive(p, "reasons"), reasons, sizeof reasons));
	if (strcmp(cli_str(p, "status"), "pending_approval") == 0)
		printf("waiting for a second associate: kept plan approve %lld\n", cli_int(p, "id"));
	print_schedule(cJSON_GetObjectItemCaseSensitive(p, "installments"), cur, true);
}

static void show_plans(const cJSON *doc)
{
	static const char *const headers[] = {"PLAN",   "ORIGIN",       "STATUS",
	                                      "WEEKLY", "INSTALLMENTS", "FIRST DUE"};
	struct table t;
	table_init(&t, 6, headers);
	const cJSON *p;
	cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
		char id[24], weekly[64], count[16];
		snprintf(id, sizeof id, "%lld", cli_int(p, "id"));
		snprintf(count, sizeof count, "%lld", cli_int(p, "installment_count"));
		money(p, "weekly_amount_cents", cli_str(p, "currency"), weekly, sizeof weekly);
		const char *row[] = {id,    cli_str(p, "origin"),        cli_str(p, "status"), weekly,
		                     count, cli_str(p, "first_due_date")};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static const struct cli_option plan_options[] = {
        {"--proposal", true, false},  {"--weekly", true, false},
        {"--first-due", true, false}, {"--replaces", true, false},
        {"--imported", false, false}, {"--note", true, false},
        {"--reason", true, false},    {0},
};

static int plan_create(struct cli *cli, const struct cli_args *a)
{
	static const char usage[] =
	        "kept plan create ACCOUNT (--proposal ID | --weekly AMOUNT --first-due DATE)\n"
	        "           [--replaces PLAN] [--imported]";
	if (a->npositional != 1 || (!cli_has(a, "--proposal") && !cli_has(a, "--weekly")))
		return cli_usage(usage);
	char path[96], currency[8];
	snprintf(path, sizeof path, "/v1/accounts/%s", a->positional[0]);
	currency_of(cli, path, currency);
	cJSON *body = cJSON_CreateObject();
	bool ok = add_id(body, "proposal_id", "--proposal", cli_get(a, "--proposal")) &&
	          add_id(body, "replaces_plan_id", "--replaces", cli_get(a, "--replaces")) &&
	          (!cli_has(a, "--weekly") ||
	           add_money(body, "weekly_amount_cents", "--weekly", cli_get(a, "--weekly"), currency));
	add_string(body, "first_due_date", cli_get(a, "--first-due"));
	if (cli_has(a, "--imported"))
		cJSON_AddTrueToObject(body, "imported");
	if (!ok) {
		cJSON_Delete(body);
		return CLI_USAGE;
	}
	snprintf(path, sizeof path, "/v1/accounts/%s/plans", a->positional[0]);
	return post_and_show(cli, path, body, show_plan);
}

static int plan_show(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1 || a->count)
		return cli_usage("kept plan show PLAN");
	char path[96];
	snprintf(path, sizeof path, "/v1/plans/%s", a->positional[0]);
	return cli_get_and_show(cli, path, show_plan);
}

static int plan_list(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1 || a->count)
		return cli_usage("kept plan list ACCOUNT");
	char path[96];
	snprintf(path, sizeof path, "/v1/accounts/%s/plans", a->positional[0]);
	return cli_get_and_show(cli, path, show_plans);
}

static int plan_approve(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1)
		return cli_usage("kept plan approve PLAN [--note TEXT]");
	cJSON *body = cJSON_CreateObject();
	add_string(body, "note", cli_get(a, "--note"));
	char path[96];
	snprintf(path, sizeof path, "/v1/plans/%s/approvals", a->positional[0]);
	return post_and_show(cli, path, body, show_plan);
}

static int plan_cancel(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1 || !cli_has(a, "--reason"))
		return cli_usage("kept plan cancel PLAN --reason TEXT");
	cJSON *body = cJSON_CreateObject();
	add_string(body, "reason", cli_get(a, "--reason"));
	char path[96];
	snprintf(path, sizeof path, "/v1/plans/%s/cancel", a->positional[0]);
	return post_and_show(cli, path, body, show_plan);
}

int cmd_plan(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {{"create", plan_create}, {"show", plan_show},
	                                        {"list", plan_list},     {"approve", plan_approve},
	                                        {"cancel", plan_cancel}, {0}};
	return cli_dispatch(cli, argc, argv, plan_options, verbs,
	                    "kept plan create|show|list|approve|cancel ...");
}

/* ---- reviews ---------------------------------------------------------------------------------------- */

/* "alice (key 3)", or "-" for nobody. */
static const char *person(const cJSON *r, const char *field, char *out, size_t size)
{
	char name_field[64];
	snprintf(name_field, sizeof name_field, "%s_name", field);
	if (!cli_int(r, field))
		return NULL;
	snprintf(out, size, "%s", *cli_str(r, name_field) ? cli_str(r, name_field) : "?");
	return out;
}

static void show_reviews(const cJSON *doc)
{
	static const char *const headers[] = {"REVIEW",     "PLAN",        "ACCOUNT", "WEEKLY",     "REASONS",
	                                      "CREATED BY", "APPROVED BY", "STATUS",  "REVIEWED BY"};
	struct table t;
	table_init(&t, 9, headers);
	const cJSON *r;
	cJSON_ArrayForEach (r, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
		char id[24], plan[24], account[24], weekly[64], reasons[256], creator[128], approver[128],
		        reviewer[128];
		snprintf(id, sizeof id, "%lld", cli_int(r, "id"));
		snprintf(plan, sizeof plan, "%lld", cli_int(r, "plan_id"));
		snprintf(account, sizeof account, "%lld", cli_int(r, "account_id"));
		money(r, "weekly_amount_cents", cli_str(r, "currency"), weekly, sizeof weekly);
		const char *row[] = {
		        id,
		        plan,
		        account,
		        weekly,
		        reasons_text(cJSON_GetObjectItemCaseSensitive(r, "reasons"), reasons, sizeof reasons),
		        person(r, "plan_created_by", creator, sizeof creator),
		        person(r, "approved_by", approver, sizeof approver),
		        cli_str(r, "status"),
		        person(r, "decided_by", reviewer, sizeof reviewer)};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void show_review(const cJSON *r)
{
	char weekly[64], total[64], reasons[256], who[128], when[64];
	money(r, "weekly_amount_cents", cli_str(r, "currency"), weekly, sizeof weekly);
	money(r, "total_cents", cli_str(r, "currency"), total, sizeof total);
	printf("review %lld: %s\n", cli_int(r, "id"), cli_str(r, "status"));
	printf("plan:        %lld on account %lld (%s), %s a week, %s in all\n", cli_int(r, "plan_id"),
	       cli_int(r, "account_id"), cli_str(r, "origin"), weekly, total);
	printf("why:         %s\n",
	       reasons_text(cJSON_GetObjectItemCaseSensitive(r, "reasons"), reasons, sizeof reasons));
	const char *creator = person(r, "plan_created_by", who, sizeof who);
	printf("created by:  %s\n", creator ? creator : "-");
	const char *approver = person(r, "approved_by", who, sizeof who);
	time_format(cli_str(r, "approved_at"), NULL, when, sizeof when);
	if (approver)
		printf("approved by: %s at %s%s%s\n", approver, when,
		       *cli_str(r, "approval_note") ? ": " : "", cli_str(r, "approval_note"));
	const char *reviewer = person(r, "decided_by", who, sizeof who);
	time_format(cli_str(r, "decided_at"), NULL, when, sizeof when);
	if (reviewer)
		printf("reviewed by: %s at %s: %s%s%s\n", reviewer, when, cli_str(r, "status"),
		       *cli_str(r, "review_note") ? " - " : "", cli_str(r, "review_note"));
}

static const struct cli_option review_options[] = {
        {"--status", true, false}, {"--cursor", true, false}, {"--note", true, false}, {0}};

static int reviews_list(struct cli *cli, const struct cli_args *a)
{
	char path[256];
	snprintf(path, sizeof path, "/v1/reviews?status=%s%s%s",
	         cli_has(a, "--status") ? cli_get(a, "--status") : "open",
	         cli_has(a, "--cursor") ? "&cursor=" : "",
	         cli_has(a, "--cursor") ? cli_get(a, "--cursor") : "");
	return cli_get_and_show(cli, path, show_reviews);
}

static int reviews_decide(struct cli *cli, const struct cli_args *a, const char *decision)
{
	if (a->npositional != 1)
		return cli_usage("kept reviews uphold|correct REVIEW [--note TEXT]");
	cJSON *body = cJSON_CreateObject();
	add_string(body, "decision", decision);
	add_string(body, "note", cli_get(a, "--note"));
	char path[96];
	snprintf(path, sizeof path, "/v1/reviews/%s", a->positional[0]);
	return post_and_show(cli, path, body, show_review);
}

static int reviews_show(struct cli *cli, const struct cli_args *a)
{
	long long id;
	if (a->npositional != 1 || a->count)
		return cli_usage("kept reviews show REVIEW");
	if (!cli_parse_int("REVIEW", a->positional[0], 1, 999999999999999LL, &id))
		return CLI_USAGE;
	char path[96];
	snprintf(path, sizeof path, "/v1/reviews/%lld", id);
	return cli_get_and_show(cli, path, show_review);
}

static int reviews_uphold(struct cli *cli, const struct cli_args *a)
{
	return reviews_decide(cli, a, "upheld");
}

static int reviews_correct(struct cli *cli, const struct cli_args *a)
{
	return reviews_decide(cli, a, "corrected");
}

int cmd_reviews(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {{"list", reviews_list},
	                                        {"show", reviews_show},
	                                        {"uphold", reviews_uphold},
	                                        {"correct", reviews_correct},
	                                        {0}};
	if (argc == 0 || strncmp(argv[0], "--", 2) == 0) {
		struct cli_args a;
		return cli_parse(argc, argv, review_options, &a) ? reviews_list(cli, &a) : CLI_USAGE;
	}
	return cli_dispatch(cli, argc, argv, review_options, verbs,
	                    "kept reviews [list] [--status open|upheld|corrected|all] | show REVIEW | "
	                    "uphold|correct REVIEW --note TEXT");
}

/* ---- settle ------------------------------------------------------------------------------------------ */

static void show_offer(const cJSON *o)
{
	const char *cur = cli_str(o, "currency");
	char offer[64], floor_[64], counter[64];
	money(o, "offer_cents", cur, offer, sizeof offer);
	money(o, "floor_cents", cur, floor_, sizeof floor_);
	printf("settlement offer %lld: %s against a floor of %s (%lld%% of the balance)\n", cli_int(o, "id"),
	       offer, floor_, cli_int(o, "min_settlement_percent"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "counter_cents"))) {
		money(o, "counter_cents", cur, counter, sizeof counter);
		printf("below the floor: counter with %s (accepting it needs a second associate)\n", counter);
	} else {
		printf("within policy\n");
	}
	printf("to accept: kept settle accept %lld --first-due YYYY-MM-DD [--amount AMOUNT] [--installments "
	       "N]\n",
	       cli_int(o, "id"));
}

static const struct cli_option settle_options[] = {
        {"--offer", true, false},
        {"--note", true, false},
        {"--amount", true, false},
        {"--first-due", true, false},
        {"--installments", true, false},
        {"--replaces", true, false},
        {0},
};

static int settle_offer(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1 || !cli_has(a, "--offer"))
		return cli_usage("kept settle ACCOUNT --offer AMOUNT [--note TEXT]");
	char path[96], currency[8];
	snprintf(path, sizeof path, "/v1/accounts/%s", a->positional[0]);
	currency_of(cli, path, currency);
	cJSON *body = cJSON_CreateObject();
	if (!add_money(body, "offer_cents", "--offer", cli_get(a, "--offer"), currency)) {
		cJSON_Delete(body);
		return CLI_USAGE;
	}
	add_string(body, "note", cli_get(a, "--note"));
	snprintf(path, sizeof path, "/v1/accounts/%s/settlement-offers", a->positional[0]);
	return post_and_show(cli, path, body, show_offer);
}

static int settle_accept(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1 || !cli_has(a, "--first-due"))
		return cli_usage("kept settle accept OFFER --first-due DATE [--amount AMOUNT] "
		                 "[--installments N] [--replaces PLAN]");
	char path[96], currency[8];
	snprintf(path, sizeof path, "/v1/settlement-offers/%s", a->positional[0]);
	currency_of(cli, path, currency);
	cJSON *body = cJSON_CreateObject();
	add_string(body, "first_due_date", cli_get(a, "--first-due"));
	bool ok = add_id(body, "installments", "--installments", cli_get(a, "--installments")) &&
	          add_id(body, "replaces_plan_id", "--replaces", cli_get(a, "--replaces")) &&
	          (!cli_has(a, "--amount") ||
	           add_money(body, "amount_cents", "--amount", cli_get(a, "--amount"), currency));
	if (!ok) {
		cJSON_Delete(body);
		return CLI_USAGE;
	}
	snprintf(path, sizeof path, "/v1/settlement-offers/%s/accept", a->positional[0]);
	return post_and_show(cli, path, body, show_plan);
}

int cmd_settle(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {{"accept", settle_accept}, {0}};
	struct cli_args a;
	if (argc > 0 && strcmp(argv[0], "accept") == 0)
		return cli_dispatch(cli, argc, argv, settle_options, verbs, "kept settle accept OFFER ...");
	return cli_parse(argc, argv, settle_options, &a) ? settle_offer(cli, &a) : CLI_USAGE;
}

/* ---- affordability --------------------------------------------------------------------------------- */

static void show_affordability(const cJSON *doc)
{
	char income[64], costs[64], weekly[64];
	money_format(cli_int(doc, "monthly_income_cents"), NULL, income, sizeof income);
	money_format(cli_int(doc, "monthly_expenditure_cents"), NULL, costs, sizeof costs);
	money_format(cli_int(doc, "weekly_disposable_cents"), NULL, weekly, sizeof weekly);
	printf("monthly income %s, expenditure %s; weekly disposable %s\n", income, costs, weekly);
}

/* "earnings=2100.00" into a line of `section`. */
static bool add_line(cJSON *section, const char *spec, const char *currency)
{
	const char *eq = strchr(spec, '=');
	long long minor;
	char category[64];
	if (!eq || (size_t)(eq - spec) >= sizeof category || !money_parse(eq + 1, currency, &minor)) {
		fprintf(stderr, "kept: lines are CATEGORY=AMOUNT, e.g. earnings=2100.00 (got %s)\n", spec);
		return false;
	}
	snprintf(category, sizeof category, "%.*s", (int)(eq - spec), spec);
	cJSON *line = cJSON_CreateObject();
	cJSON_AddStringToObject(line, "category", category);
	cJSON_AddNumberToObject(line, "monthly_cents", (double)minor);
	cJSON_AddItemToArray(section, line);
	return true;
}

int cmd_affordability(struct cli *cli, int argc, char **argv)
{
	static const char usage[] =
	        "kept affordability ACCOUNT [--income CAT=AMOUNT]... [--fixed CAT=AMOUNT]...\n"
	        "           [--flexible CAT=AMOUNT]...   (monthly; none: show the latest)";
	static const struct cli_option options[] = {
	        {"--income", true, true}, {"--fixed", true, true}, {"--flexible", true, true}, {0}};
	static const struct {
		const char *option, *field;
	} sections[] = {{"--income", "income"}, {"--fixed", "fixed_costs"}, {"--flexible", "flexible_costs"}};
	struct cli_args a;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1)
		return cli_usage(usage);
	char path[96], currency[8];
	snprintf(path, sizeof path, "/v1/accounts/%s", a.positional[0]);
	currency_of(cli, path, currency);
	snprintf(path, sizeof path, "/v1/accounts/%s/affordability", a.positional[0]);
	if (a.count == 0)
		return cli_get_and_show(cli, path, show_affordability);
	cJSON *body = cJSON_CreateObject();
	bool ok = true;
	for (size_t s = 0; s < 3; s++) {
		const char *lines[30];
		size_t n = cli_all(&a, sections[s].option, lines, 30);
		cJSON *section = cJSON_AddArrayToObject(body, sections[s].field);
		for (size_t i = 0; ok && i < n; i++)
			ok = add_line(section, lines[i], currency);
	}
	if (!ok) {
		cJSON_Delete(body);
		return CLI_USAGE;
	}
	return post_and_show(cli, path, body, show_affordability);
}
