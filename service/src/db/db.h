/*
 * db — the only module that talks to libpq.
 *
 * A `struct db_conn` is one PostgreSQL session. The named queries of sql/
 * are run through their typed functions, generated from sql/queries/ into
 * db_queries.h (q_customer_get(c, arena, id, &out, err); see
 * service/tools/sqlgen.c for how a parameter's C type is read from the
 * query), so a call with a wrong count or type of parameters does not
 * compile. A query is prepared on a connection the first time it runs and
 * reused for the connection's life; it is prepared again after a reconnect.
 *
 * SQL NULL as a parameter: NULL for text (const char *); the sentinels
 * DB_NULL_BIGINT (INT64_MIN) for int64_t and DB_NULL_INT (INT_MIN) for int,
 * values no kept id, amount or count can take. A bool cannot be NULL.
 *
 * Results belong to the arena passed in and are released with it, so
 * handlers never clear results by hand.
 *
 * Failures are classified by SQLSTATE, in one place (db.c, classify), into
 * kept_err kinds:
 *   an outage: a lost connection, 08xxx but 08P01, 53xxx, 57P0x,
 *   25006 (a read-only server: a standby, a demoted primary)   -> KEPT_ERR_UNAVAILABLE
 *                                                                  (503 with Retry-After)
 *   57014 statement timeout                                     -> KEPT_ERR_UNAVAILABLE,
 *                                                                  code database_timeout
 *   40001, 40P01, 55P03 (lock_timeout: keptd migrate's yield),
 *   0A000, 26000 (a prepared statement gone stale)              -> KEPT_ERR_RETRY
 *   kept's own rules:
 *   KRINV, KRFBD, KRNFD, KRCFL, KRPRE, KRRUL (kept.fail, see
 *   sql/functions/00_common.sql: one SQLSTATE per kind)         -> that kind
 *   KR409 (the append-only triggers of schema/)                 -> KEPT_ERR_CONFLICT
 *   KR500 (kept misconfigured, e.g. a data key missing)          -> KEPT_ERR_INTERNAL
 *   23505 unique                                                -> KEPT_ERR_CONFLICT
 *   23503 foreign key                                           -> KEPT_ERR_RULE
 *   23514 check, 23502 not null                                 -> KEPT_ERR_INVALID
 *   anything else (42xxx, 22xxx, 08P01 a protocol violation
 *   such as a wrong parameter count, ...) is a defect of kept's:
 *   logged once as db_defect (SQLSTATE and query name, never a
 *   parameter), counted as kept_db_events_total{kind="defect"}  -> KEPT_ERR_INTERNAL (500,
 *                                                                  code database_defect)
 * Client input must therefore be checked before it reaches a query whose
 * casts it could fail (22xxx). For constraint violations the constraint
 * name goes to err->constraint so the API can name the field. kept's own
 * errors carry their stable code in HINT and their field in COLUMN.
 *
 * HTTP worker threads use db_thread_conn(): one connection per thread, taken
 * from those opened at start (so the number of connections is fixed from the
 * first request on), re-established automatically when it breaks (at most
 * one attempt per DB_RECONNECT_INTERVAL_MS per thread, so a database outage
 * costs a fast 503 rather than a stampede of connection attempts). With a
 * multi-host URL and target_session_attrs=read-write (Patroni), a reconnect
 * finds whichever host is the primary now; a connection that finds itself on
 * a read-only server is dropped and made again.
 */
#ifndef KEPT_DB_H
#define KEPT_DB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/arena.h"
#include "db_queries.h"
#include "err/err.h"
#include "sql_bundle.h"

#define DB_RECONNECT_INTERVAL_MS 250

/* SQL NULL for a typed query's number parameters (see above). */
#define DB_NULL_BIGINT INT64_MIN
#define DB_NULL_INT    INT_MIN

struct db_conn;
struct db_result;

/* Settings every connection gets. */
struct db_settings {
	const char *url;          /* libpq connection string (URL or key=value) */
	int statement_timeout_ms; /* 0: no timeout */
	const char *application_name;
};

/*
 * Opens a connection (connect_timeout 5 s unless the URL says otherwise),
 * sets TimeZone to UTC and the statement timeout. On failure *out is NULL and
 * err says why (KEPT_ERR_UNAVAILABLE). Close with db_close().
 */
kept_err db_connect(const struct db_settings *s, struct db_conn **out,
                    struct kept_error *err) KEPT_MUST_CHECK;

/*
 * The key-encryption keys (64 hex digits each; NULL or "" for none) that every
 * session opened from now on is given, as the settings kept.data_key and
 * kept.data_key_previous, in the connection's startup options. kept's SQL
 * seals and opens customers' personal data with them (0021_personal_data.sql).
 * Call before connecting; the values are copied.
 */
