/*
 * kept — the agents' command-line client for kept's API.
 *
 *   kept [--json] customers create|show|update ...
 *   kept [--json] propose | plan | reviews | settle | affordability ...
 *   kept [--json] accounts create|show|list ...
 *   kept [--json] pay | payments | reverse | escalations ...
 *   kept [--json] calls ACCOUNT | contact log|list ACCOUNT ...
 *   kept [--json] link ACCOUNT [--sms] | link revoke LINK
 *   kept [--json] import accounts|payments|history FILE [--progress]
 *   kept [--json] keys create|list|revoke ...
 *   kept [--json] users list|create|activate|deactivate ...
 *   kept [--json] find TEXT | account ID | policies | report NAME ...
 *   kept help [COMMAND]; kept COMMAND ... --help
 *
 * KEPT_URL (default http://127.0.0.1:8080) and KEPT_API_KEY say where and as
 * whom. Exit codes are listed in cli.h and README.md.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "help.h"

static const struct {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
} commands[] = {
        {"customers", cmd_customers},
        {"accounts", cmd_accounts},
        {"import", cmd_import},
        {"keys", cmd_keys},
        {"users", cmd_users},
        {"affordability", cmd_affordability},
        {"propose", cmd_propose},
        {"plan", cmd_plan},
        {"reviews", cmd_reviews},
        {"settle", cmd_settle},
        {"pay", cmd_pay},
        {"payments", cmd_payments},
        {"reverse", cmd_reverse},
        {"escalations", cmd_escalations},
        {"find", cmd_find},
        {"account", cmd_account},
        {"policies", cmd_policies},
        {"report", cmd_report},
        {"calls", cmd_calls},
        {"contact", cmd_contact},
        {"link", cmd_link},
};

static bool asks_for_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct cli cli = {{NULL, NULL, 0}, false, 0, NULL};
	int i = 1;
	if (i < argc && strcmp(argv[i], "--json") == 0) {
		cli.json = true;
		i++;
	}
	if (i >= argc) {
		help_overview(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			help_overview(stdout);
			return CLI_OK;
		}
		if (help_command(argv[i + 1], stdout))
			return CLI_OK;
		fprintf(stderr, "kept: there is no command %s\n", argv[i + 1]);
		help_overview(stderr);
		return CLI_USAGE;
	}
	if (asks_for_help(argc - i - 1, argv + i + 1) && help_command(argv[i], stdout))
		return CLI_OK;
	const char *url = getenv("KEPT_URL");
	char base[512];
	snprintf(base, sizeof base, "%s", url && *url ? url : "http://127.0.0.1:8080");
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	cli.client.base_url = base;
	cli.client.api_key = getenv("KEPT_API_KEY");
	const char *timeout = getenv("KEPT_TIMEOUT");
	long long seconds = 0;
	if (timeout && *timeout && !cli_parse_int("KEPT_TIMEOUT", timeout, 1, 3600, &seconds))
		return CLI_USAGE;
	cli.client.timeout_s = (long)seconds;
	cli.argc = argc - i;
	cli.argv = argv + i;
	for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return CLI_FAILED;
		int code = commands[c].run(&cli, argc - i - 1, argv + i + 1);
		curl_global_cleanup();
		return code;
	}
	fprintf(stderr, "kept: unknown command %s\n", argv[i]);
	help_overview(stderr);
	return CLI_USAGE;
}
