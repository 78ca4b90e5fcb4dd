#include "texts.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock/clock.h"
#include "log/log.h"

#define COLUMNS 8

static const struct texts_config *config;
static struct provider *worker_provider;
static _Atomic(struct worker *) texter;

void texts_configure(const struct texts_config *cfg)
{
	config = cfg;
}

bool texts_can_send(void)
{
	return config && config->provider.base_url && config->keys;
}

void texts_set_worker(struct worker *w)
{
	atomic_store(&texter, w);
}

void texts_wake(void)
{
	struct worker *w = atomic_load(&texter);
	if (w)
		worker_wake(w);
}

/* Appends `v` as an element of a PostgreSQL array literal opened with "{" (NULL for NULL). */
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

static const char *outcome_name(const struct provider_call_result *res)
{
	switch (res->outcome) {
	case PROVIDER_PLACED: return "placed";
	case PROVIDER_FAILED: return "failed";
	case PROVIDER_UNKNOWN: return "unknown";
	case PROVIDER_NOT_SENT: return "not_sent";
	}
	return "unknown";
}

static void log_result(const char *id, const struct provider_call_result *res)
{
	struct log_line l;
	log_begin(&l, res->outcome == PROVIDER_PLACED ? LOG_INFO : LOG_WARN, "text_sent");
	log_str(&l, "message_id", id);
	log_str(&l, "outcome", outcome_name(res));
	log_int(&l, "attempts", res->attempts);
	if (res->provider_code)
		log_int(&l, "provider_code", res->provider_code);
	if (res->error[0])
		log_str(&l, "error", res->error);
	log_end(&l);
}

/* One result's columns, in the order of kept.messages_sent's arrays. */
static kept_err add_row(struct buf cols[COLUMNS], const char *id, const struct provider_call_result *res)
{
	char attempts[16], code[16], sent_at[40];
	snprintf(attempts, sizeof attempts, "%d", res->attempts);
	snprintf(code, sizeof code, "%d", res->provider_code);
	clock_format_us(res->sent_at_us, sent_at, sizeof sent_at);
	kept_err r = array_element(&cols[0], id);
	r = r ? r : array_element(&cols[1], outcome_name(res));
	r = r ? r : array_element(&cols[2], res->sid[0] ? res->sid : NULL);
	r = r ? r : array_element(&cols[3], attempts);
	r = r ? r : array_element(&cols[4], res->reconciled ? "t" : "f");
	r = r ? r : array_element(&cols[5], res->provider_code ? code : NULL);
	r = r ? r : array_element(&cols[6], res->error[0] ? res->error : NULL);
	return r ? r : array_element(&cols[7], res->sent_at_us ? sent_at : NULL);
}

/* Records a batch's results in one statement (kept.messages_sent). */
static kept_err record(struct db_conn *db, struct arena *arena, const char *const *ids,
                       const struct provider_call_result *res, int n, struct kept_error *err)
{
	struct buf cols[COLUMNS];
	kept_err r = KEPT_OK;
	for (int c = 0; c < COLUMNS; c++) {
		buf_init(&cols[c], 16u << 20);
		r = r ? r : buf_addc(&cols[c], '{');
	}
	for (int i = 0; i < n && !r; i++) {
		r = add_row(cols, ids[i], &res[i]);
		log_result(ids[i], &res[i]);
	}
	const char *params[COLUMNS];
	for (int c = 0; c < COLUMNS && !r; c++) {
		r = buf_addc(&cols[c], '}');
		params[c] = r ? NULL : arena_strdup(arena, buf_str(&cols[c]));
		r = r ? r : (params[c] ? KEPT_OK : KEPT_ERR_NOMEM);
	}
	for (int c = 0; c < COLUMNS; c++)
		buf_free(&cols[c]);
	if (r)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	return q_messages_sent(db, arena, params[0], params[1], params[2], params[3], params[4], params[5],
	                       params[6], params[7], NULL, err);
}

struct claim {
	struct arena *arena;
	int limit;
	struct db_result *rows;
	long long received_ms;
};

static kept_err claim_batch(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct claim *c = arg;
	kept_err r = q_messages_claim(db, c->arena, c->limit, &c->rows, err);
	c->received_ms = clock_monotonic_ms();
	return r;
}

/* A claimed text's request: its words (opened when sealed), its callback,
 * by when it must go. A text that cannot be opened fails at once. */
