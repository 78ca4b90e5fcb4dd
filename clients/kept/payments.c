/* kept pay | payments | reverse | escalations — money in and out, and the skilled queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* ---- shared ------------------------------------------------------------------------------ */

static int send(struct cli *cli, const struct client_call *call, cJSON *body, void (*show)(const cJSON *))
{
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	struct client_call c = *call;
	c.body = text;
	c.content_type = "application/json";
	cJSON *doc = NULL;
	int code = text ? cli_send(cli, &c, &doc) : CLI_FAILED;
	if (code == CLI_OK && !cli->json && show)
		show(doc);
	cJSON_Delete(doc);
	free(text);
	return code;
}

/* A random RFC 4122 version 4 UUID, for Idempotency-Key. */
static bool random_uuid(char out[37])
{
	unsigned char b[16];
	FILE *f = fopen("/dev/urandom", "rb");
	bool ok = f && fread(b, 1, sizeof b, f) == sizeof b;
	if (f)
		fclose(f);
	if (!ok)
		return false;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
	         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return true;
}

/* The account's overview (NULL, after saying why, when it cannot be read). */
static cJSON *overview_of(struct cli *cli, long long account, int *code)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/accounts/%lld/overview", account);
	struct cli quiet = *cli;
	quiet.json = false; /* the answer that matters is the payment's */
	cJSON *doc = NULL;
	*code = cli_call(&quiet, "GET", path, NULL, NULL, &doc);
	return doc;
}

/* ---- pay ------------------------------------------------------------------------------------ */

static void show_payment(const cJSON *p)
{
	const char *cur = cli_str(p, "currency");
	char amount[64], balance[64], when[64];
	money_format(cli_int(p, "amount_cents"), cur, amount, sizeof amount);
	time_format(cli_str(p, "received_at"), NULL, when, sizeof when);
	bool replayed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "replayed"));
	printf("payment %lld: %s on account %lld (%s %s) received %s, %s%s\n", cli_int(p, "id"), amount,
	       cli_int(p, "account_id"), cli_str(p, "source"), cli_str(p, "source_ref"), when,
	       cli_str(p, "status"),
	       replayed ? " - already posted with this key; nothing was posted again" : "");
	bool reversed = strcmp(cli_str(p, "status"), "reversed") == 0;
	const cJSON *a;
	cJSON_ArrayForEach (a, cJSON_GetObjectItemCaseSensitive(p, "allocations")) {
		money_format(cli_int(a, "amount_cents"), cur, amount, sizeof amount);
		if (reversed)
			printf("  %s taken back from installment %lld of plan %lld\n", amount,
			       cli_int(a, "seq"), cli_int(a, "plan_id"));
		else
			printf("  %s to installment %lld of plan %lld%s\n", amount, cli_int(a, "seq"),
			       cli_int(a, "plan_id"),
			       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "on_time")) ? " (on time)"
			                                                                    : "");
	}
	money_format(cli_int(p, "account_balance_cents"), cur, balance, sizeof balance);
	printf("account %lld now: balance %s, %s\n", cli_int(p, "account_id"), balance,
	       cli_str(p, "account_status"));
	if (cli_int(p, "written_off_cents") > 0) {
		money_format(cli_int(p, "written_off_cents"), cur, amount, sizeof amount);
		printf("  the settlement is paid: %s written off\n", amount);
	}
}

/* A timeout or a server error: worth sending again with the same key. */
static bool worth_retrying(const struct client_response *resp)
{
	return resp->status == 0 || resp->status >= 500;
}

/*
 * POSTs a payment, and again with the same Idempotency-Key after a timeout
 * or a server error: keptd posts a key once, so a retry whose first attempt
 * did land answers with that payment (replayed) rather than a second one.
 */
static int post_payment(struct cli *cli, const struct client_call *call, cJSON **doc)
{
	static const unsigned waits[] = {1, 2, 4};
	struct client_response resp = {0};
	for (size_t attempt = 0;; attempt++) {
		client_request(&cli->client, call, &resp);
		if (!worth_retrying(&resp) || attempt == sizeof waits / sizeof waits[0])
			break;
		if (resp.status)
			fprintf(stderr, "kept: kept answered %ld; sending again with the same key in %us\n",
			        resp.status, waits[attempt]);
		else
			fprintf(stderr, "kept: no answer (%s); sending again with the same key in %us\n",
			        resp.error, waits[attempt]);
		client_response_free(&resp);
		sleep(waits[attempt]);
	}
	int code = cli_answer(cli, &resp, doc);
	client_response_free(&resp);
	return code;
}

#define SAME_PAYMENT_WINDOW_S (10LL * 60LL)

