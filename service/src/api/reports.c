/*
 * GET /v1/reports/{name}?from=&to= — the finance reports of sql/reports/,
 * the same files an analyst runs with psql: their :'from' and :'to' become
 * query parameters. JSON by default; CSV (RFC 4180, with a file name) for
 * Accept: text/csv or format=csv. They read schema analytics, in the
 * analytics database when it is another one. A finance user sees the figures
 * of their team's creditors only: the report runs in a transaction that set
 * kept.report_creditors, which every report filters by (analytics.in_scope).
 */
#include <string.h>
#include <strings.h>

#include "buf/buf.h"
#include "csv/csv.h"
#include "internal.h"
#include "text/text.h"

static const struct sql_file *find_report(const char *name)
{
	for (size_t i = 0; name && i < sql_reports_count; i++)
		if (strcmp(sql_reports[i].name, name) == 0)
			return &sql_reports[i];
	return NULL;
}

/* The report's SQL with :'from' and :'to' as $1 and $2, without the final ";". */
static const char *report_sql(struct arena *arena, const char *text)
{
	struct buf b;
	buf_init(&b, 1u << 20);
	kept_err r = KEPT_OK;
	for (const char *p = text; *p && !r;) {
		if (strncmp(p, ":'from'", 7) == 0) {
			r = buf_adds(&b, "$1");
			p += 7;
		} else if (strncmp(p, ":'to'", 5) == 0) {
			r = buf_adds(&b, "$2");
			p += 5;
		} else {
			r = buf_addc(&b, *p++);
		}
	}
	while (!r && b.len &&
	       (b.data[b.len - 1] == ';' || b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
		b.data[--b.len] = '\0';
	const char *sql = r ? NULL : arena_strdup(arena, buf_str(&b));
	buf_free(&b);
	return sql;
}

static kept_err date_param(struct api_ctx *ctx, const char *name, const char **out, struct kept_error *err)
{
	*out = http_query(ctx->req, name);
	if (!*out || !text_is_date(*out, strlen(*out)))
		return kept_fail(err, KEPT_ERR_INVALID, *out ? "invalid_date" : "missing_value", name,
		                 "%s is required: a date like 2026-01-05", name);
	return KEPT_OK;
}

/* format=csv or format=json, else the Accept header; any other format is refused. */
static kept_err wants_csv(struct api_ctx *ctx, bool *csv, struct kept_error *err)
{
	const char *format = http_query(ctx->req, "format");
	if (format) {
		*csv = strcasecmp(format, "csv") == 0;
		if (!*csv && strcasecmp(format, "json") != 0)
			return kept_fail(err, KEPT_ERR_INVALID, "invalid_format", "format",
			                 "format is csv or json");
		return KEPT_OK;
	}
	const char *accept = http_header(ctx->req, "Accept");
	*csv = accept && strstr(accept, "text/csv") && !strstr(accept, "application/json");
	return KEPT_OK;
}

static kept_err reply_csv(struct api_ctx *ctx, const char *name, const char *from, const char *to,
                          const struct db_result *res, struct kept_error *err)
{
	struct buf b;
	buf_init(&b, 256u << 20);
	kept_err r = KEPT_OK;
	for (int c = 0; c < db_cols(res) && !r; c++) {
		r = c ? buf_addc(&b, ',') : KEPT_OK;
		r = r ? r : csv_put_field(&b, db_col_name(res, c));
	}
	r = r ? r : buf_adds(&b, "\r\n");
	for (int row = 0; row < db_rows(res) && !r; row++) {
		for (int c = 0; c < db_cols(res) && !r; c++) {
			r = c ? buf_addc(&b, ',') : KEPT_OK;
			r = r ? r : csv_put_field(&b, db_value(res, row, c));
		}
		r = r ? r : buf_adds(&b, "\r\n");
	}
	const char *disposition =
	        arena_sprintf(ctx->arena, "attachment; filename=\"%s_%s_%s.csv\"", name, from, to);
	if (!r && disposition)
		r = http_add_header(ctx->req, "Content-Disposition", disposition);
	if (r) {
		buf_free(&b);
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "the report is too large");
	}
	http_reply(ctx->req, 200, "text/csv; charset=utf-8; header=present", buf_str(&b), buf_len(&b));
	buf_free(&b);
	return KEPT_OK;
}

/* The creditors the caller's reports cover, as an array literal; NULL for all (an admin). */
static kept_err report_scope(struct api_ctx *ctx, const char **scope, struct kept_error *err)
{
	kept_err r = q_viewer_creditors_value(ctx->db, ctx->arena, api_viewer_key(ctx), scope, err);
	if (r)
		*scope = NULL;
	return r;
}

struct report_run {
	const char *sql;
	const char *const *params; /* from, to */
	const char *scope;         /* NULL: every creditor */
	struct arena *arena;
	struct db_result *res;
};

static kept_err run_report(struct db_conn *c, void *ctx, struct kept_error *err)
{
	struct report_run *run = ctx;
	kept_err r = KEPT_OK;
	if (run->scope) {
		const char *scope[] = {run->scope};
		r = db_exec(c, run->arena, "SELECT set_config('kept.report_creditors', $1, true)", 1, scope,
		            NULL, err);
	}
	return r ? r : db_exec(c, run->arena, run->sql, 2, run->params, &run->res, err);
}

kept_err api_reports_get(struct api_ctx *ctx, struct kept_error *err)
{
	const char *name = route_param(&ctx->params, "name");
	const struct sql_file *report = find_report(name);
	if (!report)
		return kept_fail(
		        err, KEPT_ERR_NOT_FOUND, "report_not_found", "name",
		        "no such report; there are summary, weekly-adherence, cohorts, origin, agents, "
		        "reminders, compliance");
	const char *from, *to;
	kept_err r = date_param(ctx, "from", &from, err);
	if (!r)
		r = date_param(ctx, "to", &to, err);
	if (r)
		return r;
	if (strcmp(from, to) >= 0)
		return kept_fail(err, KEPT_ERR_INVALID, "invalid_range", "to", "to must be after from");
	bool csv = false;
	r = wants_csv(ctx, &csv, err);
	if (r)
		return r;
	const char *scope = NULL;
	r = report_scope(ctx, &scope, err);
	if (r)
		return r;
	const char *sql = report_sql(ctx->arena, report->text);
	if (!sql)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	if (!csv)
		sql = arena_sprintf(ctx->arena, "SELECT coalesce(json_agg(r), '[]'::json) FROM (%s) r", sql);
	struct db_conn *db = ctx->db, *own = NULL;
	if (api_cfg->analytics_url) {
		struct db_settings s = {api_cfg->analytics_url, 30000, "keptd reports"};
		r = db_connect(&s, &own, err);
		db = own;
	}
	const char *params[] = {from, to};
	struct report_run run = {sql, params, scope, ctx->arena, NULL};
	struct db_result *res = NULL, *fresh = NULL;
	if (!r && sql)
		r = db_transaction(db, run_report, &run, err);
	res = run.res;
	if (!r && csv) {
		r = reply_csv(ctx, name, from, to, res, err);
	} else if (!r) {
		r = q_analytics_freshness(db, ctx->arena, &fresh, err);
		const char *json = r ? NULL
		                     : arena_sprintf(ctx->arena,
		                                     "{\"report\":\"%s\",\"from\":\"%s\",\"to\":\"%s\","
		                                     "\"analytics\":%s,\"rows\":%s}",
		                                     name, from, to, db_value(fresh, 0, 0),
		                                     db_value(res, 0, 0) ? db_value(res, 0, 0) : "[]");
		if (json)
			http_reply_json(ctx->req, 200, json);
		else if (!r)
			r = kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	}
	db_close(own);
	return r;
}
