/* kept import accounts|payments|history FILE; kept keys create|list|revoke; kept users (admin) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define PROGRESS_FROM_BYTES (1u << 20)

/* ---- import ------------------------------------------------------------------------- */

static void print_problems(const struct client_response *resp)
{
	cJSON *doc = cJSON_Parse(resp->body);
	const cJSON *details =
	        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "error"), "details");
	const cJSON *lines = cJSON_GetObjectItemCaseSensitive(details, "lines");
	if (cJSON_GetArraySize(lines) > 0) {
		static const char *const headers[] = {"LINE", "PROBLEM", "COLUMN", "DETAIL"};
		struct table t;
		table_init(&t, 4, headers);
		const cJSON *p;
		cJSON_ArrayForEach (p, lines) {
			char line[96];
			const char *where = cli_str(p, "path"); /* a JSON history: where the record is */
			snprintf(line, sizeof line, where && *where ? "%lld %.80s" : "%lld",
			         cli_int(p, "line"), where);
			const char *row[] = {line, cli_str(p, "code"), cli_str(p, "field"),
			                     cli_str(p, "message")};
			table_add(&t, row);
		}
		table_print(&t, stderr);
		table_free(&t);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(details, "truncated")))
			fprintf(stderr, "(first %d of %lld problems shown)\n", cJSON_GetArraySize(lines),
			        cli_int(details, "problem_count"));
	}
	cJSON_Delete(doc);
}

static bool want_progress(const char *file, bool forced)
{
	struct stat st;
	if (forced)
		return true;
	return isatty(STDERR_FILENO) && stat(file, &st) == 0 && st.st_size >= PROGRESS_FROM_BYTES;
}

static const char import_usage[] = "kept import accounts|payments FILE.csv [--progress]\n"
                                   "       kept import history FILE.csv|FILE.json [--progress]";

static void show_accounts_summary(const cJSON *doc)
{
	printf("imported %lld lines: %lld customers created (%lld already known), %lld accounts created\n",
	       cli_int(doc, "lines"), cli_int(doc, "customers_created"), cli_int(doc, "customers_existing"),
	       cli_int(doc, "accounts_created"));
}

static void show_payments_summary(const cJSON *doc)
{
	char amount[64];
	money_format(cli_int(doc, "amount_cents"), NULL, amount, sizeof amount);
	printf("import %lld: %lld lines, %lld payments posted (%s), %lld duplicates skipped, %lld rejected\n",
	       cli_int(doc, "import_id"), cli_int(doc, "lines"), cli_int(doc, "posted"), amount,
	       cli_int(doc, "duplicates"), cli_int(doc, "rejected"));
}

static void show_history_summary(const cJSON *doc)
{
	printf("history %lld: %lld records on %lld accounts replayed: %lld plans, %lld payments (%lld "
	       "returned), "
	       "%lld cancellations; %lld installments judged as of now\n",
	       cli_int(doc, "import_id"), cli_int(doc, "records"), cli_int(doc, "accounts"),
	       cli_int(doc, "plans"), cli_int(doc, "payments"), cli_int(doc, "reversals"),
	       cli_int(doc, "cancellations"), cli_int(doc, "installments_judged_now"));
}

/* A file ending in .json is sent as JSON, anything else as CSV. */
static const char *file_type(const char *file)
{
	size_t n = strlen(file);
	return n >= 5 && strcmp(file + n - 5, ".json") == 0 ? "application/json" : "text/csv";
}

static int upload(struct cli *cli, const struct cli_args *a, const char *path, void (*show)(const cJSON *))
{
	if (a->npositional != 1)
		return cli_usage(import_usage);
	const char *file = a->positional[0];
	struct client_response resp = {0};
	if (!client_upload(&cli->client, path, file_type(file), file,
	                   want_progress(file, cli_has(a, "--progress")), &resp) &&
	    !resp.body) {
		fprintf(stderr, "kept: %s\n", resp.error);
		return resp.status ? CLI_FAILED : CLI_UNAVAILABLE;
	}
	cJSON *doc = NULL;
	int code = cli_answer(cli, &resp, &doc);
	if (code == CLI_REJECTED && !cli->json)
		print_problems(&resp);
	if (code == CLI_OK && !cli->json)
		show(doc);
	cJSON_Delete(doc);
	client_response_free(&resp);
	return code;
}

static int import_accounts(struct cli *cli, const struct cli_args *a)
{
	return upload(cli, a, "/v1/imports/accounts", show_accounts_summary);
}

static int import_payments(struct cli *cli, const struct cli_args *a)
{
	return upload(cli, a, "/v1/imports/payments", show_payments_summary);
}

