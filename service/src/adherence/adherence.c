#include "adherence.h"

#include <stdio.h>
#include <stdlib.h>

#include "json/json.h"
#include "log/log.h"
#include "worker/worker.h"

#define ADHERENCE_ACCOUNTS_PER_BATCH "1000"

struct phase {
	const char *as_of;
	struct arena *arena;
	const char *answer; /* the phase's result, as text */
};

static kept_err phase_outcomes(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct phase *p = arg;
	const char *params[] = {p->as_of};
	kept_err r = db_run(db, NULL, SQL_Q_NO_STATEMENT_TIMEOUT, 0, NULL, NULL, err);
	return r ? r : db_run_json(db, p->arena, SQL_Q_EVALUATE_OUTCOMES, 1, params, &p->answer, err);
}

static kept_err phase_plans(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct phase *p = arg;
	const char *params[] = {p->as_of, ADHERENCE_ACCOUNTS_PER_BATCH};
	kept_err r = db_run(db, NULL, SQL_Q_NO_STATEMENT_TIMEOUT, 0, NULL, NULL, err);
	return r ? r : db_run_json(db, p->arena, SQL_Q_EVALUATE_PLANS, 2, params, &p->answer, err);
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
	kept_err r = db_transaction(db, phase_outcomes, p, err);
	if (r)
		return r;
	out->evaluated = strtoll(p->answer ? p->answer : "0", NULL, 10);
	return run_phase_plans(db, p, out, err);
}

/* Takes the evaluation lock; *held is false when `wait` is off and it is taken. */
static kept_err take_lock(struct db_conn *db, struct arena *arena, bool wait, bool *held,
                          struct kept_error *err)
{
	struct db_result *res = NULL;
	kept_err r = db_run(db, arena, wait ? SQL_Q_EVALUATION_LOCK : SQL_Q_EVALUATION_TRY_LOCK, 0, NULL,
	                    &res, err);
	const char *v = db_value(res, 0, 0);
	*held = !r && (wait || (v && v[0] == 't'));
	return r;
}

kept_err adherence_evaluate(struct db_conn *db, struct arena *arena, const char *as_of, bool wait,
                            struct adherence_result *out, struct kept_error *err)
{
	struct phase p = {NULL, arena, NULL};
	const char *params[] = {as_of};
	bool held = false;
	*out = (struct adherence_result){0};
	kept_err r = db_run_json(db, arena, SQL_Q_AS_OF, 1, params, &p.as_of, err);
	if (!r)
		r = take_lock(db, arena, wait, &held, err);
	if (r || !held)
		return r;
	out->ran = true;
	out->as_of = p.as_of;
	r = run_locked(db, &p, out, err);
	struct kept_error ignored;
	kept_err u = db_run(db, NULL, SQL_Q_EVALUATION_UNLOCK, 0, NULL, NULL, &ignored);
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
