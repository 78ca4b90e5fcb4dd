/*
 * metrics — process-wide counters and histograms, rendered in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * All series are fixed-size arrays of atomics allocated once by
 * metrics_init(), so recording never allocates or locks and is safe from any
 * thread. Route labels are the route patterns of the routing table
 * ("/v1/customers/{id}"), never raw paths, so cardinality is bounded.
 */
#ifndef KEPT_METRICS_H
#define KEPT_METRICS_H

#include <stddef.h>

#include "buf/buf.h"
#include "err/err.h"

/* Database events worth counting. */
enum metrics_db_event {
	METRICS_DB_UNAVAILABLE, /* a query failed because the database was unreachable */
	METRICS_DB_RETRY,       /* a transaction was rerun after a serialization failure */
	METRICS_DB_CONFLICT,    /* a constraint or rule stopped a write (client error) */
	METRICS_DB_DEFECT,      /* any other failed query: a defect of kept's (db.h) */
	METRICS_DB_RECONNECT,   /* a connection was (re)established */
	METRICS_DB__COUNT
};

/* The analytics loader's lag, as its last run measured it: events not yet
 * loaded and the age of the oldest of them (rendered only once set). */
void metrics_analytics_lag(long long events, double seconds);

/* Differences between analytics and the operational tables that the
 * loader's continuous check found (rendered only once set). */
void metrics_analytics_mismatches(long long differences);

/* A route as metrics label it: its method and its pattern. */
struct metrics_route {
	const char *method;
	const char *pattern;
};

/*
 * Prepares the series for `nroutes` routes (kept by reference: the array and
 * its strings must outlive the process, as a static routing table does). An
 * extra route index `nroutes` stands for "no route matched".
 * Call once before serving; returns KEPT_ERR_NOMEM on failure.
 */
kept_err metrics_init(const struct metrics_route *routes, size_t nroutes) KEPT_MUST_CHECK;

/* Releases what metrics_init() allocated. */
void metrics_shutdown(void);

/* Counts one finished HTTP request. `route` beyond the table counts as unmatched. */
void metrics_http_observe(size_t route, const char *method, int status, double seconds);

/* Counts a database event. */
void metrics_db_event(enum metrics_db_event event);

/* Appends the whole exposition to `out`. */
kept_err metrics_render(struct buf *out) KEPT_MUST_CHECK;

#endif