static int import_history(struct cli *cli, const struct cli_args *a)
{
	return upload(cli, a, "/v1/imports/history", show_history_summary);
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct cli_option options[] = {{"--progress", false, false}, {0}};
	static const struct cli_verb verbs[] = {{"accounts", import_accounts},
	                                        {"payments", import_payments},
	                                        {"history", import_history},
	                                        {0}};
	return cli_dispatch(cli, argc, argv, options, verbs, import_usage);
}

/* ---- keys ------------------------------------------------------------------------------------ */

static int keys_create(struct cli *cli, const struct cli_args *a)
{
	bool by_user = cli_has(a, "--user");
	if (a->npositional || (!by_user && (!cli_has(a, "--role") || !cli_has(a, "--name"))))
		return cli_usage("kept keys create --user ID [--role ROLE] [--name LABEL] [--expires TIME]\n"
		                 "       kept keys create --role agent|supervisor|finance|admin --name NAME");
	long long user = 0;
	if (by_user && !cli_parse_int("--user", cli_get(a, "--user"), 1, 999999999999999LL, &user))
		return CLI_USAGE;
	cJSON *body = cJSON_CreateObject();
	if (by_user)
		cJSON_AddNumberToObject(body, "user_id", (double)user);
	static const char *const fields[][2] = {
	        {"--role", "role"}, {"--name", "name"}, {"--expires", "expires_at"}};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (cli_has(a, fields[i][0]))
			cJSON_AddStringToObject(body, fields[i][1], cli_get(a, fields[i][0]));
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	cJSON *doc = NULL;
	int code = text ? cli_call(cli, "POST", "/v1/api-keys", "application/json", text, &doc) : CLI_FAILED;
	if (code == CLI_OK && !cli->json)
		printf("API key %lld for %s (%s); it is shown only now:\n%s\n", cli_int(doc, "id"),
		       cli_str(cJSON_GetObjectItemCaseSensitive(doc, "user"), "name"),
		       *cli_str(doc, "role") ? cli_str(doc, "role") : "every role of the user",
		       cli_str(doc, "key"));
	cJSON_Delete(doc);
	free(text);
	return code;
}

static int keys_list(struct cli *cli, const struct cli_args *a)
{
	static const char *const headers[] = {"ID", "NAME", "ROLE", "CREATED", "REVOKED"};
	if (a->npositional || a->count)
		return cli_usage("kept keys list");
	cJSON *doc = NULL;
	int code = cli_call(cli, "GET", "/v1/api-keys", NULL, NULL, &doc);
	if (code == CLI_OK && !cli->json) {
		struct table t;
		table_init(&t, 5, headers);
		const cJSON *k;
		cJSON_ArrayForEach (k, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
			char id[24], created[64], revoked[64];
			snprintf(id, sizeof id, "%lld", cli_int(k, "id"));
			time_format(cli_str(k, "created_at"), NULL, created, sizeof created);
			time_format(cli_str(k, "revoked_at"), NULL, revoked, sizeof revoked);
			const char *row[] = {id, cli_str(k, "name"), cli_str(k, "role"), created,
			                     *revoked ? revoked : NULL};
			table_add(&t, row);
		}
		table_print(&t, stdout);
		table_free(&t);
	}
	cJSON_Delete(doc);
	return code;
}

static int keys_revoke(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional != 1 || a->count)
		return cli_usage("kept keys revoke ID");
	char path[96];
	snprintf(path, sizeof path, "/v1/api-keys/%s", a->positional[0]);
	cJSON *doc = NULL;
	int code = cli_call(cli, "DELETE", path, NULL, NULL, &doc);
	if (code == CLI_OK && !cli->json) {
		char when[64];
		time_format(cli_str(doc, "revoked_at"), NULL, when, sizeof when);
		printf("API key %lld (%s) revoked at %s\n", cli_int(doc, "id"), cli_str(doc, "name"), when);
	}
	cJSON_Delete(doc);
	return code;
}

int cmd_keys(struct cli *cli, int argc, char **argv)
{
	static const struct cli_option options[] = {{"--role", true, false},
	                                            {"--name", true, false},
	                                            {"--user", true, false},
	                                            {"--expires", true, false},
	                                            {0}};
	static const struct cli_verb verbs[] = {
	        {"create", keys_create}, {"list", keys_list}, {"revoke", keys_revoke}, {0}};
	return cli_dispatch(cli, argc, argv, options, verbs, "kept keys create|list|revoke ...");
}

/* ---- users ------------------------------------------------------------------------------------ */

