/*
 * kept — the agents' command-line client for kept's API.
 *
 *   kept [--json] customers create|show|update ...
 *   kept [--json] propose | plan | reviews | settle | affordability ...
 *   kept [--json] accounts create|show|list ...
 *   kept [--json] pay | payments | reverse | escalations ...
 *   kept [--json] calls ACCOUNT | contact log|list ACCOUNT ...
 *   kept [--json] import accounts|payments FILE.csv [--progress]
 *   kept [--json] keys create|list|revoke ...
 *
 * KEPT_URL (default http://127.0.0.1:8080) and KEPT_API_KEY say where and as
 * whom. Exit codes are listed in cli.h and README.md.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
        "usage: kept [--json] COMMAND ...\n"
        "  customers create|show|update          debtors: phones with consent, time zone, restrictions\n"
        "  accounts create|show|list             debts, balances in the currency's units\n"
        "  affordability ACCOUNT ...             income and expenditure (Standard Financial Statement)\n"
        "  propose ACCOUNT ...                   how much can you afford each week? - evaluation, schedule\n"
        "  plan create|show|list|approve|cancel  weekly commitments; a second associate approves\n"
        "  reviews [list] | uphold|correct ID    the supervisors' review queue\n"
        "  settle ACCOUNT --offer X | settle accept OFFER ...   what would be fair?\n"
        "  pay ACCOUNT --amount X ...            record a payment (retries never post twice)\n"
        "  payments ACCOUNT | reverse PAYMENT    an account's payments; a returned payment\n"
        "  escalations [list|show|open|assign|resolve]   the skilled queue\n"
        "  calls ACCOUNT                         reminder calls: which rule held or blocked each, and when "
        "it may go\n"
        "  contact log|list ACCOUNT ...          an agent's or the customer's calls, letters, emails\n"
        "  import accounts|payments FILE.csv     bulk load accounts, or a processor's payment file (admin)\n"
        "  keys create|list|revoke               API keys (admin)\n"
        "environment: KEPT_URL (default http://127.0.0.1:8080), KEPT_API_KEY\n"
        "exit codes: 0 ok, 2 usage, 3 not found, 4 rejected, 5 not allowed, 6 unavailable\n";

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} commands[] = {
        {"customers", cmd_customers},
        {"accounts", cmd_accounts},
        {"import", cmd_import},
        {"keys", cmd_keys},
        {"affordability", cmd_affordability},
        {"propose", cmd_propose},
        {"plan", cmd_plan},
        {"reviews", cmd_reviews},
        {"settle", cmd_settle},
        {"pay", cmd_pay},
        {"payments", cmd_payments},
        {"reverse", cmd_reverse},
        {"escalations", cmd_escalations},
        {"calls", cmd_calls},
        {"contact", cmd_contact},
};

int main(int argc, char **argv)
{
	struct cli cli = {{NULL, NULL}, false};
	int i = 1;
	if (i < argc && strcmp(argv[i], "--json") == 0) {
		cli.json = true;
		i++;
	}
	if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "help") == 0) {
		fputs(usage, i >= argc ? stderr : stdout);
		return i >= argc ? CLI_USAGE : CLI_OK;
	}
	const char *url = getenv("KEPT_URL");
	char base[512];
	snprintf(base, sizeof base, "%s", url && *url ? url : "http://127.0.0.1:8080");
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	cli.client.base_url = base;
	cli.client.api_key = getenv("KEPT_API_KEY");
	for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return CLI_FAILED;
		int code = commands[c].run(&cli, argc - i - 1, argv + i + 1);
		curl_global_cleanup();
		return code;
	}
	fprintf(stderr, "kept: unknown command %s\n%s", argv[i], usage);
	return CLI_USAGE;
}
