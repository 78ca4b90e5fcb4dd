/*
 * keptd — kept's service. This file only wires the modules together.
 *
 *   keptd serve                          run the HTTP API
 *   keptd migrate                        apply schema/ and sql/ to the database
 *   keptd users create --name N --roles R[,R] [--email E] [--team T]   add a person
 *   keptd users list                     the users and their keys
 *   keptd keys create --role R --name N  create an API key (printed alone on the last line); the
 *                                        user N is made (or given role R) when needed
 *   keptd keys create --user ID [--role R] [--expires TIME]   a key of that user
 *   keptd keys revoke ID                 revoke an API key
 *   keptd evaluate [--as-of TIME]        judge installments, break and complete plans, at TIME
 *   keptd reminders [--as-of TIME]       queue reminder calls and dial what is due, at TIME
 *   keptd analytics [--rebuild|--verify|--repair]  load the outbox into schema analytics, rebuild it,
 *                                        check it against the operational tables, or mend it
 *   keptd retention [--as-of TIME]       erase customers whose retention period has passed
 *   keptd data-key rotate                re-wrap every customer's data key under KEPT_DATA_KEY
 *   keptd maintenance                    audit partitions ahead, outbox pruned (the maintenance worker)
 *   keptd audit-archive                  detach audit partitions past KEPT_AUDIT_RETENTION_MONTHS
 *
 * Exit status: 0 success, 1 failure, 2 bad configuration or usage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adherence/adherence.h"
#include "analytics/analytics.h"
#include "api/api.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "clock/clock.h"
#include "config/config.h"
#include "db/db.h"
#include "http/http.h"
#include "json/json.h"
#include "link/link.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "migrate/migrate.h"
#include "privacy/privacy.h"
#include "reminders/reminders.h"
#include "retention/retention.h"
#include "texts/texts.h"
#include "worker/worker.h"

extern char **environ;

#define EXIT_USAGE 2

static const char usage[] =
        "usage: keptd serve\n"
        "       keptd migrate\n"
        "       keptd users create --name NAME --roles ROLE[,ROLE...] [--email EMAIL] [--team TEAM]\n"
        "       keptd users list\n"
        "       keptd keys create --role agent|supervisor|finance|admin --name NAME\n"
        "       keptd keys create --user ID [--role ROLE] [--expires TIME]\n"
        "       keptd keys revoke ID\n"
        "       keptd evaluate [--as-of TIME]\n"
        "       keptd reminders [--as-of TIME]\n"
        "       keptd analytics [--rebuild | --verify | --repair]\n"
        "       keptd retention [--as-of TIME]\n"
        "       keptd data-key rotate\n"
        "       keptd maintenance\n"
        "       keptd audit-archive\n"
        "       keptd help\n";

static void print_help(void)
{
	struct buf help;
	buf_init(&help, 1u << 16);
	config_help(&help);
	printf("%s\nconfiguration (environment):\n%s", usage, buf_str(&help));
	buf_free(&help);
}

static bool load_config(struct kept_config *cfg)
{
	struct buf problems;
	buf_init(&problems, 1u << 16);
	int n = config_load(cfg, environ, &problems);
	if (n > 0)
		fprintf(stderr, "keptd: %d configuration problem%s:\n%s", n, n == 1 ? "" : "s",
		        buf_str(&problems));
	buf_free(&problems);
	if (n == 0)
		log_set_level(cfg->log_level);
	return n == 0;
}

static struct db_settings db_settings_of(const struct kept_config *cfg, const char *app)
{
	struct db_settings s = {cfg->database_url, cfg->statement_timeout_ms, app};
	return s;
}

/* The self-service page's keys, from KEPT_LINK_SECRET (when KEPT_SELF_SERVICE=on). */
static struct link_keys link_keys;

/* ---- background workers ------------------------------------------------------------- */

#define MAX_WORKERS 8

struct workers {
	struct db_settings db; /* no statement timeout: jobs may be long */
	struct worker *running[MAX_WORKERS];
	size_t count;
};

