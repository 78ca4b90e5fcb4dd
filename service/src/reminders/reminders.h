/*
 * reminders — the reminder scheduler and the call dispatcher.
 *
 * The scheduler queues pre_due and missed calls (kept.reminders_schedule)
 * at an as_of: what was due then is queued, due now. The dispatcher claims
 * due calls in batches (kept.calls_claim: the contact rules are checked
 * there on keptd's one clock, never at a requested as_of, and claims use FOR
 * UPDATE SKIP LOCKED so several keptd instances never dial the same call),
 * each call with a slot of the provider's pace (`cps` creates per second
 * across every keptd) and the moment after which no create may go (its
 * window closing), commits the claim, places the batch through the
 * provider outside any transaction (retried creates take new slots through
 * kept.dial_slot_ms), then records each result; a call whose window closed
 * first goes back to the queue. In simulated time the provider must be
 * kept-telsim, or nothing is dialled. Calls whose callbacks have gone quiet
 * for 15 minutes are then fetched from the provider (GET Calls/{Sid}.json)
 * and moved forward by what it says. Phone numbers never reach the log:
 * calls are named by id.
 *
 * Used by the scheduler and dispatcher workers (as_of = now), `keptd
 * reminders --as-of T` and POST /v1/admin/reminders (one pass of both).
 */
#ifndef KEPT_REMINDERS_H
#define KEPT_REMINDERS_H

#include "arena/arena.h"
#include "db/db.h"
#include "err/err.h"
#include "provider/provider.h"

struct reminders_config {
	struct provider_config provider; /* base_url NULL: dialling is off */
	const char *from;                /* caller id */
	const char *public_url;          /* base of the webhook URLs */
	int batch;                       /* calls claimed at once, at most */
	int cps;                         /* the provider's calls per second, across every keptd */
};

struct dispatch_result {
	long long claimed, placed, failed, unknown;
	long long not_sent; /* back in the queue: the window closed before a create could go */
	long long polled;   /* quiet calls the provider was asked about */
};

/* Sets the configuration (must outlive every use). Call once at start. */
void reminders_configure(const struct reminders_config *cfg);

/* True when a provider is configured. */
bool reminders_can_dial(void);

/* One scheduler pass at `as_of` (NULL or "": now); *json answers the counts. */
kept_err reminders_schedule(struct db_conn *db, struct arena *arena, const char *as_of, const char **json,
                            struct kept_error *err) KEPT_MUST_CHECK;

/* Dispatches every call due at `as_of` through `provider` (NULL: one made for
 * this pass), batch after batch, until none is left. */
kept_err reminders_dispatch(struct db_conn *db, struct arena *arena, struct provider *provider,
                            const char *as_of, struct dispatch_result *out,
                            struct kept_error *err) KEPT_MUST_CHECK;

/* Both passes, as one JSON object (the admin endpoint and the command). */
kept_err reminders_run(struct db_conn *db, struct arena *arena, const char *as_of, const char **json,
                       struct kept_error *err) KEPT_MUST_CHECK;

/* The workers' runs (as_of = now). */
kept_err reminders_scheduler_run(struct db_conn *db, struct arena *arena,
                                 struct kept_error *err) KEPT_MUST_CHECK;
kept_err reminders_dispatcher_run(struct db_conn *db, struct arena *arena,
                                  struct kept_error *err) KEPT_MUST_CHECK;

/* Frees the dispatcher worker's provider (after the workers have stopped). */
void reminders_shutdown(void);

#endif
