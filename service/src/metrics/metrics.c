#include "metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OTHER"};
#define NMETHODS (sizeof methods / sizeof methods[0])

/* Statuses kept distinguishes; anything else is counted under its class. */
static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 409,
                               412, 413, 415, 422, 429, 500, 503, 0 /* other */};
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

/* the loader's last measurement; events < 0 until there is one */
static struct {
	atomic_llong events;
	atomic_llong millis;
} lag = {-1, 0};

/* the loader's continuous check; < 0 until it has run */
static atomic_llong mismatches = -1;

static const char *const db_events[METRICS_DB__COUNT] = {
        [METRICS_DB_UNAVAILABLE] = "unavailable", [METRICS_DB_RETRY] = "retry",
        [METRICS_DB_CONFLICT] = "conflict",       [METRICS_DB_DEFECT] = "defect",
        [METRICS_DB_RECONNECT] = "reconnect",
};

struct route_hist {
	atomic_uint_fast64_t bucket[NBUCKETS]; /* non-cumulative; summed when rendered */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
};

static struct {
	const struct metrics_route *routes;
	size_t nroutes;                 /* plus one for "unmatched" */
	atomic_uint_fast64_t *requests; /* [route][method][status] */
	struct route_hist *hist;        /* [route] */
	atomic_uint_fast64_t db[METRICS_DB__COUNT];
} m;

kept_err metrics_init(const struct metrics_route *routes, size_t nroutes)
{
	size_t n = nroutes + 1;
	m.routes = routes;
	m.nroutes = nroutes;
	m.requests = calloc(n * NMETHODS * NSTATUSES, sizeof *m.requests);
	m.hist = calloc(n, sizeof *m.hist);
	if (!m.requests || !m.hist) {
		metrics_shutdown();
		return KEPT_ERR_NOMEM;
	}
	return KEPT_OK;
}

void metrics_shutdown(void)
{
	free(m.requests);
	free(m.hist);
	m.requests = NULL;
	m.hist = NULL;
}

static size_t method_index(const char *method)
{
	for (size_t i = 0; i + 1 < NMETHODS; i++)
		if (method && strcmp(method, methods[i]) == 0)
			return i;
	return NMETHODS - 1;
}

