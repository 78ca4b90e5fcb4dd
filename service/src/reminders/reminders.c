#include "reminders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock/clock.h"
#include "json/json.h"
#include "log/log.h"
#include "worker/worker.h"

/* Claims look this far ahead in the provider's pace, so that a call's rules
 * are judged seconds, not minutes, before its create goes. */
#define CLAIM_HORIZON_S 10

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
	return q_reminders_schedule_value(db, arena, as_of, json, err);
}

struct claim {
	struct arena *arena;
	int limit;
	int cps;
	struct db_result *rows;
	long long received_ms; /* clock_monotonic_ms() when the claim's answer came */
};

static kept_err claim_batch(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct claim *c = arg;
	kept_err r = q_calls_claim(db, c->arena, c->limit, c->cps, &c->rows, err);
	c->received_ms = clock_monotonic_ms();
	return r;
}

/* A slot of the provider's pace for a retried create (the pacer of the batch). */
struct slot_source {
	struct db_conn *db;
	int cps;
};

static long long reserve_slot(void *arg)
{
	struct slot_source *s = arg;
	struct arena *arena = arena_new(0);
	const char *wait = NULL;
	struct kept_error err;
	long long at = -1;
	if (arena && !q_dial_slot_value(s->db, arena, s->cps, &wait, &err) && wait)
		at = clock_monotonic_ms() + strtoll(wait, NULL, 10);
	arena_free(arena);
	return at;
}

static const char *outcome_name(enum provider_outcome o)
{
	switch (o) {
	case PROVIDER_PLACED: return "placed";
	case PROVIDER_FAILED: return "failed";
	case PROVIDER_UNKNOWN: return "unknown";
	case PROVIDER_NOT_SENT: return "not_sent";
	}
	return "unknown";
}

/* Appends `v` as an element of a PostgreSQL array literal opened with "{"
 * (NULL for NULL). */
static kept_err array_element(struct buf *b, const char *v)
{
	kept_err r = buf_len(b) > 1 ? buf_addc(b, ',') : KEPT_OK;
	if (r || !v)
		return r ? r : buf_adds(b, "NULL");
	r = buf_addc(b, '"');
	for (const char *p = v; *p && !r; p++)
		r = (*p == '"' || *p == '\\') ? buf_printf(b, "\\%c", *p) : buf_addc(b, *p);
	return r ? r : buf_addc(b, '"');
}

/* Records a batch's results in one statement (kept.calls_dialed) and logs each. */
static kept_err record(struct db_conn *db, struct arena *arena, const char *const *ids,
                       const struct provider_call_result *res, int n, struct kept_error *err)
{
	struct buf cols[8];
	kept_err r = KEPT_OK;
	for (int c = 0; c < 8; c++) {
		buf_init(&cols[c], 64u << 20);
		r = r ? r : buf_addc(&cols[c], '{');
	}
	for (int i = 0; i < n && !r; i++) {
		char attempts[16], sent_at[40], retry_at[40];
		snprintf(attempts, sizeof attempts, "%d", res[i].attempts);
		clock_format_us(res[i].sent_at_us, sent_at, sizeof sent_at);
		clock_format_us(res[i].retry_at_us, retry_at, sizeof retry_at);
		r = array_element(&cols[0], ids[i]);
		r = r ? r : array_element(&cols[1], outcome_name(res[i].outcome));
		r = r ? r : array_element(&cols[2], res[i].sid[0] ? res[i].sid : NULL);
		r = r ? r : array_element(&cols[3], attempts);
		r = r ? r : array_element(&cols[4], res[i].reconciled ? "t" : "f");
		r = r ? r : array_element(&cols[5], res[i].error[0] ? res[i].error : NULL);
		r = r ? r : array_element(&cols[6], res[i].sent_at_us ? sent_at : NULL);
		r = r ? r : array_element(&cols[7], res[i].retry_at_us ? retry_at : NULL);

		struct log_line l;
		log_begin(&l, res[i].outcome == PROVIDER_PLACED ? LOG_INFO : LOG_WARN, "call_dialed");
		log_str(&l, "call_id", ids[i]);
		log_str(&l, "outcome", outcome_name(res[i].outcome));
		log_int(&l, "attempts", res[i].attempts);
		if (res[i].reconciled)
			log_str(&l, "reconciled", "true");
		if (res[i].error[0])
			log_str(&l, "error", res[i].error);
		log_end(&l);
	}
	const char *params[8];
	for (int c = 0; c < 8 && !r; c++) {
		r = buf_addc(&cols[c], '}');
		params[c] = r ? NULL : arena_strdup(arena, buf_str(&cols[c]));
		r = r ? r : (params[c] ? KEPT_OK : KEPT_ERR_NOMEM);
	}
	for (int c = 0; c < 8; c++)
		buf_free(&cols[c]);
	if (r)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	return q_calls_dialed(db, arena, params[0], params[1], params[2], params[3], params[4], params[5],
	                      params[6], params[7], NULL, err);
}

