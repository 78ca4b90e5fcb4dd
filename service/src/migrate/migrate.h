/*
 * migrate — brings a database to the schema this keptd was built with.
 *
 * The migrations of schema/ and the functions of sql/functions/ are embedded
 * in the binary (see service/tools/sqlgen.c). migrate_run():
 *
 *   1. takes a session advisory lock, so any number of hosts may run it at
 *      once: the others wait, then find nothing left to do;
 *   2. refuses to go on if an applied migration's checksum differs from the
 *      embedded file, or the database has a migration this binary lacks;
 *   3. applies each new migration in its own transaction, recorded with its
 *      SHA-256 in kept.schema_migrations;
 *   4. reloads every function file and refreshes kept.time_zones from
 *      pg_timezone_names, in one transaction;
 *   5. records the bundle checksum that /readyz compares against.
 */
#ifndef KEPT_MIGRATE_H
#define KEPT_MIGRATE_H

#include "db/db.h"
#include "err/err.h"

struct migrate_report {
	int applied; /* migrations applied by this run */
	int present; /* migrations that were already applied */
};

kept_err migrate_run(struct db_conn *db, struct migrate_report *report,
                     struct kept_error *err) KEPT_MUST_CHECK;

/* The identity of the embedded schema and functions: 64 hex digits. */
void migrate_bundle_checksum(char out[65]);

#endif