static bool message_request(const struct claim *c, int row, struct provider_message_request *req,
                            struct provider_call_result *res)
{
	const char *id = db_value(c->rows, row, 0), *sealed = db_value(c->rows, row, 3);
	const char *send_by = db_value(c->rows, row, 4);
	long long left = send_by ? strtoll(send_by, NULL, 10) : 0;
	req->to = db_value(c->rows, row, 1);
	req->from = config->from;
	req->body = sealed ? link_open(config->keys, c->arena, sealed) : db_value(c->rows, row, 2);
	req->status_callback =
	        arena_sprintf(c->arena, "%s/telephony/messages/%s/status", config->public_url, id);
	req->validity_s = (int)(left / 1000 < 36000 ? left / 1000 : 36000);
	req->send_by_ms = c->received_ms + left;
	if (req->body && req->status_callback && req->validity_s > 0)
		return true;
	*res = (struct provider_call_result){.outcome = PROVIDER_FAILED};
	snprintf(res->error, sizeof res->error, "%s",
	         !req->body ? "the sealed text could not be opened (was KEPT_LINK_SECRET changed?)"
	                    : "the window closed before it could be sent");
	if (req->body && req->status_callback)
		res->outcome = PROVIDER_NOT_SENT;
	return false;
}

static kept_err send_batch(struct db_conn *db, const struct claim *c, struct provider *p,
                           struct texts_result *out, struct kept_error *err)
{
	int n = db_rows(c->rows), k = 0;
	struct provider_message_request *reqs = arena_zalloc(c->arena, (size_t)n * sizeof *reqs + 1);
	struct provider_call_result *res = arena_zalloc(c->arena, (size_t)n * sizeof *res + 1);
	const char **ids = arena_zalloc(c->arena, (size_t)n * sizeof *ids + 1);
	const char **all = arena_zalloc(c->arena, (size_t)n * sizeof *all + 1);
	struct provider_call_result *done = arena_zalloc(c->arena, (size_t)n * sizeof *done + 1);
	if (!reqs || !res || !ids || !all || !done)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	int failed = 0;
	for (int i = 0; i < n; i++) {
		if (message_request(c, i, &reqs[k], &done[failed])) {
			ids[k++] = db_value(c->rows, i, 0);
			continue;
		}
		all[failed++] = db_value(c->rows, i, 0);
	}
	provider_send_messages(p, reqs, (size_t)k, res);
	for (int i = 0; i < k; i++) {
		all[failed + i] = ids[i];
		done[failed + i] = res[i];
	}
	out->claimed += n;
	for (int i = 0; i < n; i++) {
		bool refused = done[i].outcome == PROVIDER_FAILED && done[i].provider_code == 21610;
		out->sent += done[i].outcome == PROVIDER_PLACED;
		out->refused += refused;
		out->failed += done[i].outcome == PROVIDER_FAILED && !refused;
		out->unknown += done[i].outcome == PROVIDER_UNKNOWN;
		out->not_sent += done[i].outcome == PROVIDER_NOT_SENT;
	}
	return record(db, c->arena, all, done, n, err);
}

/* Simulated time sends only to the simulator: asked once per process. */
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
	        "keptd runs in simulated time and texts only through kept-telsim, which did not answer as "
	        "such at KEPT_TELEPHONY_BASE_URL");
}

kept_err texts_send_due(struct db_conn *db, struct arena *arena, struct provider *provider,
                        struct texts_result *out, struct kept_error *err)
{
	*out = (struct texts_result){0};
	(void)arena; /* each batch has an arena of its own */
	if (!texts_can_send())
		return KEPT_OK;
	struct provider *own = NULL;
	kept_err r = provider ? KEPT_OK : provider_new(&config->provider, &own, err);
	if (r)
		return r;
	provider = provider ? provider : own;
	r = simulator_check(provider, err);
	struct claim c = {NULL, config->batch > 0 ? config->batch : 64, NULL, 0};
	while (!r && !worker_stopping()) {
		c.arena = arena_new(0);
		if (!c.arena) {
			r = kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
			break;
		}
		r = db_transaction(db, claim_batch, &c, err);
		bool more = !r && db_rows(c.rows) > 0;
		if (more)
			r = send_batch(db, &c, provider, out, err);
		arena_free(c.arena);
		if (!more)
			break;
	}
	provider_free(own);
	return r;
}

const char *texts_result_json(struct arena *arena, const struct texts_result *res)
{
	return arena_sprintf(
	        arena,
	        "{\"sending\":%s,\"claimed\":%lld,\"sent\":%lld,\"refused\":%lld,\"failed\":%lld,"
	        "\"unknown\":%lld,\"not_sent\":%lld}",
	        texts_can_send() ? "true" : "false", res->claimed, res->sent, res->refused, res->failed,
	        res->unknown, res->not_sent);
}

const char *texts_add_to(struct arena *arena, const char *json, const struct texts_result *res)
{
	size_t n = json ? strlen(json) : 0;
	const char *texts = texts_result_json(arena, res);
	if (!texts || n < 2 || json[n - 1] != '}')
		return NULL;
	return arena_sprintf(arena, "%.*s,\"texts\":%s}", (int)(n - 1), json, texts);
}

kept_err texts_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err)
{
	if (!texts_can_send())
		return KEPT_OK;
	if (!worker_provider) {
		kept_err r = provider_new(&config->provider, &worker_provider, err);
		if (r)
			return r;
	}
	struct texts_result res;
	return texts_send_due(db, arena, worker_provider, &res, err);
}

void texts_shutdown(void)
{
	provider_free(worker_provider);
	worker_provider = NULL;
}
