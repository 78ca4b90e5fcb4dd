/* GET /healthz, /readyz, /metrics — open to all, for orchestrators and scrapers. */
#include "internal.h"
#include "metrics/metrics.h"
#include "migrate/migrate.h"

/* Alive: the process answers. Says nothing about the database on purpose, so
 * an orchestrator does not restart keptd for a database outage. */
kept_err api_health_live(struct api_ctx *ctx, struct kept_error *err)
{
	(void)err;
	http_reply_json(ctx->req, 200, "{\"status\":\"ok\"}");
	return KEPT_OK;
}

/* Ready: the database answers and holds exactly this keptd's schema. */
kept_err api_health_ready(struct api_ctx *ctx, struct kept_error *err)
{
	char bundle[65];
	migrate_bundle_checksum(bundle);
	struct db_result *res;
	kept_err r = q_schema_ready(ctx->db, ctx->arena, bundle, &res, err);
	if (r == KEPT_ERR_UNAVAILABLE)
		return r;
	const char *current = r ? NULL : db_value(res, 0, 0);
	if (!current || current[0] != 't')
		return kept_fail(err, KEPT_ERR_UNAVAILABLE, "schema_not_current", "",
		                 "the database schema is not the one this keptd needs; run keptd migrate");
	http_reply_json(ctx->req, 200, "{\"status\":\"ready\"}");
	return KEPT_OK;
}

kept_err api_metrics(struct api_ctx *ctx, struct kept_error *err)
{
	struct buf out;
	buf_init(&out, 8u << 20);
	kept_err r = metrics_render(&out);
	if (r) {
		buf_free(&out);
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "metrics unavailable");
	}
	http_reply(ctx->req, 200, "text/plain; version=0.0.4", buf_str(&out), buf_len(&out));
	buf_free(&out);
	return KEPT_OK;
}
