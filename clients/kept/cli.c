#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- options ---------------------------------------------------------------------- */

static const struct cli_option *find_option(const struct cli_option *options, const char *name)
{
	for (const struct cli_option *o = options; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

bool cli_parse(int argc, char **argv, const struct cli_option *options, struct cli_args *out)
{
	memset(out, 0, sizeof *out);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0) {
			if (out->npositional == sizeof out->positional / sizeof out->positional[0]) {
				fprintf(stderr, "kept: too many arguments\n");
				return false;
			}
			out->positional[out->npositional++] = arg;
			continue;
		}
		const struct cli_option *o = find_option(options, arg);
		if (!o) {
			fprintf(stderr, "kept: unknown option %s\n", arg);
			return false;
		}
		if (!o->repeatable && cli_has(out, arg)) {
			fprintf(stderr, "kept: %s given twice\n", arg);
			return false;
		}
		if (o->takes_value && i + 1 >= argc) {
			fprintf(stderr, "kept: %s needs a value\n", arg);
			return false;
		}
		if (out->count == CLI_MAX_ARGS) {
			fprintf(stderr, "kept: too many options\n");
			return false;
		}
		out->names[out->count] = arg;
		out->values[out->count++] = o->takes_value ? argv[++i] : "";
	}
	return true;
}

const char *cli_get(const struct cli_args *a, const char *name)
{
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->names[i], name) == 0)
			return a->values[i];
	return NULL;
}

bool cli_has(const struct cli_args *a, const char *name)
{
	return cli_get(a, name) != NULL;
}

size_t cli_all(const struct cli_args *a, const char *name, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < a->count && n < max; i++)
		if (strcmp(a->names[i], name) == 0)
			out[n++] = a->values[i];
	return n;
}

