/*
 * privacy — the jobs that keep personal data no longer than it may be kept,
 * and the rotation of the key that protects it.
 *
 * The retention job (SQL: kept.retention_run, sql/functions/35_privacy.sql)
 * erases every customer whose accounts are all closed and whose retention
 * period (per jurisdiction, kept.retention_policies) has passed, at most
 * PRIVACY_BATCH per transaction, and removes access-log rows older than the
 * configured days. Customers another transaction holds are skipped and taken
 * by the next run, so several keptd may run it.
 *
 * Rotation re-wraps every customer's data key under KEPT_DATA_KEY, opening it
 * with KEPT_DATA_KEY_PREVIOUS (kept.data_keys_rewrap), in batches, each its
 * own transaction; the data itself is not re-encrypted.
 */
#ifndef KEPT_PRIVACY_H
#define KEPT_PRIVACY_H

#include "arena/arena.h"
#include "db/db.h"
#include "err/err.h"

#define PRIVACY_BATCH 500

/* How long access-log rows are kept (KEPT_ACCESS_LOG_DAYS). Call before any run. */
void privacy_configure(int access_log_days);

/* One retention pass at `as_of` (NULL: now); *json (arena-owned) sums it up:
 * {"as_of", "erased", "customers": [...], "access_log_pruned"}. */
kept_err privacy_retention(struct db_conn *db, struct arena *arena, const char *as_of, const char **json,
                           struct kept_error *err) KEPT_MUST_CHECK;

/* The retention worker's run (now). */
kept_err privacy_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err) KEPT_MUST_CHECK;

/* Re-wraps every data key the current key does not wrap yet; *json:
 * {"rewrapped", "remaining"}. */
kept_err privacy_rotate(struct db_conn *db, struct arena *arena, const char **json,
                        struct kept_error *err) KEPT_MUST_CHECK;

#endif
