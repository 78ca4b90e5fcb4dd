/*
 * analytics — the loader that feeds schema analytics from the outbox.
 *
 * What it promises: outbox events are consumed in (tx_id, id) order and only
 * from transactions that have ended, so none is ever skipped; each batch's
 * facts are read from the operational tables (kept.analytics_extract) and
 * applied together with the cursor in one transaction of the analytics
 * database (analytics.apply), so a batch is loaded exactly once even if the
 * loader stops half-way or two keptd instances run it (one at a time: an
 * advisory lock; a batch that does not start at the cursor is refused).
 * The analytics database may be another one (KEPT_ANALYTICS_DATABASE_URL).
 * After each run the lag (events not loaded, age of the oldest) goes to
 * /metrics.
 */
#ifndef KEPT_ANALYTICS_H
#define KEPT_ANALYTICS_H

#include <stdbool.h>

#include "arena/arena.h"
#include "db/db.h"
#include "err/err.h"

struct analytics_result {
	bool ran;          /* false when another loader held the lock */
	long long batches; /* applied */
	long long events;  /* loaded */
	long long plans;   /* rebuild: plans written */
	long long lag_events;
	double lag_seconds;
};

/* The analytics database: NULL or "" for the operational one. The string
 * must outlive the module. Call once at start. */
void analytics_configure(const char *analytics_url, int batch_events);

/* keptd migrate's part: applies sql/functions/90_analytics.sql (idempotent)
 * to a separate analytics database; nothing when analytics lives in the
 * operational one (migrate_run has done it there). */
kept_err analytics_migrate(struct kept_error *err) KEPT_MUST_CHECK;

/* Loads every batch there is. `src` is the operational database. */
kept_err analytics_load(struct db_conn *src, struct analytics_result *out,
                        struct kept_error *err) KEPT_MUST_CHECK;

/* Empties the facts and writes them again from the operational tables, then
 * leaves the cursor at the last event already reflected. */
kept_err analytics_rebuild(struct db_conn *src, struct analytics_result *out,
                           struct kept_error *err) KEPT_MUST_CHECK;

/* The loader's cursor: the last outbox event applied, as (tx_id, id) text
 * (arena-owned), read where analytics lives. What was applied may be pruned
 * (service/src/retention/); nothing after it may. */
kept_err analytics_loaded_position(struct db_conn *src, struct arena *arena, const char **tx, const char **id,
                                   struct kept_error *err) KEPT_MUST_CHECK;

/* The loader worker's run. */
kept_err analytics_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err);

/* The result as JSON (arena-owned). */
const char *analytics_result_json(struct arena *arena, const struct analytics_result *r);

/* Closes the worker's connection to a separate analytics database. */
void analytics_shutdown(void);

#endif
