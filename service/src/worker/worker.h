/*
 * worker — background jobs inside keptd (the evaluator, the audit sealer,
 * later the reminder scheduler and dispatcher, the analytics loader).
 *
 * A worker is one thread with its own database connection. It runs its job,
 * then sleeps for the job's interval, until worker_stop(). Each run gets a
 * fresh arena, released after the run. A failed run is logged and retried at
 * the next interval; a lost connection is re-established before the next
 * run. Jobs make sure for themselves that several keptd instances never do
 * the same work twice (advisory locks, FOR UPDATE SKIP LOCKED).
 */
#ifndef KEPT_WORKER_H
#define KEPT_WORKER_H

#include <stdbool.h>

#include "arena/arena.h"
#include "db/db.h"
#include "err/err.h"

struct worker;

/* One run of a job. Returning an error only logs it. */
typedef kept_err (*worker_run_fn)(struct db_conn *db, struct arena *arena, struct kept_error *err);

struct worker_job {
	const char *name;
	int interval_ms;
	worker_run_fn run;
};

/* Starts a thread running `job` (copied; `settings` must outlive the worker). */
kept_err worker_start(const struct worker_job *job, const struct db_settings *settings, struct worker **out,
                      struct kept_error *err) KEPT_MUST_CHECK;

/* True on a worker's thread once it has been asked to stop: long jobs check
 * it between batches (each batch its own transaction) and return early, so
 * shutting down never waits for a whole backlog. False on other threads. */
bool worker_stopping(void);

/* Wakes the worker from its sleep now (a run in progress runs again once it
 * ends). Safe from any thread while the worker runs. */
void worker_wake(struct worker *w);

/* Asks the worker to stop, waits for its run in progress to end, frees it (NULL: no-op). */
void worker_stop(struct worker *w);

#endif
