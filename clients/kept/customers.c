/* kept customers create|show|update */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_create[] =
        "kept customers create --external-ref REF --name NAME --time-zone ZONE --jurisdiction CODE\n"
        "           [--language TAG] [--phone NUMBER[:consent][:mobile|home|work]]... [RESTRICTION "
        "yes|no]...";
static const char usage_update[] =
        "kept customers update ID [--name NAME] [--time-zone ZONE] [--jurisdiction CODE]\n"
        "           [--language TAG] [--phone NUMBER[:consent][:mobile|home|work]]... [RESTRICTION "
        "yes|no]...\n"
        "           [--moratorium-until DATE|none] [--if-version N]\n"
        "  RESTRICTION: --cease-communication --attorney-represented --bankruptcy\n"
        "               --dispute-open --vulnerable";

static const struct cli_option options[] = {
        {"--external-ref", true, false},
        {"--name", true, false},
        {"--time-zone", true, false},
        {"--jurisdiction", true, false},
        {"--language", true, false},
        {"--phone", true, true},
        {"--cease-communication", true, false},
        {"--attorney-represented", true, false},
        {"--bankruptcy", true, false},
        {"--dispute-open", true, false},
        {"--vulnerable", true, false},
        {"--moratorium-until", true, false},
        {"--if-version", true, false},
        {0},
};

static const struct {
	const char *option;
	const char *field;
} restrictions[] = {
        {"--cease-communication", "cease_communication"},
        {"--attorney-represented", "attorney_represented"},
        {"--bankruptcy", "bankruptcy"},
        {"--dispute-open", "dispute_open"},
        {"--vulnerable", "vulnerable"},
};

/* ---- building the request ----------------------------------------------------------- */

/* The ":consent" and ":mobile|home|work" after a number, in either order. */
static bool phone_flags(const char *flags, bool *consent, const char **type)
{
	static const char *const types[] = {"mobile", "home", "work"};
	*consent = false;
	*type = NULL;
	while (*flags == ':') {
		flags++;
		size_t n = strcspn(flags, ":");
		bool known = n == 7 && strncmp(flags, "consent", 7) == 0;
		*consent |= known;
		for (size_t t = 0; t < 3 && !known; t++)
			if (strlen(types[t]) == n && strncmp(flags, types[t], n) == 0) {
				*type = types[t];
				known = true;
			}
		if (!known)
			return false;
		flags += n;
	}
	return *flags == '\0';
}

/* "+14155550123", with ":consent" (consent to automated calls) and/or a type ":mobile", ":home", ":work". */
static bool add_phones(cJSON *body, const struct cli_args *a)
{
	const char *values[10];
	size_t n = cli_all(a, "--phone", values, 10);
	if (n == 0)
		return true;
	cJSON *phones = cJSON_AddArrayToObject(body, "phones");
	for (size_t i = 0; i < n; i++) {
		char number[32];
		const char *colon = strchr(values[i], ':');
		size_t len = colon ? (size_t)(colon - values[i]) : strlen(values[i]);
		bool consent;
		const char *type;
		if (len >= sizeof number || !phone_flags(values[i] + len, &consent, &type)) {
			fprintf(stderr, "kept: --phone takes NUMBER[:consent][:mobile|home|work], not %s\n",
			        values[i]);
			return false;
		}
		memcpy(number, values[i], len);
		number[len] = '\0';
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "number", number);
		cJSON_AddBoolToObject(p, "consent_automated", consent);
		if (type)
			cJSON_AddStringToObject(p, "type", type);
		cJSON_AddItemToArray(phones, p);
	}
	return true;
}

static bool add_restrictions(cJSON *body, const struct cli_args *a)
{
	cJSON *r = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof restrictions / sizeof restrictions[0]; i++) {
		const char *v = cli_get(a, restrictions[i].option);
		bool on;
		if (!v)
			continue;
		if (!cli_parse_bool(v, &on)) {
			fprintf(stderr, "kept: %s takes yes or no\n", restrictions[i].option);
			cJSON_Delete(r);
			return false;
		}
		cJSON_AddBoolToObject(r, restrictions[i].field, on);
	}
	const char *until = cli_get(a, "--moratorium-until");
	if (until && strcmp(until, "none") == 0)
		cJSON_AddNullToObject(r, "moratorium_until");
	else if (until)
		cJSON_AddStringToObject(r, "moratorium_until", until);
	if (r->child)
		cJSON_AddItemToObject(body, "contact_restrictions", r);
	else
		cJSON_Delete(r);
	return true;
}

