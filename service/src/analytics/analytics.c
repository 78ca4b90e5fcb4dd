#include "analytics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "metrics/metrics.h"
#include "worker/worker.h"

#define REBUILD_PLANS_PER_BATCH "500"

static const char *separate_url; /* NULL: the operational database */
static char batch_events[16] = "1000";
static struct db_conn *worker_dst; /* the worker's connection to a separate analytics database */

void analytics_configure(const char *analytics_url, int batch)
{
	separate_url = analytics_url && *analytics_url ? analytics_url : NULL;
	snprintf(batch_events, sizeof batch_events, "%d", batch > 0 ? batch : 1000);
}

void analytics_shutdown(void)
{
	db_close(worker_dst);
	worker_dst = NULL;
}

/* The analytics database: `src` itself, the worker's own connection, or a new one (*owned). */
static kept_err target(struct db_conn *src, bool worker, struct db_conn **dst, struct db_conn **owned,
                       struct kept_error *err)
{
	*owned = NULL;
	if (!separate_url) {
		*dst = src;
		return KEPT_OK;
	}
	struct db_settings s = {separate_url, 0, "keptd analytics"};
	if (worker) {
		if (worker_dst && !db_is_up(worker_dst)) {
			db_close(worker_dst);
			worker_dst = NULL;
		}
		kept_err r = worker_dst ? KEPT_OK : db_connect(&s, &worker_dst, err);
		*dst = worker_dst;
		return r;
	}
	kept_err r = db_connect(&s, owned, err);
	*dst = *owned;
	return r;
}

kept_err analytics_migrate(struct kept_error *err)
{
	if (!separate_url)
		return KEPT_OK;
	const struct sql_file *schema = NULL;
	for (size_t i = 0; i < sql_functions_count; i++)
		if (strcmp(sql_functions[i].name, "90_analytics.sql") == 0)
			schema = &sql_functions[i];
	if (!schema)
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "",
		                 "90_analytics.sql is not embedded");
	struct db_settings s = {separate_url, 0, "keptd migrate"};
	struct db_conn *db = NULL;
	kept_err r = db_connect(&s, &db, err);
	if (!r)
		r = db_exec_script(db, schema->text, err);
	db_close(db);
	return r;
}

struct apply {
	struct arena *arena;
	const char *doc;
	long long applied; /* -1: refused */
};

static kept_err apply_tx(struct db_conn *dst, void *arg, struct kept_error *err)
{
	struct apply *a = arg;
	const char *params[] = {a->doc};
	struct db_result *res = NULL;
	kept_err r = db_run(dst, a->arena, SQL_Q_ANALYTICS_APPLY, 1, params, &res, err);
	const char *v = db_value(res, 0, 0);
	a->applied = v ? strtoll(v, NULL, 10) : -1;
	return r;
}

static kept_err cursor(struct db_conn *dst, struct arena *arena, const char **tx, const char **id,
                       struct kept_error *err)
{
	struct db_result *res = NULL;
	kept_err r = db_run(dst, arena, SQL_Q_ANALYTICS_CURSOR, 0, NULL, &res, err);
	*tx = db_value(res, 0, 0);
	*id = db_value(res, 0, 1);
	if (!r && (!*tx || !*id))
		r = kept_fail(err, KEPT_ERR_INTERNAL, "analytics_not_ready", "",
		              "analytics.loader_state is empty; run keptd migrate");
	return r;
}

static kept_err measure_lag(struct db_conn *src, struct db_conn *dst, struct analytics_result *out,
                            struct kept_error *err)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	const char *params[2];
	struct db_result *res = NULL;
	kept_err r = cursor(dst, arena, &params[0], &params[1], err);
	if (!r)
		r = db_run(src, arena, SQL_Q_ANALYTICS_LAG, 2, params, &res, err);
	if (!r) {
		out->lag_events = strtoll(db_value(res, 0, 0) ? db_value(res, 0, 0) : "0", NULL, 10);
		out->lag_seconds = strtod(db_value(res, 0, 1) ? db_value(res, 0, 1) : "0", NULL);
		metrics_analytics_lag(out->lag_events, out->lag_seconds);
	}
	arena_free(arena);
	return r;
}

/* Batches until none is left, each in its own arena. */
static kept_err load_locked(struct db_conn *src, struct db_conn *dst, struct analytics_result *out,
                            struct kept_error *err)
{
	while (!worker_stopping()) { /* a stopping worker leaves the rest for the next run (or instance) */
		struct arena *arena = arena_new(0);
		if (!arena)
			return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
		const char *params[3] = {NULL, NULL, batch_events};
		const char *doc = NULL;
		kept_err r = cursor(dst, arena, &params[0], &params[1], err);
		if (!r)
			r = db_run_json(src, arena, SQL_Q_ANALYTICS_EXTRACT, 3, params, &doc, err);
		struct apply a = {arena, doc, -1};
		if (!r && doc)
			r = db_transaction(dst, apply_tx, &a, err);
		arena_free(arena);
		if (r || !doc || a.applied < 0)
			return r;
		out->batches++;
		out->events += a.applied;
		if (out->batches % 20 == 0) { /* a long catch-up still shows its lag as it goes */
			r = measure_lag(src, dst, out, err);
			if (r)
				return r;
		}
	}
	return KEPT_OK;
}

