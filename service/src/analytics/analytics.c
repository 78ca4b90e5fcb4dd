#include "analytics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf/buf.h"
#include "json/json.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "worker/worker.h"

#define REBUILD_PAGE      1000 /* plans (with their installments), calls or payments per page */
#define CHECK_PAGE        1000
#define SLICE_PAGE        100    /* the worker's continuous check, per kind and run */
#define SLICE_AGGREGATES  10     /* ... and one due week's aggregates every this many runs */
#define DIFF_LIMIT        100000 /* differences read back per page (their ids are repaired) */
#define MAX_ID            "9223372036854775807"
#define LOCK_WAIT_MS      30000
#define REPAIR_IDS_BYTES  (64u << 20)
#define REPAIR_AUDIT_IDS  200         /* ids of each kind named in the repair's audit event */
#define PENDING_MAX_BYTES (16u << 20) /* a check waits for a loader further behind than this */

static const char *separate_url; /* NULL: the operational database */
static int batch_events = 1000;
static struct db_conn *worker_dst; /* the worker's connection to a separate analytics database */

void analytics_configure(const char *analytics_url, int batch)
{
	separate_url = analytics_url && *analytics_url ? analytics_url : NULL;
	batch_events = batch > 0 ? batch : 1000;
}

void analytics_shutdown(void)
{
	db_close(worker_dst);
	worker_dst = NULL;
}

static kept_err no_memory(struct kept_error *err)
{
	return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
}

/* The analytics database: `src` itself, the worker's own connection, or a new one (*owned). */
static kept_err target(struct db_conn *src, bool worker, struct db_conn **dst, struct db_conn **owned,
                       struct kept_error *err)
{
	*owned = NULL;
	if (!separate_url) {
		*dst = src;
		return KEPT_OK;
	}
	struct db_settings s = {separate_url, 0, "keptd analytics"};
	if (worker) {
		if (worker_dst && !db_is_up(worker_dst)) {
			db_close(worker_dst);
			worker_dst = NULL;
		}
		kept_err r = worker_dst ? KEPT_OK : db_connect(&s, &worker_dst, err);
		*dst = worker_dst;
		return r;
	}
	kept_err r = db_connect(&s, owned, err);
	*dst = *owned;
	return r;
}

kept_err analytics_migrate(struct kept_error *err)
{
	if (!separate_url)
		return KEPT_OK;
	const struct sql_file *schema = NULL;
	for (size_t i = 0; i < sql_functions_count; i++)
		if (strcmp(sql_functions[i].name, "90_analytics.sql") == 0)
			schema = &sql_functions[i];
	if (!schema)
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "",
		                 "90_analytics.sql is not embedded");
	struct db_settings s = {separate_url, 0, "keptd migrate"};
	struct db_conn *db = NULL;
	kept_err r = db_connect(&s, &db, err);
	if (!r)
		r = db_exec_script(db, schema->text, err);
	db_close(db);
	return r;
}

/* ---- the loader's state ------------------------------------------------------------------- */

struct state {
	const char *tx, *id; /* the cursor */
	bool rebuild_needed;
	const char *after[3]; /* the continuous check's place: after this plan, call, payment */
	const char *week;
	long long sweep, last_sweep;
};

static kept_err read_state(struct db_conn *dst, struct arena *arena, struct state *s, struct kept_error *err)
{
	struct db_result *res = NULL;
	kept_err r = q_analytics_state(dst, arena, &res, err);
	if (!r && db_rows(res) != 1)
		r = kept_fail(err, KEPT_ERR_INTERNAL, "analytics_not_ready", "",
		              "analytics.loader_state is empty; run keptd migrate");
	if (r)
		return r;
	*s = (struct state){
	        .tx = db_value(res, 0, 0),
	        .id = db_value(res, 0, 1),
	        .rebuild_needed = db_value(res, 0, 2)[0] == 't',
	        .after = {db_value(res, 0, 3), db_value(res, 0, 4), db_value(res, 0, 5)},
	        .week = db_value(res, 0, 6),
	        .sweep = strtoll(db_value(res, 0, 7), NULL, 10),
	        .last_sweep = db_value(res, 0, 8) ? strtoll(db_value(res, 0, 8), NULL, 10) : -1,
	};
	return KEPT_OK;
}