static cJSON *build_body(const struct cli_args *a, bool create)
{
	static const struct {
		const char *option, *field;
	} plain[] = {{"--external-ref", "external_ref"},
	             {"--name", "name"},
	             {"--time-zone", "time_zone"},
	             {"--jurisdiction", "jurisdiction"},
	             {"--language", "language"}};
	cJSON *body = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		const char *v = cli_get(a, plain[i].option);
		if (v && (create || i > 0))
			cJSON_AddStringToObject(body, plain[i].field, v);
	}
	if (!add_phones(body, a) || !add_restrictions(body, a)) {
		cJSON_Delete(body);
		return NULL;
	}
	return body;
}

/* ---- showing a customer ------------------------------------------------------------------- */

static void print_restrictions(const cJSON *r)
{
	char line[512] = "";
	for (size_t i = 0; i < sizeof restrictions / sizeof restrictions[0]; i++) {
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, restrictions[i].field)))
			continue;
		size_t n = strlen(line);
		snprintf(line + n, sizeof line - n, "%s%s", n ? ", " : "", restrictions[i].option + 2);
	}
	const char *until = cli_str(r, "moratorium_until");
	if (*until) {
		size_t n = strlen(line);
		snprintf(line + n, sizeof line - n, "%smoratorium until %s", n ? ", " : "", until);
	}
	printf("%-14s %s\n", "restrictions", *line ? line : "none");
}

static void print_customer(const cJSON *c)
{
	printf("%-14s %lld\n", "id", cli_int(c, "id"));
	printf("%-14s %s\n", "external ref", cli_str(c, "external_ref"));
	printf("%-14s %s\n", "name", cli_str(c, "name"));
	printf("%-14s %s\n", "time zone", cli_str(c, "time_zone"));
	printf("%-14s %s\n", "jurisdiction", cli_str(c, "jurisdiction"));
	printf("%-14s %s\n", "language", cli_str(c, "language"));
	const cJSON *phones = cJSON_GetObjectItemCaseSensitive(c, "phones");
	const cJSON *p;
	bool first = true;
	cJSON_ArrayForEach (p, phones) {
		printf("%-14s %s  %s  automated calls: %s%s\n", first ? "phones" : "", cli_str(p, "number"),
		       cli_str(p, "type"),
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "consent_automated")) ? "yes" : "no",
		       *cli_str(p, "wrong_party_at") ? " (reached someone else)" : "");
		first = false;
	}
	if (first)
		printf("%-14s %s\n", "phones", "none");
	const cJSON *z;
	char zones[512] = "";
	cJSON_ArrayForEach (z, cJSON_GetObjectItemCaseSensitive(c, "time_zones")) {
		size_t n = strlen(zones);
		snprintf(zones + n, sizeof zones - n, "%s%s", n ? ", " : "",
		         cJSON_IsString(z) ? z->valuestring : "");
	}
	printf("%-14s %s\n", "calling zones", *zones ? zones : "-");
	print_restrictions(cJSON_GetObjectItemCaseSensitive(c, "contact_restrictions"));
	printf("%-14s %lld\n", "version", cli_int(c, "version"));
}

/* ---- commands ------------------------------------------------------------------------------ */

/* Sends a customer body (consumed) and shows the customer that comes back. */
static int send_customer(struct cli *cli, const char *method, const char *path, cJSON *body,
                         const char *if_match)
{
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	struct client_call call = {method, path, "application/json", text, if_match};
	cJSON *doc = NULL;
	int code = text ? cli_send(cli, &call, &doc) : CLI_FAILED;
	if (code == CLI_OK && !cli->json)
		print_customer(doc);
	cJSON_Delete(doc);
	free(text);
	return code;
}

static int create(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional || !cli_has(a, "--external-ref") || !cli_has(a, "--name") ||
	    !cli_has(a, "--time-zone") || !cli_has(a, "--jurisdiction") || cli_has(a, "--if-version"))
		return cli_usage(usage_create);
	cJSON *body = build_body(a, true);
	return body ? send_customer(cli, "POST", "/v1/customers", body, NULL) : CLI_USAGE;
}

static int update(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1 || cli_has(a, "--external-ref"))
		return cli_usage(usage_update);
	cJSON *body = build_body(a, false);
	if (!body)
		return CLI_USAGE;
	char path[96], if_match[48];
	snprintf(path, sizeof path, "/v1/customers/%s", a->positional[0]);
	const char *version = cli_get(a, "--if-version");
	if (version)
		snprintf(if_match, sizeof if_match, "\"%s\"", version);
	return send_customer(cli, "PATCH", path, body, version ? if_match : NULL);
}

static int show(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1 || a->count)
		return cli_usage("kept customers show ID");
	char path[96];
	snprintf(path, sizeof path, "/v1/customers/%s", a->positional[0]);
	return cli_get_and_show(cli, path, print_customer);
}

int cmd_customers(struct cli *cli, int argc, char **argv)
{
	static const struct cli_verb verbs[] = {{"create", create}, {"show", show}, {"update", update}, {0}};
	return cli_dispatch(cli, argc, argv, options, verbs, "kept customers create|show|update ...");
}