void db_set_data_keys(const char *current, const char *previous);

/* Closes the connection; db_close(NULL) does nothing. */
void db_close(struct db_conn *c);

/* True when the connection is established and not known to be broken. */
bool db_is_up(const struct db_conn *c);

/* ---- per-thread connections (HTTP workers) -------------------------------- */

/* Sets the settings for thread connections (`s` and its strings must outlive
 * them) and opens `count` of them now, one for each thread to come. When the
 * database cannot be reached it opens fewer; threads without one connect at
 * their first request. */
void db_threads_configure(const struct db_settings *s, int count);

/* This thread's connection, connecting or reconnecting as needed. The
 * connection stays owned by the db module. */
kept_err db_thread_conn(struct db_conn **out, struct kept_error *err) KEPT_MUST_CHECK;

/* Closes every thread connection (call after all worker threads have stopped). */
void db_threads_close_all(void);

/* ---- queries ----------------------------------------------------------------- */

/* Named queries: the q_* functions of db_queries.h. */

/* Runs SQL text with parameters, unprepared (tools, migrations, one-off statements). */
kept_err db_exec(struct db_conn *c, struct arena *arena, const char *sql, int nparams,
                 const char *const *params, struct db_result **out, struct kept_error *err) KEPT_MUST_CHECK;

/* Runs a script of several statements without parameters (a migration file). */
kept_err db_exec_script(struct db_conn *c, const char *sql, struct kept_error *err) KEPT_MUST_CHECK;

int db_rows(const struct db_result *r);
int db_cols(const struct db_result *r);
/* A column's name, or NULL for an out-of-range column. */
const char *db_col_name(const struct db_result *r, int col);
/* The text of a cell, or NULL for SQL NULL or out-of-range row/column. */
const char *db_value(const struct db_result *r, int row, int col);
/* Rows changed by an INSERT/UPDATE/DELETE. */
long long db_affected(const struct db_result *r);

/* Decimal text (a cell db_value read, to pass on to another query) as a
 * typed query's int64_t parameter: NULL (SQL NULL) -> DB_NULL_BIGINT. */
int64_t db_int64(const char *text);

/* ---- error classes ------------------------------------------------------------- */

/* What a SQLSTATE means to kept (the table at the top of this header). */
enum db_state_class {
	DB_STATE_OUTAGE,     /* NULL, malformed, 08 but 08P01, 53, 57P, 25006: 503 */
	DB_STATE_TIMEOUT,    /* 57014: 503 database_timeout */
	DB_STATE_RETRY,      /* 40001, 40P01, 55P03: the transaction runs again */
	DB_STATE_STALE,      /* 0A000, 26000: re-prepare and run again */
	DB_STATE_OWN,        /* KRxxx: kept's own rule */
	DB_STATE_CONSTRAINT, /* 23xxx: a constraint kept maps to a field */
	DB_STATE_DEFECT,     /* anything else: 500, logged and counted */
};

enum db_state_class db_state_class(const char *sqlstate);

/* ---- transactions ------------------------------------------------------------ */

/* One transaction body: runs statements on `c`, returns KEPT_OK to commit. */
typedef kept_err (*db_tx_fn)(struct db_conn *c, void *ctx, struct kept_error *err);

/*
 * Runs `fn` inside BEGIN ... COMMIT. A KEPT_ERR_RETRY from the body or the
 * commit (serialization failure, deadlock) reruns the whole body, up to 5
 * times with a short randomised pause; any other failure rolls back and is
 * returned. The body must therefore be safe to run again from the start.
 */
kept_err db_transaction(struct db_conn *c, db_tx_fn fn, void *ctx, struct kept_error *err) KEPT_MUST_CHECK;

/* ---- COPY FROM STDIN ---------------------------------------------------------- */

/* Starts `copy_sql` (a COPY ... FROM STDIN statement). */
kept_err db_copy_begin(struct db_conn *c, const char *copy_sql, struct kept_error *err) KEPT_MUST_CHECK;
/* Sends `n` bytes of COPY data. */
kept_err db_copy_put(struct db_conn *c, const char *data, size_t n, struct kept_error *err) KEPT_MUST_CHECK;
/* Ends the COPY; errors in the data surface here. */
kept_err db_copy_end(struct db_conn *c, struct kept_error *err) KEPT_MUST_CHECK;
/* Abandons a COPY in progress (the caller's error stands; the transaction is
 * left aborted, ready for ROLLBACK). */
void db_copy_abort(struct db_conn *c);

#endif