static kept_err with_lock(struct db_conn *src, struct db_conn *dst, struct analytics_result *out,
                          kept_err (*work)(struct db_conn *, struct db_conn *, struct analytics_result *,
                                           struct kept_error *),
                          struct kept_error *err)
{
	struct db_result *res = NULL;
	struct arena *arena = arena_new(0);
	if (!arena)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	kept_err r = db_run(dst, arena, SQL_Q_ANALYTICS_LOCK, 0, NULL, &res, err);
	const char *held = db_value(res, 0, 0);
	out->ran = !r && held && held[0] == 't';
	arena_free(arena);
	if (r || !out->ran)
		return r;
	r = work(src, dst, out, err);
	struct kept_error ignored;
	kept_err u = db_run(dst, NULL, SQL_Q_ANALYTICS_UNLOCK, 0, NULL, NULL, &ignored);
	(void)u; /* a lost connection releases it too */
	return r;
}

static kept_err load(struct db_conn *src, bool worker, struct analytics_result *out, struct kept_error *err)
{
	struct db_conn *dst = NULL, *owned = NULL;
	*out = (struct analytics_result){0};
	kept_err r = target(src, worker, &dst, &owned, err);
	if (!r)
		r = with_lock(src, dst, out, load_locked, err);
	if (!r)
		r = measure_lag(src, dst, out, err);
	db_close(owned);
	return r;
}

kept_err analytics_load(struct db_conn *src, struct analytics_result *out, struct kept_error *err)
{
	return load(src, false, out, err);
}

/* reset, cursor at the position already reflected, then every plan page by page */
static kept_err rebuild_locked(struct db_conn *src, struct db_conn *dst, struct analytics_result *out,
                               struct kept_error *err)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	struct db_result *pos = NULL;
	kept_err r = db_run(src, arena, SQL_Q_ANALYTICS_POSITION, 0, NULL, &pos, err);
	const char *at[2] = {db_value(pos, 0, 0), db_value(pos, 0, 1)};
	if (!r)
		r = db_run(dst, arena, SQL_Q_ANALYTICS_RESET, 0, NULL, NULL, err);
	if (!r)
		r = db_run(dst, arena, SQL_Q_ANALYTICS_SET_CURSOR, 2, at, NULL, err);
	char after[32] = "0";
	while (!r) {
		struct arena *page = arena_new(0);
		if (!page) {
			r = kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
			break;
		}
		const char *params[] = {at[0], at[1], after, REBUILD_PLANS_PER_BATCH};
		struct db_result *res = NULL;
		r = db_run(src, page, SQL_Q_ANALYTICS_SNAPSHOT, 4, params, &res, err);
		const char *doc = db_value(res, 0, 0), *last = db_value(res, 0, 1),
		           *plans = db_value(res, 0, 2);
		struct apply a = {page, doc, -1};
		if (!r && doc)
			r = db_transaction(dst, apply_tx, &a, err);
		bool more = !r && doc && last && plans && a.applied >= 0;
		if (more) {
			out->plans += strtoll(plans, NULL, 10);
			out->batches++;
			snprintf(after, sizeof after, "%s", last);
		}
		arena_free(page);
		if (!more)
			break;
	}
	arena_free(arena);
	return r;
}

kept_err analytics_rebuild(struct db_conn *src, struct analytics_result *out, struct kept_error *err)
{
	struct db_conn *dst = NULL, *owned = NULL;
	*out = (struct analytics_result){0};
	kept_err r = target(src, false, &dst, &owned, err);
	if (!r)
		r = with_lock(src, dst, out, rebuild_locked, err);
	if (!r && !out->ran)
		r = kept_fail(err, KEPT_ERR_CONFLICT, "loader_busy", "",
		              "another loader is running; try again");
	if (!r)
		r = measure_lag(src, dst, out, err);
	db_close(owned);
	return r;
}

kept_err analytics_loaded_position(struct db_conn *src, struct arena *arena, const char **tx, const char **id,
                                   struct kept_error *err)
{
	struct db_conn *dst = NULL, *owned = NULL;
	kept_err r = target(src, false, &dst, &owned, err);
	if (!r)
		r = cursor(dst, arena, tx, id, err);
	db_close(owned);
	return r;
}

kept_err analytics_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err)
{
	(void)arena;
	struct analytics_result res;
	kept_err r = load(db, true, &res, err);
	if (!r && res.events > 0) {
		struct log_line l;
		log_begin(&l, LOG_INFO, "analytics_loaded");
		log_int(&l, "events", res.events);
		log_int(&l, "batches", res.batches);
		log_int(&l, "lag_events", res.lag_events);
		log_end(&l);
	}
	return r;
}

const char *analytics_result_json(struct arena *arena, const struct analytics_result *r)
{
	return arena_sprintf(
	        arena,
	        "{\"ran\":%s,\"batches\":%lld,\"events\":%lld,\"plans\":%lld,\"lag_events\":%lld,"
	        "\"lag_seconds\":%.3f}",
	        r->ran ? "true" : "false", r->batches, r->events, r->plans, r->lag_events, r->lag_seconds);
}