static kept_err measure_lag(struct db_conn *src, struct db_conn *dst, struct analytics_result *out,
                            struct kept_error *err)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	struct state s;
	struct db_result *res = NULL;
	kept_err r = read_state(dst, arena, &s, err);
	if (!r)
		r = q_analytics_lag(src, arena, s.tx, db_int64(s.id), &res, err);
	if (!r) {
		out->lag_events = strtoll(db_value(res, 0, 0) ? db_value(res, 0, 0) : "0", NULL, 10);
		out->lag_seconds = strtod(db_value(res, 0, 1) ? db_value(res, 0, 1) : "0", NULL);
		metrics_analytics_lag(out->lag_events, out->lag_seconds);
	}
	if (!r && out->lag_events == 0)
		r = q_analytics_caught_up(dst, arena, db_value(res, 0, 2), NULL, err);
	arena_free(arena);
	return r;
}

/* ---- one at a time --------------------------------------------------------------------------- */

typedef kept_err (*locked_fn)(struct db_conn *src, struct db_conn *dst, void *ctx, struct kept_error *err);

static kept_err try_lock(struct db_conn *dst, bool *held, struct kept_error *err)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	struct db_result *res = NULL;
	kept_err r = q_analytics_lock(dst, arena, &res, err);
	const char *v = db_value(res, 0, 0);
	*held = !r && v && v[0] == 't';
	arena_free(arena);
	return r;
}

/* Runs `work` holding the loader's lock; *ran is false when another holder
 * kept it for `wait_ms`. */
static kept_err with_lock(struct db_conn *src, struct db_conn *dst, int wait_ms, locked_fn work, void *ctx,
                          bool *ran, struct kept_error *err)
{
	kept_err r = try_lock(dst, ran, err);
	for (int waited = 0; !r && !*ran && waited < wait_ms; waited += 200) {
		nanosleep(&(struct timespec){0, 200 * 1000000L}, NULL);
		r = try_lock(dst, ran, err);
	}
	if (r || !*ran)
		return r;
	r = work(src, dst, ctx, err);
	struct kept_error ignored;
	kept_err u = q_analytics_unlock(dst, NULL, NULL, &ignored);
	(void)u; /* a lost connection releases it too */
	return r;
}

/* ---- rebuilding ------------------------------------------------------------------------------ */

static const char *const kinds[] = {"plan", "call", "payment"};
#define NKINDS (sizeof kinds / sizeof kinds[0])

struct rebuild {
	struct db_conn *src;
	struct analytics_result *out;
};

/* Writes one page of every fact of `kind` after *after; *after becomes its
 * last id, NULL once there is nothing after it. */
static kept_err rebuild_page(struct rebuild *rb, struct db_conn *dst, const char *kind, char after[32],
                             bool *more, struct kept_error *err)
{
	struct arena *page = arena_new(0);
	if (!page)
		return no_memory(err);
	struct db_result *res = NULL, *written = NULL;
	if (dst == rb->src) { /* analytics lives here: written straight from the operational tables */
		kept_err r = q_analytics_rebuild_page_local(dst, page, kind, db_int64(after), REBUILD_PAGE,
		                                            &res, err);
		*more = !r && db_value(res, 0, 0);
		if (*more) {
			snprintf(after, 32, "%s", db_value(res, 0, 0));
			rb->out->facts += strtoll(db_value(res, 0, 2), NULL, 10);
		}
		arena_free(page);
		return r;
	}
	kept_err r = q_analytics_page(rb->src, page, kind, db_int64(after), REBUILD_PAGE, &res, err);
	*more = !r && db_value(res, 0, 0);
	if (*more) {
		snprintf(after, 32, "%s", db_value(res, 0, 0));
		r = q_analytics_write_json(dst, page, db_value(res, 0, 2), db_value(res, 0, 3),
		                           db_value(res, 0, 4), db_value(res, 0, 5), &written, err);
		if (!r)
			rb->out->facts += strtoll(db_value(written, 0, 0), NULL, 10);
	}
	arena_free(page);
	return r;
}

