/*
 * db/db_gen.h — what the generated query functions (build/gen/db_queries.c,
 * written by service/tools/sqlgen) call. Nothing else includes it: the rest
 * of kept runs named queries only through their typed q_* functions.
 */
#ifndef KEPT_DB_GEN_H
#define KEPT_DB_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* Room for a 64-bit integer in decimal text with its sign and NUL. */
#define DB_PARAM_TEXT_MAX 24

/* `v` as decimal text in `buf` (DB_PARAM_TEXT_MAX bytes), or NULL (SQL NULL)
 * for DB_NULL_BIGINT / DB_NULL_INT. */
const char *db_param_int64(char buf[DB_PARAM_TEXT_MAX], int64_t v);
const char *db_param_int(char buf[DB_PARAM_TEXT_MAX], int v);
/* "true" or "false" (static text). */
const char *db_param_bool(bool v);

/* Runs the named query `q` with `nparams` text parameters. *out (may be NULL
 * when the caller needs no rows) belongs to `arena`. */
kept_err db_query_run(struct db_conn *c, struct arena *arena, enum sql_query q, int nparams,
                      const char *const *params, struct db_result **out,
                      struct kept_error *err) KEPT_MUST_CHECK;

/* As db_query_run, handing the first column of the first row (arena-owned
 * text; NULL when no row came back). */
kept_err db_query_value(struct db_conn *c, struct arena *arena, enum sql_query q, int nparams,
                        const char *const *params, const char **value,
                        struct kept_error *err) KEPT_MUST_CHECK;

#endif