/*
 * The same payment recorded on the account in the last ten minutes (among the
 * overview's last payments): the same amount from the same source, and the
 * same reference when one was given. Returns its id, or 0.
 */
static long long recent_same(const cJSON *overview, long long minor, const char *source, const char *ref,
                             long long *ago)
{
	const cJSON *p;
	cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(overview, "last_payments")) {
		long long age = cli_int(p, "seconds_since_recorded"); /* on kept's clock */
		if (age < 0 || age > SAME_PAYMENT_WINDOW_S || cli_int(p, "amount_cents") != minor ||
		    strcmp(cli_str(p, "source"), source) != 0 ||
		    strcmp(cli_str(p, "status"), "posted") != 0 ||
		    (ref && strcmp(cli_str(p, "source_ref"), ref) != 0))
			continue;
		*ago = age;
		return cli_int(p, "id");
	}
	return 0;
}

int cmd_pay(struct cli *cli, int argc, char **argv)
{
	static const char usage[] = "kept pay ACCOUNT --amount AMOUNT [--received-at TIME] [--source card]\n"
	                            "           [--ref SOURCE_REF] [--idempotency-key KEY] [--again]";
	static const struct cli_option options[] = {{"--amount", true, false},
	                                            {"--received-at", true, false},
	                                            {"--source", true, false},
	                                            {"--ref", true, false},
	                                            {"--idempotency-key", true, false},
	                                            {"--again", false, false},
	                                            {0}};
	struct cli_args a;
	char key[37];
	long long minor, account;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1 || !cli_has(&a, "--amount"))
		return cli_usage(usage);
	if (!cli_parse_int("ACCOUNT", a.positional[0], 1, 999999999999999LL, &account))
		return CLI_USAGE;
	int code;
	cJSON *overview = overview_of(cli, account, &code);
	if (code != CLI_OK)
		return code;
	char currency[8];
	snprintf(currency, sizeof currency, "%s",
	         cli_str(cJSON_GetObjectItemCaseSensitive(overview, "account"), "currency"));
	const char *source = cli_has(&a, "--source") ? cli_get(&a, "--source") : "agent";
	const char *given_key = cli_get(&a, "--idempotency-key");
	long long ago = 0, same = 0;
	bool amount_ok = money_parse(cli_get(&a, "--amount"), currency, &minor) && minor > 0;
	if (amount_ok && !given_key && !cli_has(&a, "--again"))
		same = recent_same(overview, minor, source, cli_get(&a, "--ref"), &ago);
	cJSON_Delete(overview);
	if (!amount_ok) {
		fprintf(stderr, "kept: --amount must be an amount like %s in %s\n", money_example(currency),
		        currency);
		return CLI_USAGE;
	}
	if (same) {
		char amount[64];
		money_format(minor, currency, amount, sizeof amount);
		long long n = ago < 60 ? ago : ago / 60;
		fprintf(stderr,
		        "kept: account %lld already got %s from %s %lld %s%s ago (payment %lld); nothing "
		        "posted.\n"
		        "kept: if this is another payment, run the command again with --again\n",
		        account, amount, source, n, ago < 60 ? "second" : "minute", n == 1 ? "" : "s", same);
		return CLI_REJECTED;
	}
	if (!given_key && !random_uuid(key))
		return CLI_FAILED;
	const char *idem = given_key ? given_key : key;
	if (!cli->json)
		fprintf(stderr, "kept: idempotency key %s (to retry safely: --idempotency-key %s)\n", idem,
		        idem);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddNumberToObject(body, "account_id", (double)account);
	cJSON_AddNumberToObject(body, "amount_cents", (double)minor);
	/* left out, keptd takes the moment it first posts it: running the same
	 * command again with the same --idempotency-key is then the same request */
	if (cli_has(&a, "--received-at"))
		cJSON_AddStringToObject(body, "received_at", cli_get(&a, "--received-at"));
	cJSON_AddStringToObject(body, "source", source);
	cJSON_AddStringToObject(body, "source_ref", cli_has(&a, "--ref") ? cli_get(&a, "--ref") : idem);
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	struct client_call call = {"POST", "/v1/payments", "application/json", text, NULL, idem};
	cJSON *doc = NULL;
	code = text ? post_payment(cli, &call, &doc) : CLI_FAILED;
	if (code == CLI_OK && !cli->json)
		show_payment(doc);
	cJSON_Delete(doc);
	free(text);
	return code;
}