static size_t status_index(int status)
{
	for (size_t i = 0; i + 1 < NSTATUSES; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUSES - 1;
}

void metrics_http_observe(size_t route, const char *method, int status, double seconds)
{
	if (!m.requests)
		return;
	if (route > m.nroutes)
		route = m.nroutes;
	size_t idx = (route * NMETHODS + method_index(method)) * NSTATUSES + status_index(status);
	atomic_fetch_add_explicit(&m.requests[idx], 1, memory_order_relaxed);
	struct route_hist *h = &m.hist[route];
	size_t b = 0;
	while (b < NBUCKETS && seconds > buckets[b])
		b++;
	if (b < NBUCKETS)
		atomic_fetch_add_explicit(&h->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (uint_fast64_t)(seconds * 1e6), memory_order_relaxed);
}

void metrics_db_event(enum metrics_db_event event)
{
	if ((unsigned)event < METRICS_DB__COUNT)
		atomic_fetch_add_explicit(&m.db[event], 1, memory_order_relaxed);
}

static const char *route_label(size_t r)
{
	return r < m.nroutes ? m.routes[r].pattern : "unmatched";
}

static const char *route_method(size_t r)
{
	return r < m.nroutes ? m.routes[r].method : "any";
}

static kept_err render_requests(struct buf *out)
{
	kept_err r =
	        buf_adds(out, "# HELP kept_http_requests_total HTTP requests by route, method and status.\n"
	                      "# TYPE kept_http_requests_total counter\n");
	for (size_t rt = 0; !r && rt <= m.nroutes; rt++)
		for (size_t me = 0; !r && me < NMETHODS; me++)
			for (size_t st = 0; !r && st < NSTATUSES; st++) {
				uint_fast64_t v =
				        atomic_load(&m.requests[(rt * NMETHODS + me) * NSTATUSES + st]);
				if (!v)
					continue;
				char status[8] = "other";
				if (statuses[st])
					snprintf(status, sizeof status, "%d", statuses[st]);
				r = buf_printf(out,
				               "kept_http_requests_total{route=\"%s\",method=\"%s\",status="
				               "\"%s\"} %llu\n",
				               route_label(rt), methods[me], status, (unsigned long long)v);
			}
	return r;
}

static kept_err render_histograms(struct buf *out)
{
	kept_err r = buf_adds(
	        out, "# HELP kept_http_request_duration_seconds Time from request start to response.\n"
	             "# TYPE kept_http_request_duration_seconds histogram\n");
	for (size_t rt = 0; !r && rt <= m.nroutes; rt++) {
		struct route_hist *h = &m.hist[rt];
		uint_fast64_t count = atomic_load(&h->count);
		if (!count)
			continue;
		uint_fast64_t cumulative = 0;
		for (size_t b = 0; !r && b < NBUCKETS; b++) {
			cumulative += atomic_load(&h->bucket[b]);
			r = buf_printf(out,
			               "kept_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
			               "le=\"%g\"} %llu\n",
			               route_label(rt), route_method(rt), buckets[b],
			               (unsigned long long)cumulative);
		}
		const char *label = route_label(rt), *method = route_method(rt);
		if (!r)
			r = buf_printf(
			        out,
			        "kept_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\",le=\"+"
			        "Inf\"} %llu\n"
			        "kept_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n"
			        "kept_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} %llu\n",
			        label, method, (unsigned long long)count, label, method,
			        (double)atomic_load(&h->sum_us) / 1e6, label, method,
			        (unsigned long long)count);
	}
	return r;
}

kept_err metrics_render(struct buf *out)
{
	if (!m.requests)
		return KEPT_ERR_INTERNAL;
	kept_err r = render_requests(out);
	if (!r)
		r = render_histograms(out);
	if (!r)
		r = buf_adds(out, "# HELP kept_db_events_total Database errors and reconnects by kind.\n"
		                  "# TYPE kept_db_events_total counter\n");
	for (size_t e = 0; !r && e < METRICS_DB__COUNT; e++)
		r = buf_printf(out, "kept_db_events_total{kind=\"%s\"} %llu\n", db_events[e],
		               (unsigned long long)atomic_load(&m.db[e]));
	long long lag_events = atomic_load(&lag.events);
	if (!r && lag_events >= 0)
		r = buf_printf(
		        out,
		        "# HELP kept_analytics_lag_events Outbox events the analytics loader has not loaded "
		        "yet.\n"
		        "# TYPE kept_analytics_lag_events gauge\n"
		        "kept_analytics_lag_events %lld\n"
		        "# HELP kept_analytics_lag_seconds Age of the oldest outbox event not loaded yet.\n"
		        "# TYPE kept_analytics_lag_seconds gauge\n"
		        "kept_analytics_lag_seconds %.3f\n",
		        lag_events, (double)atomic_load(&lag.millis) / 1000.0);
	long long found = atomic_load(&mismatches);
	if (!r && found >= 0)
		r = buf_printf(out,
		               "# HELP kept_analytics_mismatches Differences between analytics and the "
		               "operational tables found by the loader's continuous check (the last whole "
		               "sweep, or the current one if it found more).\n"
		               "# TYPE kept_analytics_mismatches gauge\n"
		               "kept_analytics_mismatches %lld\n",
		               found);
	return r;
}

void metrics_analytics_mismatches(long long differences)
{
	atomic_store(&mismatches, differences);
}

void metrics_analytics_lag(long long events, double seconds)
{
	atomic_store(&lag.millis, (long long)(seconds * 1000.0));
	atomic_store(&lag.events, events);
}
