#include "reminders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "log/log.h"

static const struct reminders_config *config;

/* The dispatcher worker's provider: one thread uses it, its connections stay warm. */
static struct provider *worker_provider;

void reminders_configure(const struct reminders_config *cfg)
{
	config = cfg;
}

bool reminders_can_dial(void)
{
	return config && config->provider.base_url;
}

kept_err reminders_schedule(struct db_conn *db, struct arena *arena, const char *as_of, const char **json,
                            struct kept_error *err)
{
	const char *params[] = {as_of};
	return db_run_json(db, arena, SQL_Q_REMINDERS_SCHEDULE, 1, params, json, err);
}

struct claim {
	struct arena *arena;
	const char *as_of;
	const char *limit;
	struct db_result *rows;
};

static kept_err claim_batch(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct claim *c = arg;
	const char *params[] = {c->as_of, c->limit};
	return db_run(db, c->arena, SQL_Q_CALLS_CLAIM, 2, params, &c->rows, err);
}

static const char *outcome_name(enum provider_outcome o)
{
	switch (o) {
	case PROVIDER_PLACED: return "placed";
	case PROVIDER_FAILED: return "failed";
	case PROVIDER_UNKNOWN: return "unknown";
	}
	return "unknown";
}

static kept_err record(struct db_conn *db, struct arena *arena, const char *id,
                       const struct provider_call_result *res, struct kept_error *err)
{
	const char *params[] = {id,
	                        outcome_name(res->outcome),
	                        res->sid[0] ? res->sid : NULL,
	                        arena_sprintf(arena, "%d", res->attempts),
	                        res->reconciled ? "true" : "false",
	                        res->error[0] ? res->error : NULL};
	kept_err r = db_run(db, arena, SQL_Q_CALL_DIALED, 6, params, NULL, err);
	struct log_line l;
	log_begin(&l, res->outcome == PROVIDER_PLACED ? LOG_INFO : LOG_WARN, "call_dialed");
	log_str(&l, "call_id", id);
	log_str(&l, "outcome", outcome_name(res->outcome));
	log_int(&l, "attempts", res->attempts);
	if (res->reconciled)
		log_str(&l, "reconciled", "true");
	if (res->error[0])
		log_str(&l, "error", res->error);
	log_end(&l);
	return r;
}

/* Places one claimed batch and records every result. */
static kept_err place_batch(struct db_conn *db, struct arena *arena, struct provider *p,
                            struct db_result *rows, struct dispatch_result *out, struct kept_error *err)
{
	int n = db_rows(rows);
	struct provider_call_request *reqs = arena_zalloc(arena, (size_t)n * sizeof *reqs);
	struct provider_call_result *res = arena_zalloc(arena, (size_t)n * sizeof *res);
	if (!reqs || !res)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	for (int i = 0; i < n; i++) {
		const char *id = db_value(rows, i, 0);
		reqs[i].to = db_value(rows, i, 1);
		reqs[i].from = config->from;
		reqs[i].url = arena_sprintf(arena, "%s/telephony/twiml/%s", config->public_url, id);
		reqs[i].status_callback =
		        arena_sprintf(arena, "%s/telephony/status/%s", config->public_url, id);
		reqs[i].ring_timeout_s = 30;
		reqs[i].machine_detection = true;
		if (!reqs[i].url || !reqs[i].status_callback)
			return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	}
	provider_place_calls(p, reqs, (size_t)n, res);
	kept_err first = KEPT_OK;
	for (int i = 0; i < n; i++) {
		/* every result is recorded even if one record fails */
		struct kept_error e;
		kept_error_clear(&e);
		kept_err r = record(db, arena, db_value(rows, i, 0), &res[i], &e);
		if (r && !first) {
			first = r;
			*err = e;
		}
		out->placed += res[i].outcome == PROVIDER_PLACED;
		out->failed += res[i].outcome == PROVIDER_FAILED;
		out->unknown += res[i].outcome == PROVIDER_UNKNOWN;
	}
	return first;
}

kept_err reminders_dispatch(struct db_conn *db, struct arena *arena, struct provider *provider,
                            const char *as_of, struct dispatch_result *out, struct kept_error *err)
{
	*out = (struct dispatch_result){0};
	if (!reminders_can_dial())
		return kept_fail(err, KEPT_ERR_RULE, "telephony_not_configured", "",
		                 "no telephony provider is configured (KEPT_TELEPHONY_BASE_URL)");
	struct provider *own = NULL;
	if (!provider) {
		kept_err r = provider_new(&config->provider, &own, err);
		if (r)
			return r;
		provider = own;
	}
	struct claim c = {arena, as_of, arena_sprintf(arena, "%d", config->batch > 0 ? config->batch : 64),
	                  NULL};
	kept_err r = KEPT_OK;
	for (;;) {
		r = db_transaction(db, claim_batch, &c, err);
		if (r || db_rows(c.rows) == 0)
			break;
		out->claimed += db_rows(c.rows);
		r = place_batch(db, arena, provider, c.rows, out, err);
		if (r)
			break;
	}
	provider_free(own);
	return r;
}

kept_err reminders_run(struct db_conn *db, struct arena *arena, const char *as_of, const char **json,
                       struct kept_error *err)
{
	const char *scheduled = NULL;
	struct dispatch_result d = {0};
	kept_err r = reminders_schedule(db, arena, as_of, &scheduled, err);
	if (!r && reminders_can_dial())
		r = reminders_dispatch(db, arena, NULL, as_of, &d, err);
	if (r)
		return r;
	*json = arena_sprintf(
	        arena,
	        "{\"scheduled\":%s,\"dialling\":%s,\"claimed\":%lld,\"placed\":%lld,\"failed\":%lld,"
	        "\"unknown\":%lld}",
	        scheduled, reminders_can_dial() ? "true" : "false", d.claimed, d.placed, d.failed, d.unknown);
	return *json ? KEPT_OK : kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
}

kept_err reminders_scheduler_run(struct db_conn *db, struct arena *arena, struct kept_error *err)
{
	const char *json = NULL;
	kept_err r = reminders_schedule(db, arena, NULL, &json, err);
	if (r)
		return r;
	cJSON *doc = cJSON_Parse(json ? json : "");
	long long pre_due = 0, missed = 0;
	bool ok =
	        json_get_int(doc, "pre_due_queued", &pre_due) && json_get_int(doc, "missed_queued", &missed);
	cJSON_Delete(doc);
	if (ok && pre_due + missed > 0) {
		struct log_line l;
		log_begin(&l, LOG_INFO, "reminders_scheduled");
		log_int(&l, "pre_due", pre_due);
		log_int(&l, "missed", missed);
		log_end(&l);
	}
	return KEPT_OK;
}

kept_err reminders_dispatcher_run(struct db_conn *db, struct arena *arena, struct kept_error *err)
{
	if (!reminders_can_dial())
		return KEPT_OK;
	if (!worker_provider) {
		kept_err r = provider_new(&config->provider, &worker_provider, err);
		if (r)
			return r;
	}
	struct dispatch_result d;
	return reminders_dispatch(db, arena, worker_provider, NULL, &d, err);
}

void reminders_shutdown(void)
{
	provider_free(worker_provider);
	worker_provider = NULL;
}
