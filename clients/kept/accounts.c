/* kept accounts create|show|list */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_create[] =
        "kept accounts create --customer ID --external-ref REF --creditor NAME --currency CODE\n"
        "           --balance AMOUNT [--current-balance AMOUNT] [--placed-on DATE]\n"
        "  AMOUNT in the currency's units, e.g. 1250.00 (USD) or 1250 (JPY)";
static const char usage_list[] =
        "kept accounts list [--customer ID] [--external-ref REF] [--limit N] [--cursor C] [--all]";

static const struct cli_option options[] = {
        {"--customer", true, false},
        {"--external-ref", true, false},
        {"--creditor", true, false},
        {"--currency", true, false},
        {"--balance", true, false},
        {"--current-balance", true, false},
        {"--placed-on", true, false},
        {"--limit", true, false},
        {"--cursor", true, false},
        {"--all", false, false},
        {0},
};

static void money_cell(const cJSON *a, const char *field, char *out, size_t size)
{
	money_format(cli_int(a, field), cli_str(a, "currency"), out, size);
}

static void print_account(const cJSON *a)
{
	char money[64];
	printf("%-16s %lld\n", "id", cli_int(a, "id"));
	printf("%-16s %lld\n", "customer", cli_int(a, "customer_id"));
	printf("%-16s %s\n", "external ref", cli_str(a, "external_ref"));
	printf("%-16s %s\n", "creditor", cli_str(a, "creditor"));
	money_cell(a, "balance_cents", money, sizeof money);
	printf("%-16s %s\n", "balance", money);
	money_cell(a, "original_balance_cents", money, sizeof money);
	printf("%-16s %s\n", "original balance", money);
	printf("%-16s %s\n", "status", cli_str(a, "status"));
	printf("%-16s %s\n", "placed on", cli_str(a, "placed_on"));
}

/* Converts --balance/--current-balance into cents fields of `body`. */
static bool add_amount(cJSON *body, const struct cli_args *a, const char *option, const char *field)
{
	const char *text = cli_get(a, option);
	long long minor;
	if (!text)
		return true;
	if (!money_parse(text, cli_get(a, "--currency"), &minor)) {
		fprintf(stderr, "kept: %s must be an amount like %s in %s\n", option,
		        money_example(cli_get(a, "--currency")), cli_get(a, "--currency"));
		return false;
	}
	cJSON_AddNumberToObject(body, field, (double)minor);
	return true;
}

static int create(struct cli *cli, const struct cli_args *a)
{
	const char *customer = cli_get(a, "--customer");
	char *end = NULL;
	long long customer_id = customer ? strtoll(customer, &end, 10) : 0;
	if (a->npositional || !customer || *end || !cli_has(a, "--external-ref") ||
	    !cli_has(a, "--creditor") || !cli_has(a, "--currency") || !cli_has(a, "--balance"))
		return cli_usage(usage_create);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddNumberToObject(body, "customer_id", (double)customer_id);
	cJSON_AddStringToObject(body, "external_ref", cli_get(a, "--external-ref"));
	cJSON_AddStringToObject(body, "creditor", cli_get(a, "--creditor"));
	cJSON_AddStringToObject(body, "currency", cli_get(a, "--currency"));
	if (cli_has(a, "--placed-on"))
		cJSON_AddStringToObject(body, "placed_on", cli_get(a, "--placed-on"));
	bool ok = add_amount(body, a, "--balance", "original_balance_cents") &&
	          add_amount(body, a, "--current-balance", "balance_cents");
	char *text = ok ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	if (!ok)
		return CLI_USAGE;
	cJSON *doc = NULL;
	int code = cli_call(cli, "POST", "/v1/accounts", "application/json", text, &doc);
	if (code == CLI_OK && !cli->json)
		print_account(doc);
	cJSON_Delete(doc);
	free(text);
	return code;
}

static int show(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1 || a->count)
		return cli_usage("kept accounts show ID");
	char path[96];
	snprintf(path, sizeof path, "/v1/accounts/%s", a->positional[0]);
	return cli_get_and_show(cli, path, print_account);
}

/* Adds one page's rows to the table. */
static void add_rows(struct table *t, const cJSON *items)
{
	const cJSON *a;
	cJSON_ArrayForEach (a, items) {
		char id[24], customer[24], balance[64];
		snprintf(id, sizeof id, "%lld", cli_int(a, "id"));
		snprintf(customer, sizeof customer, "%lld", cli_int(a, "customer_id"));
		money_cell(a, "balance_cents", balance, sizeof balance);
		const char *row[] = {id,
		                     customer,
		                     cli_str(a, "external_ref"),
		                     cli_str(a, "creditor"),
		                     balance,
		                     cli_str(a, "status"),
		                     cli_str(a, "placed_on")};
		table_add(t, row);
	}
}

/* The query string for one page; malloc'd. */
static char *page_path(const struct cli_args *a, const char *cursor)
{
	static const struct {
		const char *option, *param;
	} params[] = {
	        {"--customer", "customer_id"}, {"--external-ref", "external_ref"}, {"--limit", "limit"}};
	size_t size = 1024;
	char *path = malloc(size);
	if (!path)
		return NULL;
	snprintf(path, size, "/v1/accounts?");
	for (size_t i = 0; i < sizeof params / sizeof params[0] + 1; i++) {
		const char *name = i < 3 ? params[i].param : "cursor";
		const char *value = i < 3 ? cli_get(a, params[i].option) : cursor;
		char *escaped = value ? client_escape(value) : NULL;
		if (escaped) {
			size_t n = strlen(path);
			snprintf(path + n, size - n, "%s=%s&", name, escaped);
		}
		free(escaped);
	}
	path[strlen(path) - 1] = '\0';
	return path;
}

static int list(struct cli *cli, const struct cli_args *a)
{
	static const char *const headers[] = {"ID",      "CUSTOMER", "EXTERNAL REF", "CREDITOR",
	                                      "BALANCE", "STATUS",   "PLACED ON"};
	if (a->npositional || (cli->json && cli_has(a, "--all")))
		return cli_usage(usage_list);
	struct table t;
	table_init(&t, 7, headers);
	char *cursor = cli_has(a, "--cursor") ? strdup(cli_get(a, "--cursor")) : NULL;
	int code = CLI_OK;
	do {
		char *path = page_path(a, cursor);
		cJSON *doc = NULL;
		code = path ? cli_call(cli, "GET", path, NULL, NULL, &doc) : CLI_FAILED;
		free(path);
		free(cursor);
		cursor = NULL;
		if (code == CLI_OK) {
			add_rows(&t, cJSON_GetObjectItemCaseSensitive(doc, "items"));
			const char *next = cli_str(doc, "next_cursor");
			cursor = *next && cli_has(a, "--all") ? strdup(next) : NULL;
			if (!cli_has(a, "--all"))
				cli_more(cli, next);
		}
		cJSON_Delete(doc);
	} while (code == CLI_OK && cursor);
	if (code == CLI_OK && !cli->json)
		table_print(&t, stdout);
	table_free(&t);
	return code;
}

int cmd_accounts(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {{"create", create}, {"show", show}, {"list", list}, {0}};
	return cli_dispatch(cli, argc, argv, options, verbs, "kept accounts create|show|list ...");
}
