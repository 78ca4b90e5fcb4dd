/* kept link — the customer's personal link to the self-service page: make one
 * (shown once; optionally texted), or revoke one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void show_link(const cJSON *doc)
{
	char expires[64];
	time_format(cli_str(doc, "expires_at"), NULL, expires, sizeof expires);
	const char *url = cli_str(doc, "url");
	if (*url)
		printf("%s\n", url);
	printf("link %lld for account %lld: %s, expires %s\n", cli_int(doc, "id"), cli_int(doc, "account_id"),
	       cli_str(doc, "status"), expires);
	if (*url)
		printf("the link is shown now and never again: give it to the customer only\n");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
	if (cJSON_IsObject(m)) {
		const char *rule = cli_str(m, "rule"), *decision = cli_str(m, "decision");
		printf("text %lld to ****%s: %s%s%s\n", cli_int(m, "id"), cli_str(m, "number_last4"),
		       cli_str(m, "state"), *rule ? ", " : "", rule);
		if (*decision)
			printf("  %s\n", decision);
	}
}

/* POSTs `body` (consumed) to `path` and shows the link it answers. */
static int post_link(struct cli *cli, const char *path, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	cJSON *doc = NULL;
	int code = text ? cli_call(cli, "POST", path, "application/json", text, &doc) : CLI_FAILED;
	if (code == CLI_OK && !cli->json)
		show_link(doc);
	cJSON_Delete(doc);
	free(text);
	return code;
}

static int link_revoke(struct cli *cli, int argc, char **argv)
{
	static const struct cli_option options[] = {{"--reason", true, false}, {0}};
	struct cli_args a;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1)
		return cli_usage("kept link revoke LINK [--reason TEXT]");
	long long id;
	if (!cli_parse_int("LINK", a.positional[0], 1, 999999999999999LL, &id))
		return CLI_USAGE;
	cJSON *body = cJSON_CreateObject();
	if (body && cli_has(&a, "--reason"))
		cJSON_AddStringToObject(body, "reason", cli_get(&a, "--reason"));
	char path[96];
	snprintf(path, sizeof path, "/v1/self-service-links/%lld/revoke", id);
	return post_link(cli, path, body);
}

int cmd_link(struct cli *cli, int argc, char **argv)
{
	if (argc > 0 && strcmp(argv[0], "revoke") == 0)
		return link_revoke(cli, argc - 1, argv + 1);
	static const struct cli_option options[] = {{"--sms", false, false},
	                                            {"--number", true, false},
	                                            {"--days", true, false},
	                                            {"--language", true, false},
	                                            {0}};
	struct cli_args a;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1)
		return cli_usage("kept link ACCOUNT [--sms [--number E164]] [--days N] [--language en|es]");
	long long account, days = 0;
	if (!cli_parse_int("ACCOUNT", a.positional[0], 1, 999999999999999LL, &account) ||
	    (cli_has(&a, "--days") && !cli_parse_int("--days", cli_get(&a, "--days"), 1, 30, &days)))
		return CLI_USAGE;
	cJSON *body = cJSON_CreateObject();
	if (body && cli_has(&a, "--sms"))
		cJSON_AddStringToObject(body, "send", "sms");
	if (body && cli_has(&a, "--number"))
		cJSON_AddStringToObject(body, "number", cli_get(&a, "--number"));
	if (body && days)
		cJSON_AddNumberToObject(body, "expires_in_days", (double)days);
	if (body && cli_has(&a, "--language"))
		cJSON_AddStringToObject(body, "language", cli_get(&a, "--language"));
	char path[96];
	snprintf(path, sizeof path, "/v1/accounts/%lld/self-service-links", account);
	return post_link(cli, path, body);
}