static void users_table(const cJSON *items)
{
	static const char *const headers[] = {"ID", "NAME", "EMAIL", "TEAM", "ROLES", "ACTIVE", "KEYS"};
	struct table t;
	table_init(&t, 7, headers);
	const cJSON *u;
	cJSON_ArrayForEach (u, items) {
		char id[24], roles[64] = "", keys[24];
		snprintf(id, sizeof id, "%lld", cli_int(u, "id"));
		const cJSON *r;
		cJSON_ArrayForEach (r, cJSON_GetObjectItemCaseSensitive(u, "roles")) {
			size_t n = strlen(roles);
			snprintf(roles + n, sizeof roles - n, "%s%s", n ? "," : "", cJSON_GetStringValue(r));
		}
		snprintf(keys, sizeof keys, "%d",
		         cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(u, "keys")));
		const char *row[] = {id,
		                     cli_str(u, "name"),
		                     cli_str(u, "email"),
		                     cli_str(u, "team"),
		                     roles,
		                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "active")) ? "yes"
		                                                                                 : "no",
		                     keys};
		table_add(&t, row);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static int users_list(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional)
		return cli_usage("kept users list [--team TEAM]");
	char path[160] = "/v1/users?limit=500";
	if (cli_has(a, "--team"))
		snprintf(path, sizeof path, "/v1/users?limit=500&team=%s", cli_get(a, "--team"));
	cJSON *doc = NULL;
	int code = cli_call(cli, "GET", path, NULL, NULL, &doc);
	if (code == CLI_OK && !cli->json)
		users_table(cJSON_GetObjectItemCaseSensitive(doc, "items"));
	cJSON_Delete(doc);
	return code;
}

/* --roles agent,supervisor -> ["agent","supervisor"] */
static void add_roles(cJSON *body, const char *list)
{
	cJSON *roles = cJSON_AddArrayToObject(body, "roles");
	for (const char *p = list; roles && *p;) {
		size_t n = strcspn(p, ",");
		char role[32];
		snprintf(role, sizeof role, "%.*s", (int)(n < 31 ? n : 31), p);
		cJSON_AddItemToArray(roles, cJSON_CreateString(role));
		p += n + (p[n] == ',');
	}
}

static int users_create(struct cli *cli, const struct cli_args *a)
{
	if (a->npositional || !cli_has(a, "--name") || !cli_has(a, "--roles"))
		return cli_usage(
		        "kept users create --name NAME --roles ROLE[,ROLE...] [--email EMAIL] [--team TEAM]");
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", cli_get(a, "--name"));
	add_roles(body, cli_get(a, "--roles"));
	if (cli_has(a, "--email"))
		cJSON_AddStringToObject(body, "email", cli_get(a, "--email"));
	if (cli_has(a, "--team"))
		cJSON_AddStringToObject(body, "team", cli_get(a, "--team"));
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	cJSON *doc = NULL;
	int code = text ? cli_call(cli, "POST", "/v1/users", "application/json", text, &doc) : CLI_FAILED;
	if (code == CLI_OK && !cli->json)
		printf("user %lld: %s, team %s; make them a key with kept keys create --user %lld\n",
		       cli_int(doc, "id"), cli_str(doc, "name"), cli_str(doc, "team"), cli_int(doc, "id"));
	cJSON_Delete(doc);
	free(text);
	return code;
}

/* kept users deactivate|activate ID */
static int users_set_active(struct cli *cli, const struct cli_args *a, bool active)
{
	if (a->npositional != 1)
		return cli_usage("kept users activate|deactivate ID");
	char path[96];
	snprintf(path, sizeof path, "/v1/users/%s", a->positional[0]);
	cJSON *doc = NULL;
	int code = cli_call(cli, "PATCH", path, "application/json",
	                    active ? "{\"active\":true}" : "{\"active\":false}", &doc);
	if (code == CLI_OK && !cli->json)
		printf("user %lld (%s) is %s\n", cli_int(doc, "id"), cli_str(doc, "name"),
		       active ? "active" : "inactive: their keys no longer work");
	cJSON_Delete(doc);
	return code;
}

static int users_deactivate(struct cli *cli, const struct cli_args *a)
{
	return users_set_active(cli, a, false);
}

static int users_activate(struct cli *cli, const struct cli_args *a)
{
	return users_set_active(cli, a, true);
}

int cmd_users(struct cli *cli, int argc, char **argv)
{
	static const struct cli_option options[] = {{"--name", true, false},
	                                            {"--roles", true, false},
	                                            {"--email", true, false},
	                                            {"--team", true, false},
	                                            {0}};
	static const struct cli_verb verbs[] = {{"list", users_list},
	                                        {"create", users_create},
	                                        {"deactivate", users_deactivate},
	                                        {"activate", users_activate},
	                                        {0}};
	return cli_dispatch(cli, argc, argv, options, verbs,
	                    "kept users list|create|activate|deactivate ...");
}