static kept_err rebuild_tx(struct db_conn *dst, void *arg, struct kept_error *err)
{
	struct rebuild *rb = arg;
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	rb->out->facts = 0;
	struct db_result *pos = NULL;
	kept_err r = q_analytics_position(rb->src, arena, &pos, err);
	if (!r)
		r = q_analytics_rebuild_begin(dst, arena, db_value(pos, 0, 0), db_int64(db_value(pos, 0, 1)),
		                              NULL, err);
	for (size_t k = 0; !r && k < NKINDS; k++) {
		char after[32] = "0";
		bool more = true;
		while (!r && more)
			r = rebuild_page(rb, dst, kinds[k], after, &more, err);
	}
	arena_free(arena);
	return r;
}

static kept_err rebuild_locked(struct db_conn *src, struct db_conn *dst, void *ctx, struct kept_error *err)
{
	struct analytics_result *out = ctx;
	struct rebuild rb = {src, out};
	kept_err r = db_transaction(dst, rebuild_tx, &rb, err);
	if (!r)
		out->rebuilt = true;
	return r;
}

/* ---- loading --------------------------------------------------------------------------------- */

struct apply {
	struct db_result *batch; /* the extract's one row */
	const char *from_tx, *from_id;
	long long applied; /* -1: refused */
};

static kept_err apply_tx(struct db_conn *dst, void *arg, struct kept_error *err)
{
	struct apply *a = arg;
	const struct db_result *b = a->batch;
	struct db_result *res = NULL;
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	kept_err r = q_analytics_apply(dst, arena, a->from_tx, db_int64(a->from_id), db_value(b, 0, 0),
	                               db_int64(db_value(b, 0, 1)), db_int64(db_value(b, 0, 2)),
	                               db_value(b, 0, 3), db_value(b, 0, 4), db_value(b, 0, 5),
	                               db_value(b, 0, 6), db_value(b, 0, 7), &res, err);
	const char *v = db_value(res, 0, 0);
	a->applied = v ? strtoll(v, NULL, 10) : -1;
	arena_free(arena);
	return r;
}

/* One batch into another database: extract here, apply there. *loaded is 0
 * when there was nothing to load, -1 when another loader got there first. */
static kept_err batch_remote(struct db_conn *src, struct db_conn *dst, struct arena *arena, long long *loaded,
                             struct kept_error *err)
{
	struct state s;
	struct db_result *batch = NULL;
	kept_err r = read_state(dst, arena, &s, err);
	if (!r)
		r = q_analytics_extract(src, arena, s.tx, db_int64(s.id), batch_events, &batch, err);
	*loaded = 0;
	if (r || db_rows(batch) == 0)
		return r;
	struct apply a = {batch, s.tx, s.id, -1};
	r = db_transaction(dst, apply_tx, &a, err);
	*loaded = a.applied;
	return r;
}

/* One batch when analytics lives here: one call does it all. */
static kept_err batch_local(struct db_conn *src, struct arena *arena, long long *loaded,
                            struct kept_error *err)
{
	struct db_result *res = NULL;
	kept_err r = q_analytics_load_local(src, arena, batch_events, &res, err);
	*loaded = r ? 0 : strtoll(db_value(res, 0, 0), NULL, 10);
	return r;
}