/* A claimed call's request: its slot and its send_by, from milliseconds after
 * the claim's answer to the monotonic clock. */
static kept_err call_request(struct arena *arena, const struct claim *c, int row, const char *id,
                             struct provider_call_request *req)
{
	const char *slot = db_value(c->rows, row, 4), *send_by = db_value(c->rows, row, 5);
	req->to = db_value(c->rows, row, 1);
	req->from = config->from;
	req->url = arena_sprintf(arena, "%s/telephony/twiml/%s", config->public_url, id);
	req->status_callback = arena_sprintf(arena, "%s/telephony/status/%s", config->public_url, id);
	req->ring_timeout_s = 30;
	req->machine_detection = true;
	req->not_before_ms = c->received_ms + (slot ? strtoll(slot, NULL, 10) : 0);
	req->send_by_ms = send_by ? c->received_ms + strtoll(send_by, NULL, 10) : 0;
	if (!req->url || !req->status_callback)
		return KEPT_ERR_NOMEM;
	return KEPT_OK;
}

/* Places the claimed calls marked for dialling and records every result. */
static kept_err place_batch(struct db_conn *db, const struct claim *c, struct provider *p,
                            struct dispatch_result *out, struct kept_error *err)
{
	struct arena *arena = c->arena;
	struct db_result *rows = c->rows;
	int rows_n = db_rows(rows), n = 0;
	struct provider_call_request *reqs = arena_zalloc(arena, (size_t)rows_n * sizeof *reqs + 1);
	struct provider_call_result *res = arena_zalloc(arena, (size_t)rows_n * sizeof *res + 1);
	const char **ids = arena_zalloc(arena, (size_t)rows_n * sizeof *ids + 1);
	if (!reqs || !res || !ids)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	for (int i = 0; i < rows_n; i++) {
		const char *dial = db_value(rows, i, 3);
		if (!dial || dial[0] != 't')
			continue;
		ids[n] = db_value(rows, i, 0);
		if (call_request(arena, c, i, ids[n], &reqs[n]))
			return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
		n++;
	}
	out->claimed += n;
	if (n == 0)
		return KEPT_OK;
	struct slot_source slots = {db, config->cps};
	struct provider_pacer pacer = {reserve_slot, &slots, config->cps > 0 ? 1000 / config->cps : 0};
	provider_place_calls(p, reqs, (size_t)n, res, &pacer);
	for (int i = 0; i < n; i++) {
		out->placed += res[i].outcome == PROVIDER_PLACED;
		out->failed += res[i].outcome == PROVIDER_FAILED;
		out->unknown += res[i].outcome == PROVIDER_UNKNOWN;
		out->not_sent += res[i].outcome == PROVIDER_NOT_SENT;
	}
	return record(db, arena, ids, res, n, err);
}

/* Asks the provider about calls whose callbacks went quiet (lost callbacks
 * would otherwise leave them 'ringing' for ever) and records the answers. */
