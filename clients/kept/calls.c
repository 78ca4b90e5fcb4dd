/* kept calls | contact — an account's reminder calls with the rule that held
 * or blocked each, in plain words, and the contacts agents log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- kept calls ACCOUNT ---------------------------------------------------------------- */

/* When: dialled at, or when a held call may go (this machine's zone, to the second). */
static const char *call_when(const cJSON *c, char *out, size_t size)
{
	const char *dialed = cli_str(c, "dialed_at"), *next = cli_str(c, "next_attempt_at");
	char at[64];
	time_format(*dialed ? dialed : next, NULL, at, sizeof at);
	if (*dialed)
		snprintf(out, size, "dialled %s", at);
	else if (*next)
		snprintf(out, size, "may go %s", at);
	else
		snprintf(out, size, "never");
	return out;
}

static void show_calls(const cJSON *doc)
{
	static const char *const headers[] = {"CALL",  "INSTALLMENT", "PURPOSE", "NUMBER",
	                                      "STATE", "RULE",        "WHEN"};
	struct table t;
	table_init(&t, 7, headers);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items"), *c;
	cJSON_ArrayForEach (c, items) {
		char id[24], seq[16], number[16], when[96];
		snprintf(id, sizeof id, "%lld", cli_int(c, "id"));
		snprintf(seq, sizeof seq, "%lld", cli_int(c, "seq"));
		snprintf(number, sizeof number, "****%s", cli_str(c, "number_last4"));
		const char *rule = cli_str(c, "rule");
		const char *cells[] = {id,
		                       seq,
		                       cli_str(c, "purpose"),
		                       number,
		                       cli_str(c, "state"),
		                       *rule ? rule : NULL,
		                       call_when(c, when, sizeof when)};
		table_add(&t, cells);
	}
	table_print(&t, stdout);
	table_free(&t);
	cJSON_ArrayForEach (c, items) {
		const char *decision = cli_str(c, "decision"), *excluded = cli_str(c, "excluded");
		if (*decision)
			printf("call %lld: %s\n", cli_int(c, "id"), decision);
		if (*excluded)
			printf("call %lld: excluded from Regulation F's counts: %s\n", cli_int(c, "id"),
			       excluded);
	}
}

int cmd_calls(struct cli *cli, int argc, char **argv)
{
	static const struct cli_option options[] = {{"--cursor", true, false}, {0}};
	struct cli_args a;
	if (!cli_parse(argc, argv, options, &a) || a.npositional != 1)
		return cli_usage("kept calls ACCOUNT [--cursor C]");
	char path[256];
	snprintf(path, sizeof path, "/v1/calls?account_id=%s%s%s", a.positional[0],
	         cli_has(&a, "--cursor") ? "&cursor=" : "",
	         cli_has(&a, "--cursor") ? cli_get(&a, "--cursor") : "");
	return cli_get_and_show(cli, path, show_calls);
}

/* ---- kept contact log|list ACCOUNT --------------------------------------------------------------- */

static const char usage_contact[] =
        "kept contact log ACCOUNT --channel phone|sms|email|letter|in_person|web --direction "
        "inbound|outbound\n"
        "           --outcome conversation|no_answer|left_message|wrong_party|refused [--number E164]\n"
        "           [--at TIME] [--note TEXT]\n"
        "kept contact list ACCOUNT [--cursor C]";

static const struct cli_option contact_options[] = {
        {"--channel", true, false}, {"--direction", true, false},
        {"--outcome", true, false}, {"--number", true, false},
        {"--at", true, false},      {"--note", true, false},
        {"--cursor", true, false},  {0},
};

static void show_contact(const cJSON *t)
{
	char when[64];
	time_format(cli_str(t, "occurred_at"), NULL, when, sizeof when);
	printf("contact %lld logged: %s %s %s, %s\n", cli_int(t, "id"), cli_str(t, "direction"),
	       cli_str(t, "channel"), cli_str(t, "outcome"), when);
	printf("counts as %s\n", cli_str(t, "counts_as"));
}

static int contact_log(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 2 || !cli_has(a, "--channel") || !cli_has(a, "--direction") ||
	    !cli_has(a, "--outcome"))
		return cli_usage(usage_contact);
	static const struct {
		const char *option, *field;
	} fields[] = {{"--channel", "channel"}, {"--direction", "direction"}, {"--outcome", "outcome"},
	              {"--number", "number"},   {"--at", "occurred_at"},      {"--note", "note"}};
	cJSON *body = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (cli_has(a, fields[i].option))
			cJSON_AddStringToObject(body, fields[i].field, cli_get(a, fields[i].option));
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	char path[96];
	snprintf(path, sizeof path, "/v1/accounts/%s/contacts", a->positional[1]);
	cJSON *doc = NULL;
	int code = text ? cli_call(cli, "POST", path, "application/json", text, &doc) : CLI_FAILED;
	if (code == CLI_OK && !cli->json)
		show_contact(doc);
	cJSON_Delete(doc);
	free(text);
	return code;
}

static void show_contacts(const cJSON *doc)
{
	static const char *const headers[] = {"CONTACT", "WHEN",   "CHANNEL",  "DIRECTION",
	                                      "OUTCOME", "SOURCE", "COUNTS AS"};
	struct table t;
	table_init(&t, 7, headers);
	const cJSON *c;
	cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
		char id[24], when[64];
		snprintf(id, sizeof id, "%lld", cli_int(c, "id"));
		time_format(cli_str(c, "occurred_at"), NULL, when, sizeof when);
		const char *direction = cli_str(c, "direction");
		const char *cells[] = {id,
		                       when,
		                       cli_str(c, "channel"),
		                       *direction ? direction : NULL,
		                       cli_str(c, "outcome"),
		                       cli_str(c, "source"),
		                       cli_str(c, "counts_as")};
		table_add(&t, cells);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static int contact_list(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 2)
		return cli_usage(usage_contact);
	char path[256];
	snprintf(path, sizeof path, "/v1/accounts/%s/contacts%s%s", a->positional[1],
	         cli_has(a, "--cursor") ? "?cursor=" : "",
	         cli_has(a, "--cursor") ? cli_get(a, "--cursor") : "");
	return cli_get_and_show(cli, path, show_contacts);
}

int cmd_contact(struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	if (!cli_parse(argc, argv, contact_options, &a) || a.npositional < 1)
		return cli_usage(usage_contact);
	if (strcmp(a.positional[0], "log") == 0)
		return contact_log(cli, &a);
	if (strcmp(a.positional[0], "list") == 0)
		return contact_list(cli, &a);
	return cli_usage(usage_contact);
}