static kept_err start_workers(const struct kept_config *cfg, struct workers *w, struct kept_error *err)
{
	const struct worker_job jobs[] = {
	        {"evaluator", cfg->evaluate_interval_s * 1000, adherence_worker_run},
	        {"auditor", 1000, audit_worker_run},
	        {"scheduler", cfg->reminder_interval_s * 1000, reminders_scheduler_run},
	        {"dispatcher", cfg->reminder_interval_s * 1000, reminders_dispatcher_run},
	        {"loader", cfg->analytics_interval_s * 1000, analytics_worker_run},
	        {"retention", cfg->retention_interval_s * 1000, privacy_worker_run},
	        {"maintenance", cfg->maintenance_interval_s * 1000, retention_worker_run},
	        {"texter", cfg->text_interval_s * 1000, texts_worker_run},
	};
	const unsigned bits[] = {CONFIG_WORKER_EVALUATOR,   CONFIG_WORKER_AUDITOR, CONFIG_WORKER_SCHEDULER,
	                         CONFIG_WORKER_DISPATCHER,  CONFIG_WORKER_LOADER,  CONFIG_WORKER_RETENTION,
	                         CONFIG_WORKER_MAINTENANCE, CONFIG_WORKER_TEXTER};
	w->db = (struct db_settings){cfg->database_url, 0, "keptd worker"};
	for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
		if (!(cfg->workers & bits[i]))
			continue;
		kept_err r = worker_start(&jobs[i], &w->db, &w->running[w->count], err);
		if (r)
			return r;
		if (bits[i] == CONFIG_WORKER_TEXTER)
			texts_set_worker(w->running[w->count]);
		w->count++;
	}
	return KEPT_OK;
}

static void stop_workers(struct workers *w)
{
	texts_set_worker(NULL);
	for (size_t i = 0; i < w->count; i++)
		worker_stop(w->running[i]);
	w->count = 0;
	reminders_shutdown();
	texts_shutdown();
	analytics_shutdown();
}

/* ---- serve -------------------------------------------------------------------------- */

