/*
 * cli — what the kept CLI's commands share: options, calling the API, and
 * turning answers into exit codes scripts can rely on:
 *
 *   0 success            3 not found (404)                 5 not allowed (401, 403)
 *   1 unexpected failure 4 rejected input (400, 409, 412,  6 kept unavailable (5xx,
 *   2 usage error          413, 415, 422)                     no connection)
 *
 * With --json a command prints the API's JSON answer (success or error) on
 * stdout unchanged; otherwise it prints tables for people and errors on stderr.
 */
#ifndef KEPT_CLI_H
#define KEPT_CLI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "output.h"

enum cli_exit {
	CLI_OK = 0,
	CLI_FAILED = 1,
	CLI_USAGE = 2,
	CLI_NOT_FOUND = 3,
	CLI_REJECTED = 4,
	CLI_DENIED = 5,
	CLI_UNAVAILABLE = 6,
};

struct cli {
	struct client client;
	bool json;
	int argc;    /* the command line from the command's name on ("accounts", "list", ...), */
	char **argv; /* for hints that repeat it */
};

/* ---- options ------------------------------------------------------------------ */

struct cli_option {
	const char *name; /* "--external-ref" */
	bool takes_value;
	bool repeatable;
};

#define CLI_MAX_ARGS 64

struct cli_args {
	size_t count;
	const char *names[CLI_MAX_ARGS];
	const char *values[CLI_MAX_ARGS];
	size_t npositional;
	const char *positional[8];
};

/* Parses argv against `options` (NULL-name terminated); prints the problem
 * and returns false on an unknown, repeated or valueless option. */
bool cli_parse(int argc, char **argv, const struct cli_option *options, struct cli_args *out);
const char *cli_get(const struct cli_args *a, const char *name);
bool cli_has(const struct cli_args *a, const char *name);
/* Every value of a repeatable option, in order; returns how many. */
size_t cli_all(const struct cli_args *a, const char *name, const char **out, size_t max);

/* A whole number from min to max; false (after saying so on stderr) otherwise. */
bool cli_parse_int(const char *option, const char *text, long long min, long long max, long long *out);

/* "yes/no/true/false" -> bool; false when not one of those. */
bool cli_parse_bool(const char *text, bool *out);

/* ---- calling the API ------------------------------------------------------------- */

/*
 * Makes a request. On a 2xx answer returns CLI_OK and, when `doc` is given,
 * the parsed JSON (free with cJSON_Delete); with --json it has already been
 * printed. On anything else prints the error and returns its exit code.
 */
int cli_call(struct cli *cli, const char *method, const char *path, const char *content_type,
             const char *body, cJSON **doc);

/* As cli_call with every part of the request given (If-Match, say). */
int cli_send(struct cli *cli, const struct client_call *call, cJSON **doc);

/* As cli_call for a response already received (uploads). */
int cli_answer(struct cli *cli, struct client_response *resp, cJSON **doc);

/* Prints on stderr the command that shows the next page: the command line as
 * typed, every filter kept, with --cursor `next` in place of any cursor it had. */
void cli_more(const struct cli *cli, const char *next);

/* GETs `path`; on success (and unless --json printed it already) shows the
 * answer with `show`, then the command for its next page when it has one.
 * Returns the exit code. */
int cli_get_and_show(struct cli *cli, const char *path, void (*show)(const cJSON *));

/* Prints a usage line for the command to stderr and returns CLI_USAGE. */
int cli_usage(const char *usage);

/* One verb of a command group ("create" of "kept customers create"). */
struct cli_verb {
	const char *name;
	int (*run)(struct cli *cli, const struct cli_args *args);
};

/* Parses argv[1..] against `options` and runs the verb named by argv[0]
 * (`verbs` ends with a NULL name); `usage` when there is no such verb. */
int cli_dispatch(struct cli *cli, int argc, char **argv, const struct cli_option *options,
                 const struct cli_verb *verbs, const char *usage);

/* Helpers to read already-parsed API documents ("" / 0 when absent). */
const char *cli_str(const cJSON *doc, const char *name);
long long cli_int(const cJSON *doc, const char *name);

/* ---- commands -------------------------------------------------------------------------- */

int cmd_customers(struct cli *cli, int argc, char **argv);
int cmd_accounts(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_keys(struct cli *cli, int argc, char **argv);
int cmd_users(struct cli *cli, int argc, char **argv);
int cmd_propose(struct cli *cli, int argc, char **argv);
int cmd_plan(struct cli *cli, int argc, char **argv);
int cmd_reviews(struct cli *cli, int argc, char **argv);
int cmd_settle(struct cli *cli, int argc, char **argv);
int cmd_affordability(struct cli *cli, int argc, char **argv);
int cmd_pay(struct cli *cli, int argc, char **argv);
int cmd_payments(struct cli *cli, int argc, char **argv);
int cmd_reverse(struct cli *cli, int argc, char **argv);
int cmd_escalations(struct cli *cli, int argc, char **argv);
int cmd_find(struct cli *cli, int argc, char **argv);
int cmd_account(struct cli *cli, int argc, char **argv);
int cmd_policies(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);
int cmd_calls(struct cli *cli, int argc, char **argv);
int cmd_contact(struct cli *cli, int argc, char **argv);
int cmd_link(struct cli *cli, int argc, char **argv);

/* `kept reviews show` and `kept escalations show` also live in their groups. */

#endif
