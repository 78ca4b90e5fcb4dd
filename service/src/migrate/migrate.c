#include "migrate.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf/buf.h"
#include "crypto/crypto.h"
#include "db_queries.h"
#include "log/log.h"
#include "rules/rules.h"
#include "sql_bundle.h"

static void file_checksum(const struct sql_file *f, char out[65])
{
	crypto_sha256_hex(f->text, strlen(f->text), out);
}

/* Adds `value` as `name` unless it is NULL. */
static void add_text(cJSON *o, const char *name, const char *value)
{
	if (value)
		cJSON_AddStringToObject(o, name, value);
}

/* The field rules (rules/rules.h) as the JSON array kept.field_rules_load
 * takes; malloc'd (free with cJSON_free), NULL when out of memory. */
static char *rules_json(void)
{
	cJSON *all = cJSON_CreateArray();
	for (size_t i = 0; all && i < field_rules_count; i++) {
		const struct field_rule *r = &field_rules[i];
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(all, o)) {
			cJSON_Delete(o);
			cJSON_Delete(all);
			return NULL;
		}
		add_text(o, "name", r->name);
		add_text(o, "code", r->code);
		add_text(o, "field", r->field);
		add_text(o, "property", r->property ? r->property : r->field);
		add_text(o, "message", r->message);
		add_text(o, "pattern", r->pattern);
		add_text(o, "values", r->values);
		add_text(o, "predicate", r->predicate);
		add_text(o, "constraints", r->constraints);
		if (r->max_chars)
			cJSON_AddNumberToObject(o, "max_chars", r->max_chars);
		if (r->bounds & RULE_MIN)
			cJSON_AddNumberToObject(o, "minimum", (double)r->min);
		if (r->bounds & RULE_MAX)
			cJSON_AddNumberToObject(o, "maximum", (double)r->max);
	}
	char *text = all ? cJSON_PrintUnformatted(all) : NULL;
	cJSON_Delete(all);
	return text;
}

void migrate_bundle_checksum(char out[65])
{
	struct buf b;
	char sum[65];
	buf_init(&b, 1u << 20);
	kept_err r = KEPT_OK;
	for (size_t i = 0; !r && i < sql_migrations_count; i++) {
		file_checksum(&sql_migrations[i], sum);
		r = buf_printf(&b, "migration %s %s\n", sql_migrations[i].name, sum);
	}
	for (size_t i = 0; !r && i < sql_functions_count; i++) {
		file_checksum(&sql_functions[i], sum);
		r = buf_printf(&b, "functions %s %s\n", sql_functions[i].name, sum);
	}
	char *rules = rules_json();
	if (!r && rules) {
		crypto_sha256_hex(rules, strlen(rules), sum);
		r = buf_printf(&b, "rules %s\n", sum);
	}
	cJSON_free(rules);
	crypto_sha256_hex(buf_str(&b), buf_len(&b), out);
	buf_free(&b);
}

/* ---- one migration ---------------------------------------------------------- */

struct apply_ctx {
	const struct sql_file *file;
	const char *checksum;
};

/*
 * Online: a migration or the functions' reload waits at most LOCK_WAIT for
 * each lock it takes, so that it, not a payment, is the one to give way when
 * the two would deadlock (PostgreSQL checks for deadlock after a second of
 * waiting); the whole transaction is tried again, up to TRIES times.
 */
#define LOCK_WAIT "200ms"
#define TRIES     40

static kept_err yielding(struct db_conn *db, struct kept_error *err)
{
	return db_exec_script(db, "SET LOCAL lock_timeout = '" LOCK_WAIT "'", err);
}

/* db_transaction, again after a pause while the locks were not to be had. */
static kept_err with_retries(struct db_conn *db, db_tx_fn fn, void *ctx, const char *what,
                             struct kept_error *err)
{
	kept_err r = KEPT_OK;
	for (int attempt = 1; attempt <= TRIES; attempt++) {
		r = db_transaction(db, fn, ctx, err);
		bool busy = r == KEPT_ERR_RETRY ||
		            (r == KEPT_ERR_UNAVAILABLE && strcmp(err->code, "contention") == 0);
		if (!busy)
			return r;
		log_msg(LOG_WARN, "migrate_waiting", "%s: the tables are busy (try %d of %d)", what, attempt,
		        TRIES);
		struct timespec pause = {0, 250L * 1000000L};
		nanosleep(&pause, NULL);
	}
	return r;
}

