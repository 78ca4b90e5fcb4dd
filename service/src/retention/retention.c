#include "retention.h"

#include <stdio.h>
#include <stdlib.h>

#include "analytics/analytics.h"
#include "log/log.h"
#include "worker/worker.h"

static int outbox_days = 30;
static int audit_months = 36;

void retention_configure(int days, int months)
{
	outbox_days = days >= 0 ? days : 30;
	audit_months = months > 0 ? months : 36;
}

static kept_err ensure_partitions(struct db_conn *db, struct arena *arena, long long *made,
                                  struct kept_error *err)
{
	const char *n = NULL;
	kept_err r = q_audit_partitions_ensure_value(db, arena, &n, err);
	*made = !r && n ? strtoll(n, NULL, 10) : 0;
	return r;
}

/* Batches up to the loader's cursor as it was when pruning began: events
 * the loader applies meanwhile wait for the next run. */
static kept_err prune_outbox(struct db_conn *db, struct arena *arena, long long *pruned,
                             struct kept_error *err)
{
	const char *tx = NULL, *id = NULL;
	kept_err r = analytics_loaded_position(db, arena, &tx, &id, err);
	*pruned = 0;
	while (!r && !worker_stopping()) {
		const char *n = NULL;
		r = q_outbox_prune_value(db, arena, tx, db_int64(id), outbox_days, RETENTION_OUTBOX_BATCH, &n,
		                         err);
		long long batch = !r && n ? strtoll(n, NULL, 10) : 0;
		*pruned += batch;
		if (batch < RETENTION_OUTBOX_BATCH)
			break;
	}
	return r;
}

kept_err retention_run(struct db_conn *db, struct arena *arena, struct retention_result *out,
                       struct kept_error *err)
{
	*out = (struct retention_result){0};
	kept_err r = ensure_partitions(db, arena, &out->partitions_made, err);
	if (!r)
		r = prune_outbox(db, arena, &out->outbox_pruned, err);
	return r;
}

kept_err retention_archive(struct db_conn *db, struct arena *arena, const char **tables,
                           struct kept_error *err)
{
	struct db_result *res = NULL;
	*tables = "";
	kept_err r = q_audit_archive(db, arena, audit_months, &res, err);
	for (int i = 0; !r && i < db_rows(res); i++) {
		*tables = arena_sprintf(arena, "%s%s\n", *tables, db_value(res, i, 0));
		if (!*tables)
			return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	}
	return r;
}

kept_err retention_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err)
{
	struct retention_result res;
	kept_err r = retention_run(db, arena, &res, err);
	if (!r && (res.partitions_made > 0 || res.outbox_pruned > 0)) {
		struct log_line l;
		log_begin(&l, LOG_INFO, "retention");
		log_int(&l, "audit_partitions_made", res.partitions_made);
		log_int(&l, "outbox_pruned", res.outbox_pruned);
		log_end(&l);
	}
	return r;
}
