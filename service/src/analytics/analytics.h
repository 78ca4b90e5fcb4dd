/*
 * analytics — the loader that feeds schema analytics from the outbox, its
 * rebuild, and the check that analytics equals the operational truth.
 *
 * What it promises:
 * - Outbox events are consumed in (tx_id, id) order and only from
 *   transactions that have ended, so none is ever skipped. A batch writes
 *   exactly the facts its events touched (sql/functions/91_analytics_extract.sql
 *   says which), whole rows read from the operational tables, together with
 *   the cursor in one transaction of the analytics database: a batch is
 *   loaded exactly once even if the loader stops half-way or several keptd
 *   run it (one at a time: an advisory lock, and the cursor row). When
 *   analytics lives in the operational database a batch is one SQL call that
 *   writes the facts straight from the operational tables; in another
 *   database (KEPT_ANALYTICS_DATABASE_URL) the facts travel as one JSON
 *   array per fact table, each parsed once.
 * - A rebuild writes every fact again in one transaction of the analytics
 *   database (readers see the old facts until it commits). It runs by itself
 *   when `keptd migrate` changed the shape of analytics.
 * - The check compares, as of the loader's cursor, every fact with the
 *   operational rows it comes from (entities with events the loader has not
 *   reached are left out) and every pre-aggregate with its facts; a repair
 *   writes again what differs and audits it. The loader worker checks a
 *   slice after each run, so a whole sweep goes by continuously, and exports
 *   what it found as kept_analytics_mismatches; its lag goes to /metrics too.
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
	long long facts;   /* rebuild: fact rows written */
	bool rebuilt;      /* a rebuild ran (asked for, or needed by a new analytics version) */
	long long lag_events;
	double lag_seconds;
};

/* One difference a check found: a fact's column against the operational
 * row's (or an aggregate's against its facts). Values are truncated text. */
struct analytics_difference {
	char entity[24]; /* fact_plan, fact_installment, fact_call, fact_payment, agg_week, agg_plan */
	char key[160];   /* the row's key as JSON */
	char column[48]; /* "*" when the row is on one side only */
	char analytics[96];
	char operational[96];
};

#define ANALYTICS_SHOWN 20

struct analytics_report {
	long long differences; /* found by the (last) check */
	long long facts;       /* plans, calls and payments compared */
	long long repaired;    /* facts written or removed and aggregate groups recomputed by a repair */
	int shown;             /* the first differences, in key order per page */
	struct analytics_difference first[ANALYTICS_SHOWN];
};

/* The analytics database: NULL or "" for the operational one. The string
 * must outlive the module. Call once at start. */
void analytics_configure(const char *analytics_url, int batch_events);

/* keptd migrate's part: applies sql/functions/90_analytics.sql (idempotent)
 * to a separate analytics database; nothing when analytics lives in the
 * operational one (migrate_run has done it there). */
kept_err analytics_migrate(struct kept_error *err) KEPT_MUST_CHECK;

/* Loads every batch there is (rebuilding first when analytics asks for it).
 * `src` is the operational database. */
kept_err analytics_load(struct db_conn *src, struct analytics_result *out,
                        struct kept_error *err) KEPT_MUST_CHECK;

/* Writes every fact again from the operational tables, in one transaction,
 * and leaves the cursor at the last event already reflected. */
kept_err analytics_rebuild(struct db_conn *src, struct analytics_result *out,
                           struct kept_error *err) KEPT_MUST_CHECK;

/* Checks everything (waiting up to 30 s for a running loader); with
 * `repair`, writes again what differs, audits the repair and checks once
 * more, so `out` describes analytics after the repair. */
kept_err analytics_verify(struct db_conn *src, bool repair, struct analytics_report *out,
                          struct kept_error *err) KEPT_MUST_CHECK;

/* The loader's cursor: the last outbox event applied, as (tx_id, id) text
 * (arena-owned), read where analytics lives. What was applied may be pruned
 * (service/src/retention/); nothing after it may. */
kept_err analytics_loaded_position(struct db_conn *src, struct arena *arena, const char **tx, const char **id,
                                   struct kept_error *err) KEPT_MUST_CHECK;

/* The loader worker's run: load, then check the next slice. */
kept_err analytics_worker_run(struct db_conn *db, struct arena *arena,
                              struct kept_error *err) KEPT_MUST_CHECK;

/* The results as JSON (arena-owned). */
const char *analytics_result_json(struct arena *arena, const struct analytics_result *r);
const char *analytics_report_json(struct arena *arena, const struct analytics_report *r);

/* Closes the worker's connection to a separate analytics database. */
void analytics_shutdown(void);

#endif