static void show_payments(const cJSON *doc)
{
	static const char *const headers[] = {"PAYMENT", "RECEIVED", "AMOUNT",       "SOURCE",
	                                      "REF",     "STATUS",   "BALANCE AFTER"};
	struct table t;
	table_init(&t, 7, headers);
	const cJSON *p;
	cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
		char id[24], amount[64], balance[64], when[64];
		snprintf(id, sizeof id, "%lld", cli_int(p, "id"));
		time_format(cli_str(p, "received_at"), NULL, when, sizeof when);
		money_format(cli_int(p, "amount_cents"), cli_str(p, "currency"), amount, sizeof amount);
		money_format(cli_int(p, "balance_after_cents"), cli_str(p, "currency"), balance,
		             sizeof balance);
		const char *row[] = {id,
		                     when,
		                     amount,
		                     cli_str(p, "source"),
		                     cli_str(p, "source_ref"),
		                     cli_str(p, "status"),
		                     balance};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

int cmd_payments(struct cli *cli, int argc, char **argv)
{
	static const struct cli_option options[] = {{"--cursor", true, false}, {0}};
	struct cli_args a;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1)
		return cli_usage("kept payments ACCOUNT [--cursor C]");
	char path[256];
	snprintf(path, sizeof path, "/v1/accounts/%s/payments%s%s", a.positional[0],
	         cli_has(&a, "--cursor") ? "?cursor=" : "",
	         cli_has(&a, "--cursor") ? cli_get(&a, "--cursor") : "");
	return cli_get_and_show(cli, path, show_payments);
}

int cmd_reverse(struct cli *cli, int argc, char **argv)
{
	static const struct cli_option options[] = {{"--reason", true, false}, {0}};
	struct cli_args a;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1 || !cli_has(&a, "--reason"))
		return cli_usage("kept reverse PAYMENT --reason TEXT");
	char path[96];
	snprintf(path, sizeof path, "/v1/payments/%s/reversal", a.positional[0]);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "reason", cli_get(&a, "--reason"));
	struct client_call call = {"POST", path, NULL, NULL, NULL};
	return send(cli, &call, body, show_payment);
}

/* ---- escalations ------------------------------------------------------------------------------- */

static void show_escalations(const cJSON *doc)
{
	static const char *const headers[] = {"ESCALATION", "PRIORITY", "DUE BY",   "REASON",
	                                      "TEAM",       "ACCOUNT",  "ASSIGNED", "STATUS"};
	struct table t;
	table_init(&t, 8, headers);
	const cJSON *e;
	cJSON_ArrayForEach (e, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
		char id[24], prio[8], account[24], assigned[24], due[64];
		snprintf(id, sizeof id, "%lld", cli_int(e, "id"));
		time_format(cli_str(e, "due_by"), NULL, due, sizeof due);
		snprintf(prio, sizeof prio, "%lld", cli_int(e, "priority"));
		snprintf(account, sizeof account, "%lld", cli_int(e, "account_id"));
		snprintf(assigned, sizeof assigned, "%lld", cli_int(e, "assigned_to"));
		bool overdue = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "overdue"));
		const char *row[] = {id,
		                     prio,
		                     due,
		                     cli_str(e, "reason"),
		                     cli_str(e, "team"),
		                     account,
		                     cli_int(e, "assigned_to") ? assigned : NULL,
		                     overdue ? "OVERDUE" : cli_str(e, "status")};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void show_escalation(const cJSON *e)
{
	char due[64], when[64];
	time_format(cli_str(e, "due_by"), NULL, due, sizeof due);
	bool overdue = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "overdue"));
	printf("escalation %lld (%s, priority %lld, team %s) on account %lld: %s%s, due by %s\n",
	       cli_int(e, "id"), cli_str(e, "reason"), cli_int(e, "priority"), cli_str(e, "team"),
	       cli_int(e, "account_id"), cli_str(e, "status"), overdue ? " and OVERDUE" : "", due);
	if (cli_int(e, "plan_id"))
		printf("  plan %lld\n", cli_int(e, "plan_id"));
	if (cli_int(e, "payment_id"))
		printf("  payment %lld\n", cli_int(e, "payment_id"));
	if (*cli_str(e, "note"))
		printf("  note: %s\n", cli_str(e, "note"));
	time_format(cli_str(e, "created_at"), NULL, when, sizeof when);
	printf("  opened %s%s\n", when, cli_int(e, "created_by") ? "" : " by kept");
	if (cli_int(e, "assigned_to")) {
		time_format(cli_str(e, "assigned_at"), NULL, when, sizeof when);
		printf("  assigned to key %lld at %s\n", cli_int(e, "assigned_to"), when);
	}
	if (*cli_str(e, "resolved_at")) {
		time_format(cli_str(e, "resolved_at"), NULL, when, sizeof when);
		printf("  resolved at %s: %s\n", when, cli_str(e, "resolution_note"));
	}
}

