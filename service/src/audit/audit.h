/*
 * audit — sealing the audit chain.
 *
 * Audit events are written unsealed in the transaction of the change they
 * record; sealing chains committed events after the head (SQL:
 * kept.audit_seal, sql/functions/10_audit.sql). The auditor worker seals every
 * second; any instance may, concurrent sealers take turns on the head row.
 */
#ifndef KEPT_AUDIT_H
#define KEPT_AUDIT_H

#include "arena/arena.h"
#include "db/db.h"
#include "err/err.h"

/* Seals every committed unsealed event, in batches; *sealed gets how many. */
kept_err audit_seal_all(struct db_conn *db, struct arena *arena, long long *sealed,
                        struct kept_error *err) KEPT_MUST_CHECK;

/* The auditor worker's run. */
kept_err audit_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err) KEPT_MUST_CHECK;

#endif
