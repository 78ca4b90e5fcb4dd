/*
 * retention — what keeps the tables that only grow in bounds: the outbox
 * pruned once loaded, the audit log's monthly partitions made ahead and old
 * ones detached for archive.
 *
 * What it promises: an outbox event is removed only once the analytics
 * loader has applied it (it is at or before the loader's cursor, read from
 * wherever analytics lives) and it is older than the outbox retention; the
 * removal goes in small batches, each its own short statement, so writers
 * never wait for it. Audit partitions are made for the coming months; a
 * partition is detached (kept.audit_archive, into schema kept_archive) only
 * when every event in it is older than the audit retention and sealed.
 * The maintenance worker runs retention_run; `keptd audit-archive` runs
 * retention_archive, which is never automatic: what leaves the live table
 * is the operator's decision.
 */
#ifndef KEPT_RETENTION_H
#define KEPT_RETENTION_H

#include "arena/arena.h"
#include "db/db.h"
#include "err/err.h"

#define RETENTION_OUTBOX_BATCH 1000

struct retention_result {
	long long partitions_made;
	long long outbox_pruned;
};

/* Days an applied outbox event is kept; months the audit log is kept at
 * least. Call once at start. */
void retention_configure(int outbox_days, int audit_months);

/* Makes the coming audit partitions and prunes the outbox, batch after
 * batch until a batch comes back short or the worker is asked to stop. */
kept_err retention_run(struct db_conn *db, struct arena *arena, struct retention_result *out,
                       struct kept_error *err) KEPT_MUST_CHECK;

/* Detaches the audit partitions past the retention; *tables (arena-owned,
 * one "kept_archive.name" per line, "" for none) says which. */
kept_err retention_archive(struct db_conn *db, struct arena *arena, const char **tables,
                           struct kept_error *err) KEPT_MUST_CHECK;

/* The maintenance worker's run. */
kept_err retention_worker_run(struct db_conn *db, struct arena *arena,
                              struct kept_error *err) KEPT_MUST_CHECK;

#endif
