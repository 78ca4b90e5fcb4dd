/* page: the self-service page drawn from the views kept.page_* answer — the
 * status each view goes with, nothing of the debt before the visitor has
 * proved who they are, everything from the view HTML-escaped, forms that
 * carry their token, the page's language. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "buf/buf.h"
#include "page/page.h"

static const struct page_ctx CTX = {.lang = LANG_EN,
                                    .base = "/s/TOKEN",
                                    .csrf = "CSRF-TOKEN",
                                    .business = "Acme Services",
                                    .callback_number = "+15550100",
                                    .contact_name = "Robin Smith"};

/* Draws `json` into `b`; answers the status. */
static int draw(struct buf *b, const struct page_ctx *c, const char *json, const char *show)
{
	cJSON *view = cJSON_Parse(json);
	int status = 0;
	assert_non_null(view);
	buf_reset(b);
	assert_int_equal(page_render(b, c, view, show, &status), KEPT_OK);
	cJSON_Delete(view);
	return status;
}

static void closed_views_and_their_statuses(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(draw(&b, &CTX, "{\"view\":\"invalid\"}", NULL), 404);
	assert_int_equal(draw(&b, &CTX, "{\"view\":\"expired\"}", NULL), 410);
	assert_int_equal(draw(&b, &CTX, "{\"view\":\"revoked\"}", NULL), 410);
	assert_int_equal(draw(&b, &CTX, "{\"view\":\"locked\"}", NULL), 403);
	assert_int_equal(draw(&b, &CTX, "{\"view\":\"rate_limited\",\"retry_after\":30}", NULL), 429);
	assert_non_null(strstr(buf_str(&b), "<html lang=\"en\""));
	buf_free(&b);
}

static void identity_says_nothing_of_the_debt(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(draw(&b, &CTX,
	                      "{\"view\":\"identity\",\"error\":\"mismatch\",\"tries_left\":3,"
	                      "\"date_of_birth_postcode\":true,\"code\":true,\"code_sent\":false}",
	                      NULL),
	                 200);
	const char *html = buf_str(&b);
	assert_non_null(strstr(html, "action=\"/s/TOKEN/verify\""));
	assert_non_null(strstr(html, "name=\"csrf\" value=\"CSRF-TOKEN\""));
	assert_non_null(strstr(html, "role=\"alert\""));
	assert_non_null(strstr(html, "<label for="));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "balance"));
	buf_free(&b);
}

static void the_account_escaped(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(
	        draw(&b, &CTX,
	             "{\"view\":\"account\",\"first_name\":\"<b>Zoë</b>\",\"creditor\":\"Acme & <Sons>\","
	             "\"account_ref\":\"AC-1\",\"balance_cents\":125000,\"currency\":\"USD\",\"minor_units\":"
	             "2,"
	             "\"today\":\"2026-12-02\",\"time_zone\":\"America/"
	             "New_York\",\"latest_first_due\":\"2027-01-31\","
	             "\"suggested_first_due\":\"2026-12-09\",\"max_weeks\":52,\"minimum_weekly_cents\":2404,"
	             "\"minimum_weeks\":52,\"min_settlement_percent\":60,\"hear_back_by\":\"2026-12-03\","
	             "\"plan\":null,\"pending\":null}",
	             NULL),
	        200);
	const char *html = buf_str(&b);
	assert_non_null(strstr(html, "Acme &amp; &lt;Sons&gt;"));
	assert_null(strstr(html, "<Sons>"));
	assert_null(strstr(html, "<b>Zoë</b>"));
	assert_non_null(strstr(html, "1,250.00"));
	assert_non_null(strstr(html, "AC-1"));
	buf_free(&b);
}

static void spanish(void **state)
{
	(void)state;
	struct buf b;
	struct page_ctx es = CTX;
	es.lang = LANG_ES;
	buf_init(&b, 1 << 20);
	assert_int_equal(draw(&b, &es, "{\"view\":\"expired\"}", NULL), 410);
	assert_non_null(strstr(buf_str(&b), "<html lang=\"es\""));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(closed_views_and_their_statuses),
	        cmocka_unit_test(identity_says_nothing_of_the_debt),
	        cmocka_unit_test(the_account_escaped),
	        cmocka_unit_test(spanish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