bool cli_parse_int(const char *option, const char *text, long long min, long long max, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long v = text ? strtoll(text, &end, 10) : 0;
	if (!text || !*text || *end || errno || v < min || v > max) {
		fprintf(stderr, "kept: %s takes a whole number from %lld to %lld\n", option, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool cli_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"yes", "true", "y", "1"};
	static const char *const no[] = {"no", "false", "n", "0"};
	for (size_t i = 0; text && i < 4; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* `arg` as a shell reads it back: bare when it is plain, else single-quoted. */
static void print_shell_word(const char *arg, FILE *out)
{
	if (*arg && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:@%+=,-") ==
	                    strlen(arg)) {
		fputs(arg, out);
		return;
	}
	fputc('\'', out);
	for (const char *p = arg; *p; p++) {
		if (*p == '\'')
			fputs("'\\''", out); /* close, an escaped quote, reopen */
		else
			fputc(*p, out);
	}
	fputc('\'', out);
}

int cli_get_and_show(struct cli *cli, const char *path, void (*show)(const cJSON *))
{
	cJSON *doc = NULL;
	int code = cli_call(cli, "GET", path, NULL, NULL, &doc);
	if (code == CLI_OK && !cli->json) {
		show(doc);
		cli_more(cli, cli_str(doc, "next_cursor"));
	}
	cJSON_Delete(doc);
	return code;
}

void cli_more(const struct cli *cli, const char *next)
{
	if (!next || !*next || cli->json)
		return;
	fputs("more: kept", stderr);
	for (int i = 0; i < cli->argc; i++) {
		if (strcmp(cli->argv[i], "--cursor") == 0) {
			i++;
			continue;
		}
		fputc(' ', stderr);
		print_shell_word(cli->argv[i], stderr);
	}
	fprintf(stderr, " --cursor %s\n", next);
}

int cli_usage(const char *usage)
{
	fprintf(stderr, "usage: %s\n", usage);
	return CLI_USAGE;
}

int cli_dispatch(struct cli *cli, int argc, char **argv, const struct cli_option *options,
                 const struct cli_verb *verbs, const char *usage)
{
	struct cli_args args;
	if (argc < 1)
		return cli_usage(usage);
	for (const struct cli_verb *v = verbs; v->name; v++) {
		if (strcmp(argv[0], v->name) != 0)
			continue;
		if (!cli_parse(argc - 1, argv + 1, options, &args))
			return CLI_USAGE;
		return v->run(cli, &args);
	}
	return cli_usage(usage);
}

/* ---- answers ------------------------------------------------------------------------------ */

/* One exit code per kind of outcome, whatever the HTTP status that carried
 * it: an id that names nothing is "not found" whether the API said 404
 * (GET /plans/9) or 422 (a payment to account 9). A value kept does not
 * know (unknown_currency, unknown_field) is refused input. */
static int exit_for(long status, const char *code)
{
	static const char *const missing[] = {"unknown_account",  "unknown_customer", "unknown_plan",
	                                      "unknown_proposal", "unknown_assignee", "unknown_agent"};
	size_t n = strlen(code);
	bool is_missing = n > 10 && strcmp(code + n - 10, "_not_found") == 0;
	for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
		is_missing = is_missing || strcmp(code, missing[i]) == 0;
	if (status >= 200 && status < 300)
		return CLI_OK;
	if (status == 404 || is_missing)
		return CLI_NOT_FOUND;
	if (status == 401 || status == 403)
		return CLI_DENIED;
	if (status >= 400 && status < 500)
		return CLI_REJECTED;
	return CLI_UNAVAILABLE;
}

/* The API's names for what a person typed as a flag. */
static const struct {
	const char *field, *flag;
} flag_of[] = {
        {"first_due_date", "--first-due"},
        {"weekly_amount_cents", "--weekly"},
        {"original_balance_cents", "--balance"},
        {"balance_cents", "--current-balance"},
        {"replaces_plan_id", "--replaces"},
        {"proposal_id", "--proposal"},
        {"offer_cents", "--offer"},
        {"amount_cents", "--amount"},
        {"received_at", "--received-at"},
        {"source_ref", "--ref"},
        {"Idempotency-Key", "--idempotency-key"},
        {"If-Match", "--if-version"},
        {"external_ref", "--external-ref"},
        {"placed_on", "--placed-on"},
        {"customer_id", "--customer"},
        {"time_zone", "--time-zone"},
        {"moratorium_until", "--moratorium-until"},
        {"installments", "--installments"},
        {"currency", "--currency"},
        {"jurisdiction", "--jurisdiction"},
        {"phones", "--phone"},
        {"limit", "--limit"},
        {"cursor", "--cursor"},
};

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

/* `text` with every API field name (a whole word) replaced by its flag, into out. */
static void name_flags(const char *text, char *out, size_t size)
{
	size_t o = 0;
	for (const char *p = text; *p && o + 1 < size;) {
		bool replaced = false;
		for (size_t i = 0; i < sizeof flag_of / sizeof flag_of[0] && (p == text || !word_char(p[-1]));
		     i++) {
			size_t n = strlen(flag_of[i].field);
			if (strncmp(p, flag_of[i].field, n) != 0 || word_char(p[n]))
				continue;
			o += (size_t)snprintf(out + o, size - o, "%s", flag_of[i].flag);
			p += n;
			if (p[0] == ':' &&
			    p[1] == ' ') /* "send replaces_plan_id: 12" -> "send --replaces 12" */
				p++;
			replaced = true;
			break;
		}
		if (!replaced)
			out[o++] = *p++;
		if (o >= size)
			o = size - 1;
	}
	out[o] = '\0';
}

static void print_error(const struct client_response *resp)
{
	cJSON *doc = cJSON_Parse(resp->body);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(e, "details");
	const char *code = cli_str(e, "code");
	char message[1024], field[128];
	name_flags(cli_str(e, "message"), message, sizeof message);
	name_flags(cli_str(details, "field"), field, sizeof field);
	if (e)
		fprintf(stderr, "kept: %s [%s%s%s]\n", message, code, *field ? ", " : "", field);
	else
		fprintf(stderr, "kept: HTTP %ld from kept\n", resp->status);
	if (resp->status == 401)
		fprintf(stderr,
		        "kept: set KEPT_API_KEY to your API key (an admin makes one: kept keys create)\n");
	cJSON_Delete(doc);
}

static const char *error_code(const struct client_response *resp, char out[64])
{
	cJSON *doc = cJSON_Parse(resp->body);
	snprintf(out, 64, "%s", cli_str(cJSON_GetObjectItemCaseSensitive(doc, "error"), "code"));
	cJSON_Delete(doc);
	return out;
}

int cli_answer(struct cli *cli, struct client_response *resp, cJSON **doc)
{
	if (doc)
		*doc = NULL;
	if (resp->status == 0) {
		fprintf(stderr, "kept: cannot reach kept at %s: %s\n", cli->client.base_url, resp->error);
		return CLI_UNAVAILABLE;
	}
	char api_code[64] = "";
	int code = exit_for(resp->status, resp->status >= 300 ? error_code(resp, api_code) : api_code);
	if (cli->json)
		printf("%s\n", resp->body);
	else if (code != CLI_OK)
		print_error(resp);
	if (code == CLI_OK && doc) {
		*doc = cJSON_Parse(resp->body);
		if (!*doc && resp->length > 0) {
			fprintf(stderr, "kept: kept answered with something that is not JSON\n");
			code = CLI_FAILED;
		}
	}
	return code;
}

int cli_send(struct cli *cli, const struct client_call *call, cJSON **doc)
{
	struct client_response resp = {0};
	client_request(&cli->client, call, &resp);
	int code = cli_answer(cli, &resp, doc);
	client_response_free(&resp);
	return code;
}

int cli_call(struct cli *cli, const char *method, const char *path, const char *content_type,
             const char *body, cJSON **doc)
{
	struct client_call call = {method, path, content_type, body, NULL, NULL};
	return cli_send(cli, &call, doc);
}

const char *cli_str(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
	return cJSON_IsString(v) ? v->valuestring : "";
}

long long cli_int(const cJSON *doc, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}