static int wait_for_signal(const sigset_t *set)
{
	int sig = 0;
	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

static int serve(const struct kept_config *cfg)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* blocked before any thread starts, so only sigwait below sees them */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	config_log(cfg);

	struct db_settings dbs = db_settings_of(cfg, "keptd");
	db_threads_configure(&dbs, cfg->threads);
	struct api_config acfg = {cfg->max_body_bytes,
	                          cfg->max_import_bytes,
	                          cfg->telephony_auth_token,
	                          cfg->public_url,
	                          cfg->business_name,
	                          cfg->callback_number,
	                          cfg->agent_line,
	                          cfg->reports_database_url ? cfg->reports_database_url
	                                                    : cfg->analytics_database_url,
	                          cfg->rate_limit,
	                          cfg->rate_burst,
	                          cfg->contact_name,
	                          cfg->self_service ? &link_keys : NULL};
	struct http_options opt = {
	        cfg->listen_host,          cfg->listen_port,    cfg->threads,
	        cfg->connection_timeout_s, cfg->max_body_bytes, cfg->retry_after_s,
	        cfg->header_timeout_s,     cfg->body_timeout_s, cfg->per_client_connections};
	struct http_server *srv = NULL;
	struct workers workers = {0};
	struct kept_error err;
	kept_error_clear(&err);
	/* the workers first: a request may wake the texter */
	if (api_init(&acfg) || start_workers(cfg, &workers, &err) ||
	    http_server_start(&opt, api_http_app(), &srv, &err)) {
		log_msg(LOG_ERROR, "start_failed", "%s", err.message[0] ? err.message : "out of memory");
		stop_workers(&workers);
		http_server_stop(srv);
		api_shutdown();
		metrics_shutdown();
		return 1;
	}
	struct log_line l;
	log_begin(&l, LOG_INFO, "listening");
	log_str(&l, "host", cfg->listen_host);
	log_int(&l, "port", http_server_port(srv));
	log_int(&l, "threads", cfg->threads);
	log_end(&l);

	int sig = wait_for_signal(&set);
	log_msg(LOG_INFO, "stopping", "received %s; finishing in-flight requests",
	        sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_server_quiesce(srv);
	bool drained = http_server_drain(srv, cfg->shutdown_timeout_s);
	http_server_stop(srv);
	stop_workers(&workers);
	db_threads_close_all();
	api_shutdown();
	metrics_shutdown();
	log_msg(drained ? LOG_INFO : LOG_WARN, "stopped",
	        drained ? "all requests finished" : "stopped with requests still in flight");
	return 0;
}

/* ---- migrate and keys ------------------------------------------------------------------ */

static struct db_conn *connect_or_report(const struct kept_config *cfg, const char *app)
{
	struct db_settings s = db_settings_of(cfg, app);
	struct db_conn *db = NULL;
	struct kept_error err;
	if (db_connect(&s, &db, &err)) {
		fprintf(stderr, "keptd: %s\n", err.message);
		return NULL;
	}
	return db;
}

static int migrate(const struct kept_config *cfg)
{
	/* A migration may build an index over millions of rows: no timeout. */
	struct kept_config unlimited = *cfg;
	unlimited.statement_timeout_ms = 0;
	struct db_conn *db = connect_or_report(&unlimited, "keptd migrate");
	if (!db)
		return 1;
	struct migrate_report report;
	struct kept_error err;
	kept_err r = migrate_run(db, &report, &err);
	db_close(db);
	if (!r)
		r = analytics_migrate(&err);
	if (r) {
		fprintf(stderr, "keptd migrate: %s\n", err.message);
		return 1;
	}
	printf("migrations: %d applied, %d already present; functions reloaded\n", report.applied,
	       report.present);
	return 0;
}

static const char *option(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

/* A one-off piece of work for the command line: connection, arena and actor
 * are made and released around it; its failure is printed. */
typedef kept_err (*cli_work)(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                             void *ctx, struct kept_error *err);

static int run_with_db(const struct kept_config *cfg, const char *what, cli_work work, void *ctx)
{
	struct db_conn *db = connect_or_report(cfg, what);
	struct arena *arena = arena_new(0);
	int status = 1;
	if (db && arena) {
		struct auth_actor actor;
		struct kept_error err;
		auth_actor_cli(&actor);
		if (work(db, arena, &actor, ctx, &err))
			fprintf(stderr, "%s: %s\n", what, err.message);
		else
			status = 0;
	}
	arena_free(arena);
	db_close(db);
	return status;
}

/* The JSON of a key or user request from command-line options; every
 * option is a string except those listed in `ints` and `lists`. */
struct cli_field {
	const char *option;
	const char *member;
	enum { CLI_TEXT, CLI_INT, CLI_LIST } kind;
};

static char *cli_json(int argc, char **argv, const struct cli_field *fields, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; o && i < n; i++) {
		const char *v = option(argc, argv, fields[i].option);
		if (!v)
			continue;
		if (fields[i].kind == CLI_INT) {
			cJSON_AddNumberToObject(o, fields[i].member, (double)strtoll(v, NULL, 10));
		} else if (fields[i].kind == CLI_LIST) {
			cJSON *list = cJSON_AddArrayToObject(o, fields[i].member);
			for (const char *p = v; list && *p;) {
				size_t len = strcspn(p, ",");
				char item[64];
				snprintf(item, sizeof item, "%.*s", (int)(len < 63 ? len : 63), p);
				cJSON_AddItemToArray(list, cJSON_CreateString(item));
				p += len + (p[len] == ',');
			}
		} else {
			cJSON_AddStringToObject(o, fields[i].member, v);
		}
	}
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return text;
}

static kept_err create_key(struct db_conn *db, struct arena *arena, const struct auth_actor *actor, void *ctx,
                           struct kept_error *err)
{
	const char *key, *json;
	kept_err r = auth_key_create(db, arena, actor, ctx, &key, &json, err);
	if (r)
		return r;
	cJSON *doc = cJSON_Parse(json);
	const cJSON *user = cJSON_GetObjectItemCaseSensitive(doc, "user");
	const char *role = json_get_string(doc, "role");
	printf("created API key %s for %s (role %s); it is shown only now:\n%s\n",
	       json_get_string(doc, "name") ? json_get_string(doc, "name") : "?",
	       json_get_string(user, "name") ? json_get_string(user, "name") : "?",
	       role ? role : "every role the user holds", key);
	cJSON_Delete(doc);
	return KEPT_OK;
}

static int keys_create(const struct kept_config *cfg, int argc, char **argv)
{
	static const struct cli_field fields[] = {
	        {"--user", "user_id", CLI_INT},
	        {"--name", "name", CLI_TEXT},
	        {"--role", "role", CLI_TEXT},
	        {"--expires", "expires_at", CLI_TEXT},
	};
	const char *role = option(argc, argv, "--role");
	enum auth_role parsed;
	bool by_user = option(argc, argv, "--user") != NULL;
	if ((role && !auth_role_parse(role, &parsed)) ||
	    (!by_user && (!role || !option(argc, argv, "--name")))) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	char *spec = cli_json(argc, argv, fields, sizeof fields / sizeof fields[0]);
	int status = spec ? run_with_db(cfg, "keptd keys create", create_key, spec) : 1;
	cJSON_free(spec);
	return status;
}

static kept_err create_user(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                            void *ctx, struct kept_error *err)
{
	const char *json;
	kept_err r = q_user_create_value(db, arena, AUTH_ACTOR_ARGS(actor), ctx, &json, err);
	if (!r)
		printf("%s\n", json);
	return r;
}

static kept_err list_users(struct db_conn *db, struct arena *arena, const struct auth_actor *actor, void *ctx,
                           struct kept_error *err)
{
	const char *json;
	(void)actor;
	(void)ctx;
	kept_err r = q_user_page_value(db, arena, "{\"limit\":\"500\"}", &json, err);
	if (!r)
		printf("%s\n", json);
	return r;
}

static int users_command(const struct kept_config *cfg, int argc, char **argv)
{
	static const struct cli_field fields[] = {
	        {"--name", "name", CLI_TEXT},
	        {"--email", "email", CLI_TEXT},
	        {"--team", "team", CLI_TEXT},
	        {"--roles", "roles", CLI_LIST},
	};
	if (argc == 3 && strcmp(argv[2], "list") == 0)
		return run_with_db(cfg, "keptd users list", list_users, NULL);
	if (argc < 3 || strcmp(argv[2], "create") != 0 || !option(argc, argv, "--name") ||
	    !option(argc, argv, "--roles")) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	char *spec = cli_json(argc, argv, fields, sizeof fields / sizeof fields[0]);
	int status = spec ? run_with_db(cfg, "keptd users create", create_user, spec) : 1;
	cJSON_free(spec);
	return status;
}

static kept_err revoke_key(struct db_conn *db, struct arena *arena, const struct auth_actor *actor, void *ctx,
                           struct kept_error *err)
{
	const char *json;
	kept_err r = q_api_key_revoke_value(db, arena, AUTH_ACTOR_ARGS(actor), db_int64(ctx), &json, err);
	if (!r)
		printf("%s\n", json);
	return r;
}

static int keys_revoke(const struct kept_config *cfg, char *id)
{
	char *end;
	long long n = strtoll(id, &end, 10);
	if (*end || n <= 0) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return run_with_db(cfg, "keptd keys revoke", revoke_key, id);
}

/* ---- reminders -------------------------------------------------------------------------- */

static struct reminders_config reminders_cfg;
static struct texts_config texts_cfg;

static void configure_reminders(const struct kept_config *cfg)
{
	reminders_cfg = (struct reminders_config){
	        .provider = {.base_url = cfg->telephony_base_url,
	                     .account_sid = cfg->telephony_account_sid,
	                     .auth_token = cfg->telephony_auth_token,
	                     .timeout_ms = cfg->telephony_timeout_ms,
	                     .attempts = cfg->dial_attempts,
	                     .concurrency = cfg->dial_concurrency,
	                     .backoff_base_ms = 200,
	                     .max_retry_after_ms = 30000,
	                     .settle_ms = cfg->telephony_settle_ms},
	        .from = cfg->telephony_from,
	        .public_url = cfg->public_url,
	        .batch = cfg->dial_batch,
	        .cps = cfg->telephony_cps,
	};
	reminders_configure(&reminders_cfg);
	texts_cfg = (struct texts_config){
	        .provider = reminders_cfg.provider,
	        .from = cfg->telephony_from,
	        .public_url = cfg->public_url,
	        .keys = cfg->self_service ? &link_keys : NULL,
	        .batch = 64,
	};
	texts_configure(&texts_cfg);
}

static kept_err reminders_once(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                               void *ctx, struct kept_error *err)
{
	const char *json = NULL;
	struct texts_result texts;
	(void)actor;
	kept_err r = reminders_run(db, arena, ctx, &json, err);
	if (!r)
		r = texts_send_due(db, arena, NULL, &texts, err);
	if (!r)
		printf("%s\n", texts_add_to(arena, json, &texts));
	return r;
}

static int reminders_command(const struct kept_config *cfg, int argc, char **argv)
{
	const char *as_of = option(argc, argv, "--as-of");
	if (argc > 2 && !as_of) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	int status = run_with_db(cfg, "keptd reminders", reminders_once, (void *)as_of);
	reminders_shutdown();
	texts_shutdown();
	return status;
}

/* ---- analytics -------------------------------------------------------------------------- */

static kept_err analytics_once(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                               void *ctx, struct kept_error *err)
{
	struct analytics_result res;
	(void)actor;
	kept_err r = ctx ? analytics_rebuild(db, &res, err) : analytics_load(db, &res, err);
	if (!r)
		printf("%s\n", analytics_result_json(arena, &res));
	return r;
}

/* The report as JSON on stdout and, when something differs, in words on
 * stderr; differences left make the command fail (exit 1). */
static kept_err analytics_check(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                                void *ctx, struct kept_error *err)
{
	struct analytics_report rep;
	(void)actor;
	kept_err r = analytics_verify(db, ctx != NULL, &rep, err);
	if (r)
		return r;
	printf("%s\n", analytics_report_json(arena, &rep));
	for (int i = 0; i < rep.shown; i++)
		fprintf(stderr, "  %s %s %s: analytics %s, operational %s\n", rep.first[i].entity,
		        rep.first[i].key, rep.first[i].column, rep.first[i].analytics,
		        rep.first[i].operational);
	if (rep.differences == 0)
		return KEPT_OK;
	return kept_fail(
	        err, KEPT_ERR_RULE, "analytics_differs", "",
	        "%lld difference%s between analytics and the operational tables (the first %d above)%s",
	        rep.differences, rep.differences == 1 ? "" : "s", rep.shown,
	        ctx ? "" : "; keptd analytics --repair writes them again");
}

static int analytics_command(const struct kept_config *cfg, int argc, char **argv)
{
	const char *flag = argc > 2 ? argv[2] : "";
	bool known = !*flag || strcmp(flag, "--rebuild") == 0 || strcmp(flag, "--verify") == 0 ||
	             strcmp(flag, "--repair") == 0;
	if (argc > 3 || !known) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	struct kept_config unlimited = *cfg; /* a rebuild or a check reads every plan */
	unlimited.statement_timeout_ms = 0;
	if (strcmp(flag, "--verify") == 0 || strcmp(flag, "--repair") == 0)
		return run_with_db(&unlimited, "keptd analytics", analytics_check,
		                   strcmp(flag, "--repair") == 0 ? (void *)"repair" : NULL);
	return run_with_db(&unlimited, "keptd analytics", analytics_once, *flag ? (void *)"rebuild" : NULL);
}

/* ---- retention and the data key --------------------------------------------------------- */

static kept_err retention_once(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                               void *ctx, struct kept_error *err)
{
	const char *json = NULL;
	(void)actor;
	kept_err r = privacy_retention(db, arena, ctx, &json, err);
	if (!r)
		printf("%s\n", json);
	return r;
}

static int retention_command(const struct kept_config *cfg, int argc, char **argv)
{
	const char *as_of = option(argc, argv, "--as-of");
	if (argc > 2 && !as_of) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return run_with_db(cfg, "keptd retention", retention_once, (void *)as_of);
}

static kept_err rotate_once(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                            void *ctx, struct kept_error *err)
{
	const char *json = NULL;
	(void)actor;
	(void)ctx;
	kept_err r = privacy_rotate(db, arena, &json, err);
	if (!r)
		printf("%s\n", json);
	return r;
}

static int data_key_command(const struct kept_config *cfg, int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[2], "rotate") != 0) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return run_with_db(cfg, "keptd data-key rotate", rotate_once, NULL);
}

