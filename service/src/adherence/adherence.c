#include "adherence.h"

#include <stdio.h>
#include <stdlib.h>

#include "json/json.h"
#include "log/log.h"
#include "worker/worker.h"

#define ADHERENCE_ACCOUNTS_PER_BATCH 1000

struct phase {
	const char *as_of;
	const char *after; /* phase 1: the key to continue from (JSON), NULL at the start */
	struct arena *arena;
	const char *answer; /* the phase's result, as text */
};

static kept_err phase_outcomes(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct phase *p = arg;
	/* the batch size is the SQL function's */
	kept_err r = q_no_statement_timeout(db, NULL, NULL, err);
	return r ? r : q_evaluate_outcomes_batch_value(db, p->arena, p->as_of, p->after, &p->answer, err);
}

/* Reads one phase 1 answer: its count, whether the walk is over, and where
 * the next batch starts. */
static bool read_batch(struct phase *p, long long *evaluated, bool *done)
{
	cJSON *doc = cJSON_Parse(p->answer ? p->answer : "");
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(doc, "done");
	bool ok = json_get_int(doc, "evaluated", evaluated) && cJSON_IsBool(last);
	*done = cJSON_IsTrue(last);
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(doc, "after");
	char *text = ok && cJSON_IsObject(after) ? cJSON_PrintUnformatted(after) : NULL;
	p->after = text ? arena_strdup(p->arena, text) : NULL;
	free(text);
	cJSON_Delete(doc);
	return ok;
}

/* Phase 1, a batch per transaction, until a batch comes back short. */
static kept_err run_phase_outcomes(struct db_conn *db, struct phase *p, struct adherence_result *out,
                                   struct kept_error *err)
{
	p->after = NULL;
	/* what a stopping worker leaves is judged by the next run, at its own as_of */
	while (!worker_stopping()) {
		kept_err r = db_transaction(db, phase_outcomes, p, err);
		if (r)
			return r;
		long long evaluated = 0;
		bool done = true;
		if (!read_batch(p, &evaluated, &done))
			return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "phase 1 answered %s",
			                 p->answer);
		out->evaluated += evaluated;
		if (done || !p->after)
			return KEPT_OK;
	}
	return KEPT_OK;
}

static kept_err phase_plans(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct phase *p = arg;
	kept_err r = q_no_statement_timeout(db, NULL, NULL, err);
	return r ? r
	         : q_evaluate_plans_value(db, p->arena, p->as_of, ADHERENCE_ACCOUNTS_PER_BATCH, &p->answer,
	                                  err);
}

/* Phase 2 until no flagged plan is left; adds its counts to `out`. */
static kept_err run_phase_plans(struct db_conn *db, struct phase *p, struct adherence_result *out,
                                struct kept_error *err)
{
	/* flagged plans stay flagged: a stopping worker leaves them to the next run */
	while (!worker_stopping()) {
		kept_err r = db_transaction(db, phase_plans, p, err);
		if (r)
			return r;
		cJSON *doc = cJSON_Parse(p->answer ? p->answer : "");
		long long accounts = 0, broken = 0, completed = 0;
		bool ok = json_get_int(doc, "accounts", &accounts) && json_get_int(doc, "broken", &broken) &&
		          json_get_int(doc, "completed", &completed);
		cJSON_Delete(doc);
		if (!ok)
			return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "phase 2 answered %s",
			                 p->answer);
		if (accounts == 0)
			return KEPT_OK;
		out->accounts += accounts;
		out->broken += broken;
		out->completed += completed;
	}
	return KEPT_OK;
}

static kept_err run_locked(struct db_conn *db, struct phase *p, struct adherence_result *out,
                           struct kept_error *err)
{
	kept_err r = run_phase_outcomes(db, p, out, err);
	return r ? r : run_phase_plans(db, p, out, err);
}

/* Takes the evaluation lock; *held is false when `wait` is off and it is taken. */
static kept_err take_lock(struct db_conn *db, struct arena *arena, bool wait, bool *held,
                          struct kept_error *err)
{
	struct db_result *res = NULL;
	kept_err r = (wait ? q_evaluation_lock : q_evaluation_try_lock)(db, arena, &res, err);
	const char *v = db_value(res, 0, 0);
	*held = !r && (wait || (v && v[0] == 't'));
	return r;
}

kept_err adherence_evaluate(struct db_conn *db, struct arena *arena, const char *as_of, bool wait,
                            struct adherence_result *out, struct kept_error *err)
{
	struct phase p = {NULL, NULL, arena, NULL};
	bool held = false;
	*out = (struct adherence_result){0};
	kept_err r = q_as_of_value(db, arena, as_of, &p.as_of, err);
	if (!r)
		r = take_lock(db, arena, wait, &held, err);
	if (r || !held)
		return r;
	out->ran = true;
	out->as_of = p.as_of;
	r = run_locked(db, &p, out, err);
	struct kept_error ignored;
	kept_err u = q_evaluation_unlock(db, NULL, NULL, &ignored);
	(void)u; /* a lost connection releases the lock too */
	return r;
}

const char *adherence_result_json(struct arena *arena, const struct adherence_result *r)
{
	return arena_sprintf(arena,
	                     "{\"as_of\":\"%s\",\"installments_evaluated\":%lld,\"accounts_checked\":%lld,"
	                     "\"plans_broken\":%lld,\"plans_completed\":%lld}",
	                     r->as_of ? r->as_of : "", r->evaluated, r->accounts, r->broken, r->completed);
}

kept_err adherence_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err)
{
	struct adherence_result res;
	kept_err r = adherence_evaluate(db, arena, NULL, false, &res, err);
	if (r || !res.ran || (res.evaluated == 0 && res.accounts == 0))
		return r;
	struct log_line l;
	log_begin(&l, LOG_INFO, "evaluated");
	log_str(&l, "as_of", res.as_of);
	log_int(&l, "installments", res.evaluated);
	log_int(&l, "broken", res.broken);
	log_int(&l, "completed", res.completed);
	log_end(&l);
	return KEPT_OK;
}
