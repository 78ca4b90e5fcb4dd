/*
 * adherence — running the evaluation of installments and plans.
 *
 * The rules are SQL (sql/functions/71_adherence.sql); this module runs them:
 * it takes the evaluation lock (one evaluation at a time across every keptd
 * instance), runs phase 1 (judge every installment whose time has come at
 * as_of) in one transaction, then phase 2 (break or complete the plans phase
 * 1 flagged) in batches of accounts, each its own transaction, until none is
 * left. Long statements are allowed (no statement timeout) inside these
 * transactions only. Running it again for the same as_of changes nothing.
 *
 * Used by the evaluator worker (as_of = now, skipping when another instance
 * is evaluating), `keptd evaluate --as-of T` and POST /v1/admin/evaluate
 * (both waiting their turn).
 */
#ifndef KEPT_ADHERENCE_H
#define KEPT_ADHERENCE_H

#include <stdbool.h>

#include "arena/arena.h"
#include "db/db.h"
#include "err/err.h"

struct adherence_result {
	bool ran;            /* false when another instance held the lock (and wait was false) */
	const char *as_of;   /* as the database understood it; arena-owned */
	long long evaluated; /* installments judged */
	long long accounts;  /* accounts whose plans phase 2 looked at */
	long long broken;    /* plans broken */
	long long completed; /* plans completed */
};

/*
 * Evaluates at `as_of` (an RFC 3339 time; NULL or "" for now). An as_of in the
 * future is refused (KEPT_ERR_RULE as_of_in_future), a malformed one is
 * KEPT_ERR_INVALID. With `wait`, waits for a running evaluation to finish;
 * without, returns at once with out->ran = false.
 */
kept_err adherence_evaluate(struct db_conn *db, struct arena *arena, const char *as_of, bool wait,
                            struct adherence_result *out, struct kept_error *err) KEPT_MUST_CHECK;

/* The result as a JSON object (arena-owned); NULL when out of memory. */
const char *adherence_result_json(struct arena *arena, const struct adherence_result *r);

/* The evaluator worker's run: evaluate now, unless another instance is. */
kept_err adherence_worker_run(struct db_conn *db, struct arena *arena,
                              struct kept_error *err) KEPT_MUST_CHECK;

#endif