/* ---- maintenance: audit partitions, the outbox, archives -------------------------------- */

static kept_err maintenance_once(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                                 void *ctx, struct kept_error *err)
{
	struct retention_result res;
	(void)actor, (void)ctx;
	kept_err r = retention_run(db, arena, &res, err);
	if (!r)
		printf("{\"audit_partitions_made\":%lld,\"outbox_pruned\":%lld}\n", res.partitions_made,
		       res.outbox_pruned);
	return r;
}

static kept_err archive_once(struct db_conn *db, struct arena *arena, const struct auth_actor *actor,
                             void *ctx, struct kept_error *err)
{
	const char *tables = NULL;
	(void)actor, (void)ctx;
	kept_err r = retention_archive(db, arena, &tables, err);
	if (!r)
		printf("%s", tables[0] ? tables : "nothing to archive\n");
	return r;
}

/* ---- evaluate --------------------------------------------------------------------------- */

static kept_err evaluate(struct db_conn *db, struct arena *arena, const struct auth_actor *actor, void *ctx,
                         struct kept_error *err)
{
	struct adherence_result res;
	(void)actor;
	kept_err r = adherence_evaluate(db, arena, ctx, true, &res, err);
	if (!r)
		printf("%s\n", adherence_result_json(arena, &res));
	return r;
}

