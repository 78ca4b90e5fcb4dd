/* POST /v1/imports/accounts, /v1/imports/payments and /v1/imports/history —
 * files, all or nothing. A CSV file is parsed here (csv module) and every
 * record COPYd into a staging table with its line number and the problems
 * found here (a malformed line, invalid UTF-8, and for a kind with a value
 * check, values the staging table's types could not hold, which go in as
 * NULL); a JSON history is staged by SQL itself. SQL then lists every problem
 * of every line or writes everything, in one transaction
 * (sql/functions/50_import_accounts.sql, 73_import_payments.sql,
 * 74_import_history.sql). A history's write replays it and may itself refuse
 * records: then their problems are listed and nothing is written either. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf/buf.h"
#include "crypto/crypto.h"
#include "csv/csv.h"
#include "internal.h"
#include "text/text.h"

#define IMPORT_MAX_PROBLEMS 1000
#define IMPORT_COPY_CHUNK   (256u << 10)
#define IMPORT_MAX_COLUMNS  24

struct import_column {
	const char *name;
	bool required;
};

/*
 * Checks the values of one well-formed line (value[c] for column c, NULL
 * when absent): appends a "code:column" token per problem to `problems` and
 * sets to NULL each value its staging column could not hold.
 */
typedef kept_err (*import_check_fn)(const char **value, size_t *length, struct buf *problems);

/* The typed queries (db_queries.h) an import runs, by their shapes. */
typedef kept_err (*import_step_fn)(struct db_conn *c, struct arena *arena, struct db_result **out,
                                   struct kept_error *err);
typedef kept_err (*import_json_fn)(struct db_conn *c, struct arena *arena, const char *body,
                                   struct db_result **out, struct kept_error *err);
typedef kept_err (*import_viewer_fn)(struct db_conn *c, struct arena *arena, int64_t key,
                                     struct db_result **out, struct kept_error *err);
typedef kept_err (*import_problems_fn)(struct db_conn *c, struct arena *arena, int limit,
                                       struct db_result **out, struct kept_error *err);
typedef kept_err (*import_write_fn)(struct db_conn *c, struct arena *arena, int64_t key, const char *actor,
                                    const char *request_id, const char **summary, struct kept_error *err);
typedef kept_err (*import_write_file_fn)(struct db_conn *c, struct arena *arena, int64_t key,
                                         const char *actor, const char *request_id, const char *file_hash,
                                         const char **summary, struct kept_error *err);

/* One kind of import: its columns (in the order of its COPY statement, after
 * line and the problems column), its value check if any, and its queries. */
struct import_kind {
	const struct import_column *columns;
	size_t ncolumns;
	import_check_fn check;
	import_step_fn stage;
	enum sql_query copy; /* the COPY ... FROM STDIN statement */
	/* reads each line's references (at most one of the two; none: NULL);
	 * `resolve_for_viewer` takes the caller's key: references outside their team are unknown */
	import_step_fn resolve;
	import_viewer_fn resolve_for_viewer;
	import_problems_fn problems;
	import_write_fn write; /* exactly one of write and write_file */
	import_write_file_fn write_file;
	import_json_fn stage_json; /* stages a JSON body (NULL: CSV only) */
	bool write_may_refuse;     /* the write answers NULL when it refused records (listed by `problems`) */
};

static const struct import_column account_columns[] = {
        {"customer_external_ref", true},
        {"customer_name", true},
        {"time_zone", true},
        {"jurisdiction", true},
        {"language", false},
        {"phone", false},
        {"phone_consent", false},
        {"account_external_ref", true},
        {"creditor", true},
        {"original_balance_cents", true},
        {"balance_cents", false},
        {"currency", true},
        {"placed_on", false},
        {"date_of_birth", false},
        {"postcode", false},
        {"phone_texts_consent", false},
};

enum payment_column { PAY_ACCOUNT, PAY_AMOUNT, PAY_RECEIVED_AT, PAY_SOURCE, PAY_SOURCE_REF };

static const struct import_column payment_columns[] = {
        [PAY_ACCOUNT] = {"account_external_ref", true}, [PAY_AMOUNT] = {"amount_cents", true},
        [PAY_RECEIVED_AT] = {"received_at", true},      [PAY_SOURCE] = {"source", true},
        [PAY_SOURCE_REF] = {"source_ref", true},
};

static kept_err add_problem(struct buf *problems, const char *code, enum payment_column c)
{
	return buf_printf(problems, "%s%s:%s", buf_len(problems) ? " " : "", code, payment_columns[c].name);
}

/* The payment rules keptd checks itself, so that a million lines cost a
 * million C comparisons rather than a million regular expressions in SQL
 * (their SQL twins: kept.is_timestamp and the payments table's CHECKs). */