/* Batches until none is left, each in its own arena. */
static kept_err load_locked(struct db_conn *src, struct db_conn *dst, void *ctx, struct kept_error *err)
{
	struct analytics_result *out = ctx;
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	struct state s;
	kept_err r = read_state(dst, arena, &s, err);
	arena_free(arena);
	if (!r && s.rebuild_needed)
		r = rebuild_locked(src, dst, out, err);
	while (!r &&
	       !worker_stopping()) { /* a stopping worker leaves the rest for the next run (or instance) */
		arena = arena_new(0);
		if (!arena)
			return no_memory(err);
		long long loaded = 0;
		r = dst == src ? batch_local(src, arena, &loaded, err)
		               : batch_remote(src, dst, arena, &loaded, err);
		arena_free(arena);
		if (r || loaded <= 0)
			break;
		out->batches++;
		out->events += loaded;
		if (out->batches % 20 == 0) /* a long catch-up still shows its lag as it goes */
			r = measure_lag(src, dst, out, err);
	}
	return r;
}

static kept_err run_locked(struct db_conn *src, bool worker, int wait_ms, locked_fn work,
                           struct analytics_result *out, struct kept_error *err)
{
	struct db_conn *dst = NULL, *owned = NULL;
	*out = (struct analytics_result){0};
	kept_err r = target(src, worker, &dst, &owned, err);
	if (!r)
		r = with_lock(src, dst, wait_ms, work, out, &out->ran, err);
	if (!r && !out->ran && wait_ms > 0)
		r = kept_fail(err, KEPT_ERR_CONFLICT, "loader_busy", "",
		              "another loader is running; try again");
	if (!r)
		r = measure_lag(src, dst, out, err);
	db_close(owned);
	return r;
}

kept_err analytics_load(struct db_conn *src, struct analytics_result *out, struct kept_error *err)
{
	return run_locked(src, false, 0, load_locked, out, err);
}

kept_err analytics_loaded_position(struct db_conn *src, struct arena *arena, const char **tx, const char **id,
                                   struct kept_error *err)
{
	struct db_conn *dst = NULL, *owned = NULL;
	struct state s = {0};
	kept_err r = target(src, false, &dst, &owned, err);
	if (!r)
		r = read_state(dst, arena, &s, err);
	if (!r) {
		*tx = s.tx;
		*id = s.id;
	}
	db_close(owned);
	return r;
}

kept_err analytics_rebuild(struct db_conn *src, struct analytics_result *out, struct kept_error *err)
{
	return run_locked(src, false, LOCK_WAIT_MS, rebuild_locked, out, err);
}

/* ---- checking -------------------------------------------------------------------------------- */

struct check {
	bool mend; /* repair what differs */
	struct db_conn *src, *dst;
	struct analytics_report *report;
	const char *pending[NKINDS]; /* per kind: ids the loader has not reached, as an array literal */
	struct buf repair[NKINDS];   /* per kind: ids that differ, "{1,2,...}" without the braces */
	bool aggregates_differ;
};

static void copy_text(char *dst, size_t size, const char *v)
{
	snprintf(dst, size, "%s", v ? v : "(null)");
}

/* Adds the rows of a differences query to the report, and their ids to the
 * repair list of `kind` (-1: aggregates). */
static kept_err note_differences(struct check *c, int kind, const struct db_result *res)
{
	struct analytics_report *rep = c->report;
	kept_err r = KEPT_OK;
	if (db_rows(res) > 0)
		rep->differences += strtoll(db_value(res, 0, 5), NULL, 10);
	for (int row = 0; row < db_rows(res) && !r; row++) {
		if (rep->shown < ANALYTICS_SHOWN) {
			struct analytics_difference *d = &rep->first[rep->shown++];
			copy_text(d->entity, sizeof d->entity, db_value(res, row, 0));
			copy_text(d->key, sizeof d->key, db_value(res, row, 1));
			copy_text(d->column, sizeof d->column, db_value(res, row, 2));
			copy_text(d->analytics, sizeof d->analytics, db_value(res, row, 3));
			copy_text(d->operational, sizeof d->operational, db_value(res, row, 4));
		}
		const char *id = db_value(res, row, 6);
		if (kind < 0)
			c->aggregates_differ = true;
		else if (id && !(row > 0 && db_value(res, row - 1, 6) &&
		                 strcmp(db_value(res, row - 1, 6), id) == 0))
			r = buf_printf(&c->repair[kind], "%s%s", buf_len(&c->repair[kind]) ? "," : "", id);
	}
	return r;
}

