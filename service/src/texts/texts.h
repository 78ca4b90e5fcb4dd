/*
 * texts — the sender of text messages (the texter worker).
 *
 * Texts are queued by SQL in the transaction that decides them (a personal
 * link an agent sends, a one-time code the page asks for, the confirmation of
 * a plan the customer made), each judged at once. The sender claims due
 * texts in batches (kept.messages_claim: the contact rules judged again on
 * keptd's one clock, FOR UPDATE SKIP LOCKED so several keptd never send the
 * same text), opens the sealed ones (a link or a code waits in the database
 * encrypted under a key from KEPT_LINK_SECRET), sends them through the
 * provider's Messages API outside any transaction with ValidityPeriod set to
 * the time left in the window, and records each result (kept.messages_sent):
 * a refusal for an opted-out number (21610) is recorded as an opt-out and
 * never retried; an unknown outcome is never sent again. In simulated time
 * the provider must be kept-telsim. Numbers and texts never reach the log:
 * texts are named by id.
 *
 * The texter worker runs every KEPT_TEXT_INTERVAL seconds and is woken at
 * once by texts_wake() (a request that queued a text, after it committed);
 * POST /v1/admin/reminders and `keptd reminders` run a pass too.
 */
#ifndef KEPT_TEXTS_H
#define KEPT_TEXTS_H

#include <stdbool.h>

#include "arena/arena.h"
#include "db/db.h"
#include "err/err.h"
#include "link/link.h"
#include "provider/provider.h"
#include "worker/worker.h"

struct texts_config {
	struct provider_config provider; /* base_url NULL: no texts are sent */
	const char *from;                /* the sender's number (KEPT_TELEPHONY_FROM) */
	const char *public_url;          /* status callbacks go under it */
	const struct link_keys *keys;    /* opens sealed texts; NULL: self-service is off */
	int batch;                       /* texts claimed at once */
};

struct texts_result {
	long long claimed, sent, refused, failed, unknown, not_sent;
};

/* Sets the configuration (must outlive every use). Call once at start. */
void texts_configure(const struct texts_config *cfg);

/* True when a provider is configured and self-service is on. */
bool texts_can_send(void);

/* Sends every text due now through `provider` (NULL: one made for this pass),
 * batch after batch, until none is left. */
kept_err texts_send_due(struct db_conn *db, struct arena *arena, struct provider *provider,
                        struct texts_result *out, struct kept_error *err) KEPT_MUST_CHECK;

/* `res` as JSON: {"claimed":..,"sent":..,"refused":..,"failed":..,"unknown":..,"not_sent":..}. */
const char *texts_result_json(struct arena *arena, const struct texts_result *res);

/* `json` (an object from reminders_run) with {"texts": texts_result_json} added. */
const char *texts_add_to(struct arena *arena, const char *json, const struct texts_result *res);

/* The texter worker's run. */
kept_err texts_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err) KEPT_MUST_CHECK;

/* The running texter worker, woken by texts_wake() (NULL: none). Set before
 * the HTTP server starts and cleared after it stopped. */
void texts_set_worker(struct worker *w);

/* Wakes the texter worker now, if there is one in this keptd. */
void texts_wake(void);

/* Frees the worker's provider (after the workers have stopped). */
void texts_shutdown(void);

#endif