static kept_err check_payment(const char **value, size_t *length, struct buf *problems)
{
	static const struct {
		enum payment_column column;
		bool (*valid)(const char *, size_t);
		const char *code;
	} rules[] = {
	        {PAY_AMOUNT, text_is_cents, "invalid_amount"},
	        {PAY_RECEIVED_AT, text_is_timestamp, "invalid_received_at"},
	        {PAY_SOURCE, text_is_source, "invalid_source"},
	        {PAY_SOURCE_REF, text_is_source_ref, "invalid_source_ref"},
	};
	kept_err r = KEPT_OK;
	for (int c = PAY_ACCOUNT; !r && c <= PAY_SOURCE_REF; c++)
		if (!value[c])
			r = add_problem(problems, "missing_value", c);
	for (size_t i = 0; !r && i < sizeof rules / sizeof rules[0]; i++) {
		enum payment_column c = rules[i].column;
		if (value[c] && !rules[i].valid(value[c], length[c])) {
			r = add_problem(problems, rules[i].code, c);
			value[c] = NULL;
		}
	}
	return r;
}

static const struct import_kind accounts_kind = {
        .columns = account_columns,
        .ncolumns = sizeof account_columns / sizeof account_columns[0],
        .stage = q_import_accounts_stage,
        .copy = SQL_Q_IMPORT_ACCOUNTS_COPY,
        .problems = q_import_accounts_problems,
        .write = q_import_accounts_write_value,
};

static const struct import_kind payments_kind = {
        .columns = payment_columns,
        .ncolumns = sizeof payment_columns / sizeof payment_columns[0],
        .check = check_payment,
        .stage = q_import_payments_stage,
        .copy = SQL_Q_IMPORT_PAYMENTS_COPY,
        .resolve_for_viewer = q_import_payments_resolve,
        .problems = q_import_payments_problems,
        .write_file = q_import_payments_write_value,
};

/* Every value of a history is checked in SQL (74_import_history.sql). */
static const struct import_column history_columns[] = {
        {"record", true},
        {"plan_ref", true},
        {"account_external_ref", false},
        {"origin", false},
        {"agreed_at", false},
        {"agreed_by", false},
        {"weekly_amount_cents", false},
        {"first_due_date", false},
        {"settlement_cents", false},
        {"installments", false},
        {"currency", false},
        {"cancelled_at", false},
        {"cancel_reason", false},
        {"amount_cents", false},
        {"received_at", false},
        {"source", false},
        {"source_ref", false},
        {"reversed_at", false},
        {"reversal_reason", false},
};

static const struct import_kind history_kind = {
        .columns = history_columns,
        .ncolumns = sizeof history_columns / sizeof history_columns[0],
        .stage = q_import_history_stage,
        .copy = SQL_Q_IMPORT_HISTORY_COPY,
        .resolve = q_import_history_resolve,
        .problems = q_import_history_problems,
        .write_file = q_import_history_write_value,
        .stage_json = q_import_history_stage_json,
        .write_may_refuse = true,
};

struct import {
	const struct import_kind *kind;
	bool json; /* the body is JSON (kind->stage_json) */
	struct api_ctx *ctx;
	struct db_conn *db;
	size_t header_count;
	int column_of_field[CSV_MAX_FIELDS]; /* file field -> staging column */
	struct buf copy;                     /* COPY text not yet sent */
	struct buf problems;                 /* the current line's problems */
	const char *summary;                 /* the answer, once written */
};

/* ---- the header ---------------------------------------------------------------------- */

static int column_index(const struct import_kind *k, const char *name)
{
	for (size_t i = 0; i < k->ncolumns; i++)
		if (strcmp(k->columns[i].name, name) == 0)
			return (int)i;
	return -1;
}

static kept_err read_header(struct import *im, const struct csv_record *rec, struct kept_error *err)
{
	const struct import_kind *k = im->kind;
	bool seen[IMPORT_MAX_COLUMNS] = {false};
	if (rec->problem)
		return kept_fail(err, KEPT_ERR_INVALID, "invalid_header", "",
		                 "line 1 (the header) is not valid CSV: %s", rec->problem);
	for (size_t i = 0; i < rec->count; i++) {
		int c = column_index(k, rec->fields[i]);
		if (c < 0)
			return kept_fail(err, KEPT_ERR_INVALID, "unknown_column", rec->fields[i],
			                 "the header names a column kept does not know: %.64s",
			                 rec->fields[i]);
		if (seen[c])
			return kept_fail(err, KEPT_ERR_INVALID, "duplicate_column", rec->fields[i],
			                 "the header names %s twice", rec->fields[i]);
		seen[c] = true;
		im->column_of_field[i] = c;
	}
	for (size_t c = 0; c < k->ncolumns; c++)
		if (k->columns[c].required && !seen[c])
			return kept_fail(err, KEPT_ERR_INVALID, "missing_column", k->columns[c].name,
			                 "the header lacks the required column %s", k->columns[c].name);
	im->header_count = rec->count;
	return KEPT_OK;
}