/* The facts of one kind whose ids lie in (after, last] against the
 * operational rows of that page: its ids (analytics here: compared straight
 * with kept's extraction) or its rows as JSON (analytics elsewhere). */
static kept_err compare_page(struct check *c, struct arena *arena, int kind, const struct db_result *page,
                             const char *after, const char *last, struct kept_error *err)
{
	static const char *const facts[NKINDS][2] = {
	        {"fact_plan", "fact_installment"}, {"fact_call", NULL}, {"fact_payment", NULL}};
	static const char *const ranges[NKINDS] = {"plan_id", "call_id", "payment_id"};
	static const int columns[NKINDS][2] = {{2, 3}, {4, 0}, {5, 0}}; /* of the JSON page's row */
	bool local = c->dst == c->src;
	kept_err r = KEPT_OK;
	for (int f = 0; f < 2 && facts[kind][f] && !r; f++) {
		const char *rows =
		        !page ? (local ? "{}" : "[]") : db_value(page, 0, local ? 2 : columns[kind][f]);
		struct db_result *res = NULL;
		r = (local ? q_analytics_local_differences : q_analytics_fact_differences)(
		        c->dst, arena, facts[kind][f], rows, ranges[kind], db_int64(after), db_int64(last),
		        c->pending[kind], DIFF_LIMIT, &res, err);
		if (!r && note_differences(c, kind, res))
			r = kept_fail(err, KEPT_ERR_NOMEM, "too_many_differences", "",
			              "too many differences to repair in one run");
	}
	return r;
}

/* Checks one page of `kind` after `after` (a decimal id); *next is its last
 * id, or NULL when the page reached the end (then everything after `after`
 * was compared, facts with no operational row included). */
static kept_err check_page(struct check *c, struct arena *arena, int kind, const char *after, int limit,
                           const char **next, struct kept_error *err)
{
	struct db_result *page = NULL;
	kept_err r = (c->dst == c->src ? q_analytics_page_ids : q_analytics_page)(
	        c->src, arena, kinds[kind], db_int64(after), limit, &page, err);
	*next = r ? NULL : db_value(page, 0, 0);
	if (!r && *next)
		c->report->facts += strtoll(db_value(page, 0, 1), NULL, 10);
	if (!r)
		r = compare_page(c, arena, kind, *next ? page : NULL, after, *next ? *next : MAX_ID, err);
	return r;
}

static kept_err check_aggregates(struct check *c, struct arena *arena, const char *week,
                                 struct kept_error *err)
{
	struct db_result *res = NULL;
	kept_err r = q_analytics_aggregate_differences(c->dst, arena, week, DIFF_LIMIT, &res, err);
	if (!r)
		r = note_differences(c, -1, res);
	return r;
}

/* Opens the check's snapshot (the transaction's first statement), reads the
 * loader's state into *s and what the loader has not reached. */
static kept_err check_begin(struct check *c, struct arena *arena, struct state *s, struct kept_error *err)
{
	struct db_result *pending = NULL;
	kept_err r = q_analytics_snapshot(c->src, NULL, NULL, err);
	if (!r)
		r = read_state(c->dst, arena, s, err);
	if (!r)
		r = q_analytics_pending(c->src, arena, s->tx, db_int64(s->id), &pending, err);
	for (size_t k = 0; !r && k < NKINDS; k++) {
		c->pending[k] = db_value(pending, 0, (int)k);
		if (c->pending[k] && strlen(c->pending[k]) > PENDING_MAX_BYTES)
			r = kept_fail(
			        err, KEPT_ERR_UNAVAILABLE, "loader_behind", "",
			        "the loader is far behind the outbox; check again once it has caught up");
	}
	return r;
}