static kept_err apply_one(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct apply_ctx *ctx = arg;
	kept_err r = yielding(db, err);
	if (!r)
		r = db_exec_script(db, ctx->file->text, err);
	if (r)
		return r;
	return q_migrate_record(db, NULL, ctx->file->name, ctx->checksum, NULL, err);
}

/* Checks applied migrations against the embedded ones; *applied_rows gets the list. */
static kept_err check_applied(struct db_conn *db, struct arena *arena, struct db_result **applied,
                              struct kept_error *err)
{
	kept_err r = q_migrate_applied(db, arena, applied, err);
	for (int row = 0; !r && row < db_rows(*applied); row++) {
		const char *name = db_value(*applied, row, 0);
		const struct sql_file *f = NULL;
		for (size_t i = 0; i < sql_migrations_count; i++)
			if (strcmp(sql_migrations[i].name, name) == 0)
				f = &sql_migrations[i];
		if (!f)
			return kept_fail(err, KEPT_ERR_CONFLICT, "unknown_migration", "",
			                 "the database has migration %s, which this keptd does not know; "
			                 "is an older keptd running against a newer database?",
			                 name);
		char sum[65];
		file_checksum(f, sum);
		if (strcmp(sum, db_value(*applied, row, 1)) != 0)
			return kept_fail(err, KEPT_ERR_CONFLICT, "migration_changed", "",
			                 "migration %s was changed after it was applied; applied migrations "
			                 "must never change, add a new one instead",
			                 name);
	}
	return r;
}

static bool is_applied(const struct db_result *applied, const char *name)
{
	for (int row = 0; row < db_rows(applied); row++)
		if (strcmp(db_value(applied, row, 0), name) == 0)
			return true;
	return false;
}

static kept_err apply_pending(struct db_conn *db, const struct db_result *applied,
                              struct migrate_report *report, struct kept_error *err)
{
	for (size_t i = 0; i < sql_migrations_count; i++) {
		const struct sql_file *f = &sql_migrations[i];
		if (is_applied(applied, f->name)) {
			report->present++;
			continue;
		}
		char sum[65];
		file_checksum(f, sum);
		struct apply_ctx ctx = {f, sum};
		kept_err r = with_retries(db, apply_one, &ctx, f->name, err);
		if (r) {
			log_msg(LOG_ERROR, "migrate_failed", "migration %s: %s", f->name, err->message);
			return r;
		}
		log_msg(LOG_INFO, "migrate_applied", "applied %s", f->name);
		report->applied++;
	}
	return KEPT_OK;
}

/* ---- functions ----------------------------------------------------------------- */

static kept_err reload_functions(struct db_conn *db, void *arg, struct kept_error *err)
{
	(void)arg;
	kept_err y = yielding(db, err);
	if (y)
		return y;
	for (size_t i = 0; i < sql_functions_count; i++) {
		kept_err r = db_exec_script(db, sql_functions[i].text, err);
		if (r && r != KEPT_ERR_RETRY) {
			log_msg(LOG_ERROR, "migrate_failed", "functions %s: %s", sql_functions[i].name,
			        err->message);
			return r;
		}
	}
	kept_err r = q_migrate_refresh_time_zones(db, NULL, NULL, err);
	if (r)
		return r;
	char *rules = rules_json();
	if (!rules)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	r = q_migrate_field_rules(db, NULL, rules, NULL, err);
	cJSON_free(rules);
	if (r)
		return r;
	char bundle[65];
	migrate_bundle_checksum(bundle);
	return q_migrate_set_state(db, NULL, bundle, NULL, err);
}

/* ---- the run ----------------------------------------------------------------------- */

static kept_err migrate_locked(struct db_conn *db, struct arena *arena, struct migrate_report *report,
                               struct kept_error *err)
{
	struct db_result *applied;
	kept_err r = db_exec_script(db, sql_queries[SQL_Q_MIGRATE_BOOTSTRAP].text, err);
	if (!r)
		r = check_applied(db, arena, &applied, err);
	if (!r)
		r = apply_pending(db, applied, report, err);
	if (!r)
		r = with_retries(db, reload_functions, NULL, "functions", err);
	return r;
}

kept_err migrate_run(struct db_conn *db, struct migrate_report *report, struct kept_error *err)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	memset(report, 0, sizeof *report);
	kept_err r = q_migrate_lock(db, NULL, NULL, err);
	if (!r) {
		r = migrate_locked(db, arena, report, err);
		struct kept_error ignored;
		kept_err u = q_migrate_unlock(db, NULL, NULL, &ignored);
		(void)u; /* the lock also ends with the session */
	}
	arena_free(arena);
	return r;
}
