/* metrics: counters by route, method and status; cumulative histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/metrics.h"

static const struct metrics_route routes[] = {
        {"GET", "/v1/customers/{id}"},
        {"PATCH", "/v1/customers/{id}"},
};

static void exposition_counts_what_happened(void **state)
{
	(void)state;
	assert_int_equal(metrics_init(routes, 2), KEPT_OK);
	metrics_http_observe(0, "GET", 200, 0.002);
	metrics_http_observe(0, "GET", 200, 0.2);
	metrics_http_observe(1, "PATCH", 412, 0.004);
	metrics_http_observe(99, "BREW", 418, 0.001);
	metrics_db_event(METRICS_DB_UNAVAILABLE);
	struct buf out;
	buf_init(&out, 1u << 20);
	assert_int_equal(metrics_render(&out), KEPT_OK);
	const char *t = buf_str(&out);
	assert_non_null(strstr(
	        t,
	        "kept_http_requests_total{route=\"/v1/customers/{id}\",method=\"GET\",status=\"200\"} 2\n"));
	assert_non_null(strstr(t, "kept_http_requests_total{route=\"/v1/customers/"
	                          "{id}\",method=\"PATCH\",status=\"412\"} 1\n"));
	assert_non_null(strstr(
	        t, "kept_http_requests_total{route=\"unmatched\",method=\"OTHER\",status=\"other\"} 1\n"));
	assert_non_null(strstr(t, "kept_http_request_duration_seconds_bucket{route=\"/v1/customers/"
	                          "{id}\",method=\"GET\",le=\"0.0025\"} 1\n"));
	assert_non_null(strstr(t, "kept_http_request_duration_seconds_bucket{route=\"/v1/customers/"
	                          "{id}\",method=\"GET\",le=\"0.25\"} 2\n"));
	assert_non_null(strstr(
	        t,
	        "kept_http_request_duration_seconds_count{route=\"/v1/customers/{id}\",method=\"GET\"} 2\n"));
	assert_non_null(strstr(t, "kept_db_events_total{kind=\"unavailable\"} 1\n"));
	assert_non_null(strstr(t, "# TYPE kept_http_request_duration_seconds histogram\n"));
	buf_free(&out);
	metrics_shutdown();
}

/* The analytics gauges appear once the loader has set them. */
static void analytics_gauges_once_set(void **state)
{
	(void)state;
	assert_int_equal(metrics_init(routes, 2), KEPT_OK);
	struct buf out;
	buf_init(&out, 1u << 20);
	assert_int_equal(metrics_render(&out), KEPT_OK);
	assert_null(strstr(buf_str(&out), "kept_analytics_mismatches"));
	metrics_analytics_lag(12, 3.5);
	metrics_analytics_mismatches(4);
	buf_reset(&out);
	assert_int_equal(metrics_render(&out), KEPT_OK);
	assert_non_null(strstr(buf_str(&out), "kept_analytics_lag_events 12\n"));
	assert_non_null(strstr(buf_str(&out), "kept_analytics_lag_seconds 3.500\n"));
	assert_non_null(strstr(buf_str(&out),
	                       "# TYPE kept_analytics_mismatches gauge\nkept_analytics_mismatches 4\n"));
	buf_free(&out);
	metrics_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(exposition_counts_what_happened),
	        cmocka_unit_test(analytics_gauges_once_set),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