/* ---- COPY text ------------------------------------------------------------------------- */

/* One value in COPY text format; an empty field is NULL. */
static kept_err put_value(struct buf *b, const char *v, size_t n)
{
	if (!v || n == 0)
		return buf_add(b, "\\N", 2);
	kept_err r = KEPT_OK;
	for (size_t i = 0; !r && i < n; i++) {
		switch (v[i]) {
		case '\\': r = buf_add(b, "\\\\", 2); break;
		case '\t': r = buf_add(b, "\\t", 2); break;
		case '\n': r = buf_add(b, "\\n", 2); break;
		case '\r': r = buf_add(b, "\\r", 2); break;
		default: r = buf_addc(b, v[i]);
		}
	}
	return r;
}

/* One staging row: the line, its problems (NULL when none), its values. */
static kept_err put_row(struct import *im, long line, const char *problems, const char **value,
                        const size_t *length)
{
	kept_err r = buf_printf(&im->copy, "%ld\t", line);
	if (!r)
		r = put_value(&im->copy, problems, problems ? strlen(problems) : 0);
	for (size_t c = 0; !r && c < im->kind->ncolumns; c++) {
		r = buf_addc(&im->copy, '\t');
		if (!r)
			r = put_value(&im->copy, value[c], length[c]);
	}
	if (!r)
		r = buf_addc(&im->copy, '\n');
	return r;
}

/* A record's values by staging column (an empty field is absent), or its
 * problem when it cannot be read as values at all. */
static const char *line_values(const struct import *im, const struct csv_record *rec, const char **value,
                               size_t *length)
{
	if (rec->problem)
		return rec->problem;
	if (rec->count != im->header_count)
		return "wrong_field_count";
	for (size_t i = 0; i < rec->count; i++) {
		if (!text_utf8_valid(rec->fields[i], rec->lengths[i]))
			return "invalid_utf8";
		if (rec->lengths[i] > 0) {
			value[im->column_of_field[i]] = rec->fields[i];
			length[im->column_of_field[i]] = rec->lengths[i];
		}
	}
	return NULL;
}

static kept_err flush(struct import *im, struct kept_error *err)
{
	kept_err r = db_copy_put(im->db, buf_str(&im->copy), buf_len(&im->copy), err);
	buf_reset(&im->copy);
	return r;
}

static kept_err on_record(void *arg, const struct csv_record *rec, struct kept_error *err)
{
	struct import *im = arg;
	if (!im->header_count)
		return read_header(im, rec, err);
	const char *value[IMPORT_MAX_COLUMNS] = {NULL};
	size_t length[IMPORT_MAX_COLUMNS] = {0};
	const char *problem = line_values(im, rec, value, length);
	kept_err r = KEPT_OK;
	if (problem) {
		memset(value, 0, sizeof value);
		r = put_row(im, rec->line, problem, value, length);
	} else {
		buf_reset(&im->problems);
		if (im->kind->check)
			r = im->kind->check(value, length, &im->problems);
		if (!r)
			r = put_row(im, rec->line, buf_len(&im->problems) ? buf_str(&im->problems) : NULL,
			            value, length);
	}
	if (r)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	return buf_len(&im->copy) >= IMPORT_COPY_CHUNK ? flush(im, err) : KEPT_OK;
}

/* ---- validation and writing ---------------------------------------------------------------- */

/* Fills err with every problem (up to IMPORT_MAX_PROBLEMS) as details.lines. */
static kept_err reject(struct import *im, struct db_result *problems, struct kept_error *err)
{
	cJSON *details = json_object_in(im->ctx->arena);
	cJSON *lines = details ? cJSON_AddArrayToObject(details, "lines") : NULL;
	long long total = strtoll(db_value(problems, 0, 4), NULL, 10);
	for (int i = 0; lines && i < db_rows(problems); i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddNumberToObject(p, "line", strtod(db_value(problems, i, 0), NULL));
		cJSON_AddStringToObject(p, "code", db_value(problems, i, 1));
		if (db_value(problems, i, 2))
			cJSON_AddStringToObject(p, "field", db_value(problems, i, 2));
		cJSON_AddStringToObject(p, "message", db_value(problems, i, 3));
		if (db_value(problems, i, 5)) /* a JSON history: where the record is */
			cJSON_AddStringToObject(p, "path", db_value(problems, i, 5));
		cJSON_AddItemToArray(lines, p);
	}
	if (details) {
		cJSON_AddNumberToObject(details, "problem_count", (double)total);
		cJSON_AddBoolToObject(details, "truncated", total > db_rows(problems));
	}
	kept_fail(err, KEPT_ERR_RULE, "import_rejected", "",
	          "%lld problem%s in the file; nothing was imported", total, total == 1 ? "" : "s");
	err->details_json = details ? json_print(im->ctx->arena, details) : NULL;
	return KEPT_ERR_RULE;
}