static void check_reset(struct check *c)
{
	long long repaired = c->report->repaired;
	*c->report = (struct analytics_report){.repaired = repaired};
	c->aggregates_differ = false;
	for (size_t k = 0; k < NKINDS; k++)
		buf_reset(&c->repair[k]);
}

/* Everything, in one snapshot of the operational tables. */
static kept_err check_all_tx(struct db_conn *src, void *arg, struct kept_error *err)
{
	(void)src;
	struct check *c = arg;
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	check_reset(c);
	struct state s;
	kept_err r = check_begin(c, arena, &s, err);
	for (int k = 0; !r && k < (int)NKINDS; k++) {
		char after[32] = "0";
		const char *next = after;
		while (!r && next) {
			struct arena *page = arena_new(0);
			if (!page) {
				r = no_memory(err);
				break;
			}
			r = check_page(c, page, k, after, CHECK_PAGE, &next, err);
			if (next)
				snprintf(after, sizeof after, "%s", next);
			arena_free(page);
		}
	}
	if (!r)
		r = check_aggregates(c, arena, NULL, err);
	arena_free(arena);
	return r;
}

/* The ids of one kind that differ, as an array literal. */
static const char *id_array(struct arena *arena, const struct buf *ids)
{
	return arena_sprintf(arena, "{%s}", buf_str(ids));
}

static kept_err repair_tx(struct db_conn *dst, void *arg, struct kept_error *err)
{
	struct check *c = arg;
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	const char *ids[NKINDS];
	for (size_t k = 0; k < NKINDS; k++)
		ids[k] = id_array(arena, &c->repair[k]);
	struct db_result *rows = NULL, *res = NULL;
	kept_err r = q_analytics_rows(c->src, arena, ids[0], ids[1], ids[2], &rows, err);
	if (!r)
		r = q_analytics_replace(dst, arena, ids[0], ids[1], ids[2], db_value(rows, 0, 0),
		                        db_value(rows, 0, 1), db_value(rows, 0, 2), db_value(rows, 0, 3),
		                        &res, err);
	if (!r)
		c->report->repaired += strtoll(db_value(res, 0, 0), NULL, 10);
	if (!r && c->aggregates_differ)
		r = q_analytics_recompute_aggregates(dst, arena, NULL, err);
	arena_free(arena);
	return r;
}

/* The first ids of a repair list, whole, as a JSON array (the audit's record). */
static void add_ids(cJSON *obj, const char *name, const struct buf *ids)
{
	cJSON *list = cJSON_AddArrayToObject(obj, name);
	const char *p = buf_str(ids);
	for (int n = 0; list && *p && n < REPAIR_AUDIT_IDS; n++) {
		char *end = NULL;
		cJSON_AddItemToArray(list, cJSON_CreateNumber((double)strtoll(p, &end, 10)));
		p = *end == ',' ? end + 1 : end;
	}
}

static kept_err audit_repair(struct check *c, long long found, struct kept_error *err)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	cJSON *summary = json_object_in(arena);
	if (summary) {
		cJSON_AddNumberToObject(summary, "differences", (double)found);
		cJSON_AddNumberToObject(summary, "facts_repaired", (double)c->report->repaired);
		cJSON_AddBoolToObject(summary, "aggregates_recomputed", c->aggregates_differ);
		add_ids(summary, "plans", &c->repair[0]);
		add_ids(summary, "calls", &c->repair[1]);
		add_ids(summary, "payments", &c->repair[2]);
	}
	const char *text = summary ? json_print(arena, summary) : NULL;
	kept_err r = text ? q_analytics_repaired(c->src, arena, text, NULL, err) : no_memory(err);
	if (!r)
		r = q_analytics_sweep_reset(c->dst, arena, NULL, err);
	arena_free(arena);
	return r;
}