static const struct cli_option escalation_options[] = {
        {"--status", true, false},
        {"--reason", true, false},
        {"--team", true, false},
        {"--account", true, false},
        {"--overdue", false, false},
        {"--assigned-to", true, false},
        {"--cursor", true, false},
        {"--note", true, false},
        {"--priority", true, false},
        {"--to", true, false},
        {0},
};

static int escalations_list(struct cli *cli, const struct cli_args *a)
{
	static const struct {
		const char *option, *param;
	} filters[] = {{"--status", "status"},      {"--reason", "reason"},           {"--team", "team"},
	               {"--account", "account_id"}, {"--assigned-to", "assigned_to"}, {"--cursor", "cursor"}};
	char path[1024] = "/v1/escalations?";
	for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
		char *value =
		        cli_has(a, filters[i].option) ? client_escape(cli_get(a, filters[i].option)) : NULL;
		size_t n = strlen(path);
		if (value)
			snprintf(path + n, sizeof path - n, "%s=%s&", filters[i].param, value);
		free(value);
	}
	if (cli_has(a, "--overdue"))
		strncat(path, "overdue=true&", sizeof path - strlen(path) - 1);
	path[strlen(path) - 1] = '\0';
	return cli_get_and_show(cli, path, show_escalations);
}

static int escalations_open(struct cli *cli, const struct cli_args *a)
{
	char *end = NULL;
	long long account = a->npositional == 1 ? strtoll(a->positional[0], &end, 10) : 0;
	if (account <= 0 || *end || !cli_has(a, "--reason"))
		return cli_usage(
		        "kept escalations open ACCOUNT --reason REASON [--note TEXT] [--priority 1-5]");
	long long priority = 0;
	if (cli_has(a, "--priority") &&
	    !cli_parse_int("--priority", cli_get(a, "--priority"), 1, 5, &priority))
		return CLI_USAGE;
	cJSON *body = cJSON_CreateObject();
	cJSON_AddNumberToObject(body, "account_id", (double)account);
	cJSON_AddStringToObject(body, "reason", cli_get(a, "--reason"));
	if (cli_has(a, "--note"))
		cJSON_AddStringToObject(body, "note", cli_get(a, "--note"));
	if (priority)
		cJSON_AddNumberToObject(body, "priority", (double)priority);
	struct client_call call = {"POST", "/v1/escalations", NULL, NULL, NULL};
	return send(cli, &call, body, show_escalation);
}

static int escalations_act(struct cli *cli, const struct cli_args *a, const char *verb)
{
	if (a->npositional != 1)
		return cli_usage("kept escalations assign ID [--to KEY_ID] | resolve ID --note TEXT");
	long long to = 0;
	if (cli_has(a, "--to") && !cli_parse_int("--to", cli_get(a, "--to"), 1, 999999999999999LL, &to))
		return CLI_USAGE;
	char path[96];
	snprintf(path, sizeof path, "/v1/escalations/%s/%s", a->positional[0], verb);
	cJSON *body = cJSON_CreateObject();
	if (to)
		cJSON_AddNumberToObject(body, "assignee_key_id", (double)to);
	if (cli_has(a, "--note"))
		cJSON_AddStringToObject(body, "note", cli_get(a, "--note"));
	struct client_call call = {"POST", path, NULL, NULL, NULL};
	return send(cli, &call, body, show_escalation);
}

static int escalations_show(struct cli *cli, const struct cli_args *a)
{
	long long id;
	if (a->npositional != 1 || a->count)
		return cli_usage("kept escalations show ID");
	if (!cli_parse_int("ESCALATION", a->positional[0], 1, 999999999999999LL, &id))
		return CLI_USAGE;
	char path[96];
	snprintf(path, sizeof path, "/v1/escalations/%lld", id);
	return cli_get_and_show(cli, path, show_escalation);
}

static int escalations_assign(struct cli *cli, const struct cli_args *a)
{
	return escalations_act(cli, a, "assign");
}

static int escalations_resolve(struct cli *cli, const struct cli_args *a)
{
	return escalations_act(cli, a, "resolve");
}

int cmd_escalations(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {
	        {"list", escalations_list},     {"show", escalations_show},       {"open", escalations_open},
	        {"assign", escalations_assign}, {"resolve", escalations_resolve}, {0}};
	if (argc == 0 || strncmp(argv[0], "--", 2) == 0) {
		struct cli_args a;
		return cli_parse(argc, argv, escalation_options, &a) ? escalations_list(cli, &a) : CLI_USAGE;
	}
	return cli_dispatch(
	        cli, argc, argv, escalation_options, verbs,
	        "kept escalations [list] [--status S] [--reason R] [--team T] [--account A] [--overdue]\n"
	        "       kept escalations show ID | open ACCOUNT --reason R | assign ID [--to KEY] | resolve "
	        "ID "
	        "--note N");
}
