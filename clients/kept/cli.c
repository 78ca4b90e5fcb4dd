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

static int exit_for_status(long status)
{
	if (status >= 200 && status < 300)
		return CLI_OK;
	if (status == 404)
		return CLI_NOT_FOUND;
	if (status == 401 || status == 403)
		return CLI_DENIED;
	if (status >= 400 && status < 500)
		return CLI_REJECTED;
	return CLI_UNAVAILABLE;
}

static void print_error(const struct client_response *resp)
{
	cJSON *doc = cJSON_Parse(resp->body);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(e, "details");
	const char *field = cli_str(details, "field");
	if (e)
		fprintf(stderr, "kept: %s [%s%s%s]\n", cli_str(e, "message"), cli_str(e, "code"),
		        *field ? ", field " : "", field);
	else
		fprintf(stderr, "kept: HTTP %ld from kept\n", resp->status);
	cJSON_Delete(doc);
}

int cli_answer(struct cli *cli, struct client_response *resp, cJSON **doc)
{
	if (doc)
		*doc = NULL;
	if (resp->status == 0) {
		fprintf(stderr, "kept: cannot reach kept at %s: %s\n", cli->client.base_url, resp->error);
		return CLI_UNAVAILABLE;
	}
	int code = exit_for_status(resp->status);
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