static kept_err verify_locked(struct db_conn *src, struct db_conn *dst, void *ctx, struct kept_error *err)
{
	struct check *c = ctx;
	c->src = src;
	c->dst = dst;
	kept_err r = db_transaction(src, check_all_tx, c, err);
	if (r || !c->mend || c->report->differences == 0)
		return r;
	long long found = c->report->differences;
	r = db_transaction(dst, repair_tx, c, err);
	if (!r)
		r = audit_repair(c, found, err);
	if (!r)
		r = db_transaction(src, check_all_tx, c, err);
	return r;
}

kept_err analytics_verify(struct db_conn *src, bool repair, struct analytics_report *out,
                          struct kept_error *err)
{
	struct db_conn *dst = NULL, *owned = NULL;
	*out = (struct analytics_report){0};
	struct check c = {.mend = repair, .report = out};
	for (size_t k = 0; k < NKINDS; k++)
		buf_init(&c.repair[k], REPAIR_IDS_BYTES);
	bool ran = false;
	kept_err r = target(src, false, &dst, &owned, err);
	if (!r)
		r = with_lock(src, dst, LOCK_WAIT_MS, verify_locked, &c, &ran, err);
	if (!r && !ran)
		r = kept_fail(err, KEPT_ERR_CONFLICT, "loader_busy", "",
		              "the loader kept its lock for 30 s; try again");
	for (size_t k = 0; k < NKINDS; k++)
		buf_free(&c.repair[k]);
	db_close(owned);
	return r;
}

/* ---- the worker: load, then check a slice ---------------------------------------------------- */

struct slice {
	struct check check;
	char after[NKINDS][32]; /* where each kind's slice ended */
	char week[16];          /* the due week whose aggregates were checked ("" when none) */
	bool aggregates;        /* this run checks one week's aggregates too */
	unsigned wrapped;       /* the kinds whose slice reached the end: 1 plans, 2 calls, 4 payments */
};

/* One page per kind from where the last run stopped, and the aggregates of
 * one due week, in one snapshot. */
static kept_err slice_tx(struct db_conn *src, void *arg, struct kept_error *err)
{
	(void)src;
	struct slice *sl = arg;
	struct check *c = &sl->check;
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	check_reset(c);
	struct state s;
	kept_err r = check_begin(c, arena, &s, err);
	for (int k = 0; !r && k < (int)NKINDS; k++) {
		const char *next = NULL;
		r = check_page(c, arena, k, s.after[k], SLICE_PAGE, &next, err);
		snprintf(sl->after[k], sizeof sl->after[k], "%s", next ? next : "0");
		if (!next)
			sl->wrapped |= 1u << k;
	}
	struct db_result *week = NULL;
	if (!r && sl->aggregates)
		r = q_analytics_next_week(c->dst, arena, s.week, &week, err);
	snprintf(sl->week, sizeof sl->week, "%s", !r && db_value(week, 0, 0) ? db_value(week, 0, 0) : "");
	if (!r && sl->week[0])
		r = check_aggregates(c, arena, sl->week, err);
	else if (!r)
		snprintf(sl->week, sizeof sl->week, "%s", s.week ? s.week : "");
	arena_free(arena);
	return r;
}

/* Where the next slice starts, and what this sweep has found (outside the
 * check's read-only snapshot); the metric shows the larger of this sweep's
 * count so far and the last whole sweep's. */
static kept_err slice_record(struct slice *sl, struct db_conn *dst, struct kept_error *err)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return no_memory(err);
	struct db_result *sweep = NULL;
	kept_err r = q_analytics_sweep_record(dst, arena, db_int64(sl->after[0]), db_int64(sl->after[1]),
	                                      db_int64(sl->after[2]), sl->week[0] ? sl->week : NULL,
	                                      sl->check.report->differences, (int)sl->wrapped, &sweep, err);
	if (!r) {
		long long current = strtoll(db_value(sweep, 0, 0), NULL, 10);
		long long last = db_value(sweep, 0, 1) ? strtoll(db_value(sweep, 0, 1), NULL, 10) : 0;
		metrics_analytics_mismatches(current > last ? current : last);
	}
	arena_free(arena);
	return r;
}