static kept_err poll_quiet(struct db_conn *db, struct provider *p, long long *polled, struct kept_error *err)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	struct db_result *rows = NULL;
	kept_err r = q_calls_to_poll(db, arena, 256, &rows, err);
	int n = r ? 0 : db_rows(rows);
	const char **sids = arena_zalloc(arena, (size_t)n * sizeof *sids + 1);
	struct provider_call_status *st = arena_zalloc(arena, (size_t)n * sizeof *st + 1);
	if (!r && (!sids || !st))
		r = kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	if (!r && n > 0 && sids && st) {
		for (int i = 0; i < n; i++)
			sids[i] = db_value(rows, i, 1);
		provider_fetch_calls(p, sids, (size_t)n, st);
		for (int i = 0; i < n && !r; i++) {
			if (!st[i].found)
				continue;
			r = q_call_polled(db, arena, db_int64(db_value(rows, i, 0)), st[i].status,
			                  st[i].answered_by, st[i].duration, NULL, err);
			*polled += 1;
		}
	}
	arena_free(arena);
	return r;
}

/* Simulated time dials only the simulator: asked once per process, and
 * again after a no. */
static kept_err simulator_check(struct provider *p, struct kept_error *err)
{
	static _Atomic bool confirmed;
	if (!clock_is_simulated() || confirmed)
		return KEPT_OK;
	if (provider_is_simulator(p)) {
		confirmed = true;
		return KEPT_OK;
	}
	return kept_fail(
	        err, KEPT_ERR_RULE, "clock_needs_simulator", "",
	        "keptd runs in simulated time and dials only kept-telsim, which did not answer as such at "
	        "KEPT_TELEPHONY_BASE_URL");
}

kept_err reminders_dispatch(struct db_conn *db, struct arena *arena, struct provider *provider,
                            const char *as_of, struct dispatch_result *out, struct kept_error *err)
{
	*out = (struct dispatch_result){0};
	if (!reminders_can_dial())
		return kept_fail(err, KEPT_ERR_RULE, "telephony_not_configured", "",
		                 "no telephony provider is configured (KEPT_TELEPHONY_BASE_URL)");
	(void)as_of; /* an as_of schedules; the dispatcher dials on keptd's clock only */
	(void)arena; /* each batch has an arena of its own */
	struct provider *own = NULL;
	if (!provider) {
		kept_err r = provider_new(&config->provider, &own, err);
		if (r)
			return r;
		provider = own;
	}
	kept_err r = simulator_check(provider, err);
	if (r) {
		provider_free(own);
		return r;
	}
	int limit = config->cps * CLAIM_HORIZON_S;
	if (limit > config->batch || limit < 1)
		limit = config->batch > 0 ? config->batch : 64;
	struct claim c = {NULL, limit, config->cps, NULL, 0};
	while (!worker_stopping()) {
		/* each batch has its own arena: a pass over a long queue stays flat in memory */
		c.arena = arena_new(0);
		if (!c.arena) {
			r = kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
			break;
		}
		r = db_transaction(db, claim_batch, &c, err);
		bool more = !r && db_rows(c.rows) > 0; /* no row: nothing was due any more */
		if (more)
			r = place_batch(db, &c, provider, out, err);
		arena_free(c.arena);
		if (r || !more)
			break;
	}
	if (!r)
		r = poll_quiet(db, provider, &out->polled, err);
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
	char now[40];
	clock_format_us(clock_now_us(), now, sizeof now);
	*json = arena_sprintf(
	        arena,
	        "{\"scheduled\":%s,\"dialling\":%s,\"clock\":\"%s\",\"claimed\":%lld,\"placed\":%lld,"
	        "\"failed\":%lld,\"unknown\":%lld,\"not_sent\":%lld,\"polled\":%lld}",
	        scheduled, reminders_can_dial() ? "true" : "false", now, d.claimed, d.placed, d.failed,
	        d.unknown, d.not_sent, d.polled);
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