static kept_err stage(struct import *im, struct kept_error *err)
{
	size_t len;
	const char *body = http_body(im->ctx->req, &len);
	if (im->json) {
		return im->kind->stage_json(im->db, NULL, body, NULL, err);
	}
	kept_err r = db_copy_begin(im->db, sql_queries[im->kind->copy].text, err);
	if (r)
		return r;
	r = csv_read(body, len, on_record, im, err);
	if (!r && !im->header_count)
		r = kept_fail(err, KEPT_ERR_INVALID, "empty_file", "", "the file has no header line");
	if (!r)
		r = flush(im, err);
	if (r) {
		db_copy_abort(im->db);
		return r;
	}
	return db_copy_end(im->db, err);
}

/* Lists every problem and fails when there is one; `resolve` first reads
 * each line's references (not again after a write, which would see its own rows). */
static kept_err check(struct import *im, bool resolve, struct kept_error *err)
{
	struct db_result *problems;
	kept_err r = KEPT_OK;
	if (resolve && im->kind->resolve)
		r = im->kind->resolve(im->db, NULL, NULL, err);
	else if (resolve && im->kind->resolve_for_viewer)
		r = im->kind->resolve_for_viewer(im->db, NULL, api_viewer_key(im->ctx), NULL, err);
	if (!r)
		r = im->kind->problems(im->db, im->ctx->arena, IMPORT_MAX_PROBLEMS, &problems, err);
	if (!r && db_rows(problems) > 0)
		r = reject(im, problems, err);
	return r;
}

static kept_err commit_rows(struct import *im, struct kept_error *err)
{
	size_t len;
	const char *body = http_body(im->ctx->req, &len);
	char file_hash[CRYPTO_SHA256_HEX_LEN + 1];
	if (im->kind->write)
		return im->kind->write(im->db, im->ctx->arena, API_ACTOR(im->ctx), &im->summary, err);
	crypto_sha256_hex(body, len, file_hash);
	return im->kind->write_file(im->db, im->ctx->arena, API_ACTOR(im->ctx), file_hash, &im->summary, err);
}

static kept_err import_tx(struct db_conn *db, void *arg, struct kept_error *err)
{
	struct import *im = arg;
	im->db = db;
	im->header_count = 0;
	buf_reset(&im->copy);
	/* a big file legitimately takes longer than one request's statement timeout */
	kept_err r = q_no_statement_timeout(db, NULL, NULL, err);
	if (!r)
		r = im->kind->stage(db, NULL, NULL, err);
	if (!r)
		r = stage(im, err);
	if (!r)
		r = check(im, true, err);
	if (!r)
		r = commit_rows(im, err);
	if (!r && !im->summary && im->kind->write_may_refuse)
		r = check(im, false, err); /* lists what the write refused, and fails */
	if (!r && !im->summary)
		r = kept_fail(err, KEPT_ERR_INTERNAL, "import_failed", "", "the import wrote nothing");
	return r;
}

static kept_err run_import(struct api_ctx *ctx, const struct import_kind *kind, struct kept_error *err)
{
	const char *type = http_header(ctx->req, "Content-Type");
	struct import im = {.kind = kind, .ctx = ctx};
	im.json = kind->stage_json && type && strncasecmp(type, "application/json", 16) == 0;
	buf_init(&im.copy, IMPORT_COPY_CHUNK + CSV_MAX_FIELDS * (2 * CSV_MAX_FIELD_LEN + 8));
	buf_init(&im.problems, 256);
	kept_err r = db_transaction(ctx->db, import_tx, &im, err);
	buf_free(&im.copy);
	buf_free(&im.problems);
	if (!r) /* only once committed */
		http_reply_json(ctx->req, 201, im.summary);
	return r;
}

kept_err api_imports_accounts(struct api_ctx *ctx, struct kept_error *err)
{
	return run_import(ctx, &accounts_kind, err);
}

kept_err api_imports_payments(struct api_ctx *ctx, struct kept_error *err)
{
	return run_import(ctx, &payments_kind, err);
}

kept_err api_imports_history(struct api_ctx *ctx, struct kept_error *err)
{
	return run_import(ctx, &history_kind, err);
}