static void log_first_difference(const struct analytics_report *rep)
{
	struct log_line l;
	log_begin(&l, LOG_WARN, "analytics_mismatch");
	log_int(&l, "differences", rep->differences);
	if (rep->shown > 0) {
		log_str(&l, "entity", rep->first[0].entity);
		log_str(&l, "key", rep->first[0].key);
		log_str(&l, "column", rep->first[0].column);
	}
	log_str(&l, "msg", "analytics differs from the operational tables; run keptd analytics --verify");
	log_end(&l);
}

static kept_err slice_locked(struct db_conn *src, struct db_conn *dst, void *ctx, struct kept_error *err)
{
	struct slice *sl = ctx;
	sl->check.src = src;
	sl->check.dst = dst;
	kept_err r = db_transaction(src, slice_tx, sl, err);
	if (!r)
		r = slice_record(sl, dst, err);
	if (!r && sl->check.report->differences > 0)
		log_first_difference(sl->check.report);
	return r;
}

static kept_err worker_slice(struct db_conn *src, struct kept_error *err)
{
	static unsigned runs; /* the worker's thread only */
	struct analytics_report report = {0};
	struct slice sl = {.check = {.report = &report}, .aggregates = runs++ % SLICE_AGGREGATES == 0};
	for (size_t k = 0; k < NKINDS; k++)
		buf_init(&sl.check.repair[k], 1u << 20);
	struct db_conn *dst = NULL, *owned = NULL;
	bool ran = false;
	kept_err r = target(src, true, &dst, &owned, err);
	if (!r)
		r = with_lock(src, dst, 0, slice_locked, &sl, &ran, err);
	for (size_t k = 0; k < NKINDS; k++)
		buf_free(&sl.check.repair[k]);
	return r;
}

kept_err analytics_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err)
{
	(void)arena;
	struct analytics_result res;
	kept_err r = run_locked(db, true, 0, load_locked, &res, err);
	if (!r && res.events > 0) {
		struct log_line l;
		log_begin(&l, LOG_INFO, "analytics_loaded");
		log_int(&l, "events", res.events);
		log_int(&l, "batches", res.batches);
		log_int(&l, "lag_events", res.lag_events);
		log_end(&l);
	}
	if (!r && res.ran && !worker_stopping())
		r = worker_slice(db, err);
	return r;
}

const char *analytics_result_json(struct arena *arena, const struct analytics_result *r)
{
	return arena_sprintf(arena,
	                     "{\"ran\":%s,\"rebuilt\":%s,\"batches\":%lld,\"events\":%lld,\"facts\":%lld,"
	                     "\"lag_events\":%lld,\"lag_seconds\":%.3f}",
	                     r->ran ? "true" : "false", r->rebuilt ? "true" : "false", r->batches, r->events,
	                     r->facts, r->lag_events, r->lag_seconds);
}

const char *analytics_report_json(struct arena *arena, const struct analytics_report *r)
{
	cJSON *doc = json_object_in(arena);
	if (!doc)
		return NULL;
	cJSON_AddNumberToObject(doc, "differences", (double)r->differences);
	cJSON_AddNumberToObject(doc, "entities_checked", (double)r->facts);
	cJSON_AddNumberToObject(doc, "repaired", (double)r->repaired);
	cJSON *first = cJSON_AddArrayToObject(doc, "first");
	for (int i = 0; first && i < r->shown; i++) {
		const struct analytics_difference *d = &r->first[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "entity", d->entity);
		cJSON_AddRawToObject(o, "key", d->key[0] == '{' ? d->key : "null");
		cJSON_AddStringToObject(o, "column", d->column);
		cJSON_AddStringToObject(o, "analytics", d->analytics);
		cJSON_AddStringToObject(o, "operational", d->operational);
		cJSON_AddItemToArray(first, o);
	}
	return json_print(arena, doc);
}