static int evaluate_command(const struct kept_config *cfg, int argc, char **argv)
{
	const char *as_of = option(argc, argv, "--as-of");
	if (argc > 2 && !as_of) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	return run_with_db(cfg, "keptd evaluate", evaluate, (void *)as_of);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		print_help();
		return 0;
	}
	bool keys = strcmp(cmd, "keys") == 0 && argc > 2;
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 && strcmp(cmd, "evaluate") != 0 &&
	    strcmp(cmd, "reminders") != 0 && strcmp(cmd, "analytics") != 0 && strcmp(cmd, "users") != 0 &&
	    strcmp(cmd, "retention") != 0 && strcmp(cmd, "data-key") != 0 &&
	    strcmp(cmd, "maintenance") != 0 && strcmp(cmd, "audit-archive") != 0 && !keys) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	struct kept_config cfg;
	if (!load_config(&cfg)) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	clock_configure(cfg.clock_simulated);
	if (cfg.self_service && link_keys_derive(cfg.link_secret, &link_keys)) {
		fprintf(stderr, "keptd: the self-service keys could not be derived from KEPT_LINK_SECRET\n");
		config_free(&cfg);
		return 1;
	}
	configure_reminders(&cfg);
	analytics_configure(cfg.analytics_database_url, cfg.analytics_batch);
	privacy_configure(cfg.access_log_days);
	db_set_data_keys(cfg.data_key, cfg.data_key_previous);
	retention_configure(cfg.outbox_retention_days, cfg.audit_retention_months);
	int status = EXIT_USAGE;
	if (strcmp(cmd, "reminders") == 0)
		status = reminders_command(&cfg, argc, argv);
	else if (strcmp(cmd, "analytics") == 0)
		status = analytics_command(&cfg, argc, argv);
	else if (strcmp(cmd, "serve") == 0)
		status = serve(&cfg);
	else if (strcmp(cmd, "migrate") == 0)
		status = migrate(&cfg);
	else if (strcmp(cmd, "evaluate") == 0)
		status = evaluate_command(&cfg, argc, argv);
	else if (strcmp(cmd, "users") == 0)
		status = users_command(&cfg, argc, argv);
	else if (strcmp(cmd, "retention") == 0)
		status = retention_command(&cfg, argc, argv);
	else if (strcmp(cmd, "data-key") == 0)
		status = data_key_command(&cfg, argc, argv);
	else if (strcmp(cmd, "maintenance") == 0 && argc == 2)
		status = run_with_db(&cfg, "keptd maintenance", maintenance_once, NULL);
	else if (strcmp(cmd, "audit-archive") == 0 && argc == 2)
		status = run_with_db(&cfg, "keptd audit-archive", archive_once, NULL);
	else if (strcmp(argv[2], "create") == 0)
		status = keys_create(&cfg, argc, argv);
	else if (strcmp(argv[2], "revoke") == 0 && argc > 3)
		status = keys_revoke(&cfg, argv[3]);
	else
		fputs(usage, stderr);
	crypto_cleanse(&link_keys, sizeof link_keys);
	config_free(&cfg);
	return status;
}
