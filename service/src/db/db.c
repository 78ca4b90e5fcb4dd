#include "db.h"

#include <inttypes.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock/clock.h"
#include "crypto/crypto.h"
#include "db/db_gen.h"
#include "log/log.h"
#include "metrics/metrics.h"

#define DB_TX_ATTEMPTS        5
#define DB_STATEMENT_ATTEMPTS 3

struct db_conn {
	PGconn *pg;
	bool broken;         /* a query saw the connection fail */
	bool in_tx;          /* inside db_transaction */
	bool down_logged;    /* the current outage has been logged */
	unsigned generation; /* part of statement names; bumped to re-prepare */
	unsigned clock_gen;  /* the clock offset generation this session has (0: none yet) */
	const char *running; /* the named query (or kind of statement) being run, for the defect log */
	uint64_t last_attempt_ms;
	bool prepared[SQL_Q__COUNT];
	struct db_conn *next_thread; /* registry of thread connections */
	struct db_conn *next_spare;  /* opened at start, waiting for a thread */
};

struct db_result {
	PGresult *res;
};

/* ---- connecting ---------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_notice(void *arg, const char *message)
{
	(void)arg;
	struct log_line l;
	log_begin(&l, LOG_DEBUG, "db_notice");
	log_str(&l, "msg", message);
	log_end(&l);
}

/* Records that `c` is down, logging the first sign of each outage once. */
static void mark_down(struct db_conn *c, const char *why)
{
	c->broken = true;
	if (c->down_logged)
		return;
	c->down_logged = true;
	struct log_line l;
	log_begin(&l, LOG_WARN, "db_down");
	log_str(&l, "msg", why);
	log_end(&l);
}

static kept_err session_setup(PGconn *pg, const struct db_settings *s, struct kept_error *err)
{
	char timeout[32];
	snprintf(timeout, sizeof timeout, "%d", s->statement_timeout_ms);
	const char *params[] = {timeout};
	/* No JIT: kept's statements are short, and a row estimate the planner
	 * cannot make (a set-returning function's, a PL/pgSQL parameter's) can
	 * cross jit_above_cost and spend tens of milliseconds compiling a
	 * statement that runs in a fraction of one. */
	PGresult *res = PQexec(pg, "SET TIME ZONE 'UTC'; SET jit = off");
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (ok) {
		res = PQexecParams(pg, "SELECT set_config('statement_timeout', $1, false)", 1, NULL, params,
		                   NULL, NULL, 0);
		ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
	}
	if (!ok)
		return kept_fail(err, KEPT_ERR_UNAVAILABLE, "database_unavailable", "",
		                 "could not set up the database session: %s", PQerrorMessage(pg));
	return KEPT_OK;
}

/* The data keys every session is given (see db_set_data_keys); "" when none. */
static char data_key[65], data_key_previous[65];

void db_set_data_keys(const char *current, const char *previous)
{
	snprintf(data_key, sizeof data_key, "%s", current ? current : "");
	snprintf(data_key_previous, sizeof data_key_previous, "%s", previous ? previous : "");
}

/* The startup options: the URL's own (if it has any), then the data keys as
 * settings of the session. In the startup packet, not in a statement, so no
 * statement log of the server can show them. NULL (no options) or malloc'd. */
static char *startup_options(const char *url)
{
	const char *given = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, NULL);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "options") == 0 && o->val && *o->val)
			given = o->val;
	size_t n = (given ? strlen(given) : 0) + 2 * (sizeof data_key + 40) + 2;
	char *out = data_key[0] || given ? malloc(n) : NULL;
	if (out)
		snprintf(out, n, "%s%s%s%s%s%s", given ? given : "", given ? " " : "",
		         data_key[0] ? "-c kept.data_key=" : "", data_key,
		         data_key_previous[0] ? " -c kept.data_key_previous=" : "", data_key_previous);
	PQconninfoFree(opts);
	return out;
}

static kept_err open_pg(const struct db_settings *s, PGconn **out, struct kept_error *err)
{
	/* Our defaults come first so that the URL, expanded from dbname, wins;
	 * the options (the URL's and the data keys) come after it. */
	char *options = startup_options(s->url);
	const char *keys[] = {"connect_timeout", "application_name",         "client_encoding",
	                      "dbname",          options ? "options" : NULL, NULL};
	const char *values[] = {
	        "5", s->application_name ? s->application_name : "keptd", "UTF8", s->url, options, NULL};
	PGconn *pg = PQconnectdbParams(keys, values, 1);
	free(options);
	if (!pg)
		return kept_fail(err, KEPT_ERR_UNAVAILABLE, "database_unavailable", "", "out of memory");
	if (PQstatus(pg) != CONNECTION_OK) {
		kept_fail(err, KEPT_ERR_UNAVAILABLE, "database_unavailable", "",
		          "cannot connect to the database: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return KEPT_ERR_UNAVAILABLE;
	}
	PQsetNoticeReceiver(pg, NULL, NULL);
	PQsetNoticeProcessor(pg, on_notice, NULL);
	kept_err r = session_setup(pg, s, err);
	if (r) {
		PQfinish(pg);
		return r;
	}
	*out = pg;
	return KEPT_OK;
}

kept_err db_connect(const struct db_settings *s, struct db_conn **out, struct kept_error *err)
{
	*out = NULL;
	struct db_conn *c = calloc(1, sizeof *c);
	if (!c)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	kept_err r = open_pg(s, &c->pg, err);
	if (r) {
		free(c);
		return r;
	}
	*out = c;
	return KEPT_OK;
}

void db_close(struct db_conn *c)
{
	if (!c)
		return;
	if (c->pg)
		PQfinish(c->pg);
	free(c);
}

bool db_is_up(const struct db_conn *c)
{
	return c && c->pg && !c->broken && PQstatus(c->pg) == CONNECTION_OK;
}

/* ---- thread connections ------------------------------------------------------------ */

static const struct db_settings *thread_settings;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db_conn *registry; /* every thread connection, for db_threads_close_all */
static struct db_conn *spare;    /* opened at start, not yet taken by a thread */
static _Thread_local struct db_conn *thread_conn;

/* Adds `c` to the registry (and to the spares when it waits for a thread). */
static void enlist(struct db_conn *c, bool as_spare)
{
	pthread_mutex_lock(&registry_lock);
	c->next_thread = registry;
	registry = c;
	if (as_spare) {
		c->next_spare = spare;
		spare = c;
	}
	pthread_mutex_unlock(&registry_lock);
}

void db_threads_configure(const struct db_settings *s, int count)
{
	thread_settings = s;
	for (int i = 0; i < count; i++) {
		struct db_conn *c = NULL;
		struct kept_error err;
		if (db_connect(s, &c, &err) || !c)
			return; /* the threads will connect when the database is back */
		enlist(c, true);
	}
}

static struct db_conn *thread_conn_slot(void)
{
	if (thread_conn)
		return thread_conn;
	pthread_mutex_lock(&registry_lock);
	struct db_conn *c = spare;
	if (c)
		spare = c->next_spare;
	pthread_mutex_unlock(&registry_lock);
	if (!c) {
		c = calloc(1, sizeof *c);
		if (!c)
			return NULL;
		enlist(c, false);
	}
	thread_conn = c;
	return c;
}

kept_err db_thread_conn(struct db_conn **out, struct kept_error *err)
{
	struct db_conn *c = thread_conn_slot();
	if (!c || !thread_settings)
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "no database settings");
	if (db_is_up(c)) {
		*out = c;
		return KEPT_OK;
	}
	uint64_t now = now_ms();
	if (c->last_attempt_ms && now - c->last_attempt_ms < DB_RECONNECT_INTERVAL_MS)
		return kept_fail(err, KEPT_ERR_UNAVAILABLE, "database_unavailable", "",
		                 "the database is unavailable");
	c->last_attempt_ms = now;
	if (c->pg) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	kept_err r = open_pg(thread_settings, &c->pg, err);
	if (r) {
		metrics_db_event(METRICS_DB_UNAVAILABLE);
		mark_down(c, err->message);
		return r;
	}
	if (c->down_logged)
		log_msg(LOG_INFO, "db_up", "reconnected to the database");
	c->broken = false;
	c->down_logged = false;
	c->generation++;
	c->clock_gen = 0;
	memset(c->prepared, 0, sizeof c->prepared);
	metrics_db_event(METRICS_DB_RECONNECT);
	*out = c;
	return KEPT_OK;
}

void db_threads_close_all(void)
{
	pthread_mutex_lock(&registry_lock);
	struct db_conn *c = registry;
	registry = NULL;
	spare = NULL;
	pthread_mutex_unlock(&registry_lock);
	while (c) {
		struct db_conn *next = c->next_thread;
		db_close(c);
		c = next;
	}
}

/* ---- error classification ------------------------------------------------------------ */

static const char *field_or(const PGresult *res, int code, const char *fallback)
{
	const char *v = res ? PQresultErrorField(res, code) : NULL;
	return v ? v : fallback;
}

/* kept's own errors: SQLSTATE KR<http status>, stable code in HINT, field in COLUMN. */
static kept_err classify_own(const PGresult *res, const char *state, struct kept_error *err)
{
	/* kept.error_state (sql/functions/00_common.sql): one SQLSTATE per kind */
	static const struct {
		const char *state;
		kept_err kind;
	} own[] = {
	        {"KRINV", KEPT_ERR_INVALID},
	        {"KRFBD", KEPT_ERR_FORBIDDEN},
	        {"KRNFD", KEPT_ERR_NOT_FOUND},
	        {"KRCFL", KEPT_ERR_CONFLICT},
	        {"KRPRE", KEPT_ERR_PRECONDITION},
	        {"KRRUL", KEPT_ERR_RULE},
	        /* raised by migrations already applied (schema/), which never change: the
	         * audit log's append-only triggers, and kept misconfigured (a data key
	         * missing: logged, never shown) */
	        {"KR409", KEPT_ERR_CONFLICT},
	        {"KR500", KEPT_ERR_INTERNAL},
	};
	kept_err kind = KEPT_ERR_RULE;
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		if (strcmp(state, own[i].state) == 0)
			kind = own[i].kind;
	metrics_db_event(METRICS_DB_CONFLICT);
	return kept_fail(err, kind, field_or(res, PG_DIAG_MESSAGE_HINT, "rule_violation"),
	                 field_or(res, PG_DIAG_COLUMN_NAME, ""), "%s",
	                 field_or(res, PG_DIAG_MESSAGE_PRIMARY, "rule violated"));
}

static kept_err classify_constraint(const PGresult *res, const char *state, struct kept_error *err)
{
	kept_err kind = KEPT_ERR_INVALID;
	const char *code = "constraint_violation";
	if (strcmp(state, "23505") == 0)
		kind = KEPT_ERR_CONFLICT, code = "already_exists";
	else if (strcmp(state, "23503") == 0)
		kind = KEPT_ERR_RULE, code = "invalid_reference";
	else if (strcmp(state, "23502") == 0)
		code = "missing_field";
	metrics_db_event(METRICS_DB_CONFLICT);
	kept_fail(err, kind, code, field_or(res, PG_DIAG_COLUMN_NAME, ""), "%s",
	          field_or(res, PG_DIAG_MESSAGE_PRIMARY, "constraint violated"));
	snprintf(err->constraint, sizeof err->constraint, "%s", field_or(res, PG_DIAG_CONSTRAINT_NAME, ""));
	return kind;
}

/* 25006: a read-only server, i.e. a standby, or a primary being demoted
 * (Patroni's switchover): like a lost connection, reconnecting finds the
 * primary again (target_session_attrs=read-write). */
static bool is_read_only(const char *state)
{
	return strcmp(state, "25006") == 0;
}

/* An outage: the connection (08, but not 08P01, a protocol violation such
 * as a wrong parameter count, which is kept's own defect), resources (53),
 * an operator's shutdown (57P), a standby. */
static bool is_outage(const char *state)
{
	return (strncmp(state, "08", 2) == 0 && strcmp(state, "08P01") != 0) ||
	       strncmp(state, "53", 2) == 0 || strncmp(state, "57P", 3) == 0 || is_read_only(state);
}

enum db_state_class db_state_class(const char *state)
{
	if (!state || strlen(state) != 5 || is_outage(state))
		return DB_STATE_OUTAGE;
	if (strcmp(state, "57014") == 0)
		return DB_STATE_TIMEOUT;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
		return DB_STATE_RETRY;
	if (strcmp(state, "0A000") == 0 || strcmp(state, "26000") == 0)
		return DB_STATE_STALE;
	if (state[0] == 'K' && state[1] == 'R')
		return DB_STATE_OWN;
	if (strncmp(state, "23", 2) == 0)
		return DB_STATE_CONSTRAINT;
	return DB_STATE_DEFECT;
}

/* Anything kept's SQL and C should never produce: a defect. Logged once
 * (SQLSTATE and query, never the parameters: a data exception's message,
 * class 22, can quote one, so it is left out) and counted; the client gets
 * a 500 with the request id, the command line the message. */
static kept_err defect(struct db_conn *c, const PGresult *res, const char *state, struct kept_error *err)
{
	const char *query = c->running ? c->running : "statement";
	const char *msg = strncmp(state, "22", 2) == 0 ? "a data exception"
	                                               : field_or(res, PG_DIAG_MESSAGE_PRIMARY, "no message");
	metrics_db_event(METRICS_DB_DEFECT);
	struct log_line l;
	log_begin(&l, LOG_ERROR, "db_defect");
	log_str(&l, "sqlstate", state);
	log_str(&l, "query", query);
	log_str(&l, "msg", msg);
	log_end(&l);
	return kept_fail(err, KEPT_ERR_INTERNAL, "database_defect", "", "SQLSTATE %s in %s: %s", state, query,
	                 msg);
}

/* A lost connection or an outage; the session is dropped when it cannot go on. */
static kept_err unavailable(struct db_conn *c, const char *state, struct kept_error *err)
{
	if (!state || PQstatus(c->pg) != CONNECTION_OK || strncmp(state, "57P", 3) == 0 ||
	    is_read_only(state))
		mark_down(c, PQerrorMessage(c->pg));
	metrics_db_event(METRICS_DB_UNAVAILABLE);
	bool timeout = state && strcmp(state, "57014") == 0;
	return kept_fail(err, KEPT_ERR_UNAVAILABLE, timeout ? "database_timeout" : "database_unavailable", "",
	                 timeout ? "the database took too long to answer" : "the database is unavailable");
}

static kept_err classify(struct db_conn *c, const PGresult *res, struct kept_error *err)
{
	const char *state = field_or(res, PG_DIAG_SQLSTATE, NULL);
	if (PQstatus(c->pg) != CONNECTION_OK)
		return unavailable(c, state, err);
	switch (db_state_class(state)) {
	case DB_STATE_OUTAGE:
	case DB_STATE_TIMEOUT: return unavailable(c, state, err);
	case DB_STATE_RETRY:
		metrics_db_event(METRICS_DB_RETRY);
		return kept_fail(err, KEPT_ERR_RETRY, "retry", "", "transaction conflict");
	case DB_STATE_STALE:
		/* a prepared statement went stale (schema changed) or vanished */
		c->generation++;
		memset(c->prepared, 0, sizeof c->prepared);
		return kept_fail(err, KEPT_ERR_RETRY, "retry", "", "prepared statement invalidated");
	case DB_STATE_OWN: return classify_own(res, state, err);
	case DB_STATE_CONSTRAINT: return classify_constraint(res, state, err);
	case DB_STATE_DEFECT: break;
	}
	return defect(c, res, state, err);
}

/* ---- running statements ---------------------------------------------------------------- */

static void clear_result(void *p)
{
	struct db_result *r = p;
	PQclear(r->res);
}

/* Turns a PGresult into the caller's result or an error; always consumes `res`. */
static kept_err take_result(struct db_conn *c, struct arena *arena, PGresult *res, struct db_result **out,
                            struct kept_error *err)
{
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		kept_err r = classify(c, res, err);
		PQclear(res);
		return r;
	}
	if (!out) {
		PQclear(res);
		return KEPT_OK;
	}
	struct db_result *wrap = arena_alloc(arena, sizeof *wrap);
	if (!wrap) {
		PQclear(res);
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	}
	wrap->res = res;
	if (arena_defer(arena, clear_result, wrap))
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	*out = wrap;
	return KEPT_OK;
}

static void statement_name(const struct db_conn *c, enum sql_query q, char *out, size_t size)
{
	snprintf(out, size, "k%u_%d", c->generation, (int)q);
}

static kept_err ensure_prepared(struct db_conn *c, enum sql_query q, struct kept_error *err)
{
	if (c->prepared[q])
		return KEPT_OK;
	char name[32];
	statement_name(c, q, name, sizeof name);
	PGresult *res = PQprepare(c->pg, name, sql_queries[q].text, 0, NULL);
	kept_err r = take_result(c, NULL, res, NULL, err); /* a defect's log names the query */
	if (!r)
		c->prepared[q] = true;
	return r;
}

/* In simulated time, gives the session keptd's clock offset (kept.clock_offset,
 * which kept.now() adds) whenever it has changed since the session last had
 * it. Session-level, so it outlives transactions; a rolled-back transaction
 * undoes it, which is why db_transaction forgets it then. */
static kept_err clock_sync(struct db_conn *c, struct kept_error *err)
{
	unsigned gen;
	int64_t offset = clock_offset_us(&gen);
	if (!clock_is_simulated() || c->clock_gen == gen)
		return KEPT_OK;
	char value[48];
	snprintf(value, sizeof value, "%lld microseconds", (long long)offset);
	const char *params[] = {value};
	PGresult *res = PQexecParams(c->pg, "SELECT set_config('kept.clock_offset', $1, false)", 1, NULL,
	                             params, NULL, NULL, 0);
	kept_err r = take_result(c, NULL, res, NULL, err);
	if (!r)
		c->clock_gen = gen;
	return r;
}

static kept_err not_up(struct kept_error *err)
{
	metrics_db_event(METRICS_DB_UNAVAILABLE);
	return kept_fail(err, KEPT_ERR_UNAVAILABLE, "database_unavailable", "",
	                 "the database is unavailable");
}

const char *db_param_int64(char buf[DB_PARAM_TEXT_MAX], int64_t v)
{
	if (v == DB_NULL_BIGINT)
		return NULL;
	snprintf(buf, DB_PARAM_TEXT_MAX, "%" PRId64, v);
	return buf;
}

const char *db_param_int(char buf[DB_PARAM_TEXT_MAX], int v)
{
	if (v == DB_NULL_INT)
		return NULL;
	snprintf(buf, DB_PARAM_TEXT_MAX, "%d", v);
	return buf;
}

const char *db_param_bool(bool v)
{
	return v ? "true" : "false";
}

kept_err db_query_run(struct db_conn *c, struct arena *arena, enum sql_query q, int nparams,
                      const char *const *params, struct db_result **out, struct kept_error *err)
{
	if ((unsigned)q >= SQL_Q__COUNT)
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "unknown query");
	for (int attempt = 1;; attempt++) {
		if (!db_is_up(c))
			return not_up(err);
		kept_err r = clock_sync(c, err);
		c->running = sql_queries[q].name;
		if (!r)
			r = ensure_prepared(c, q, err);
		if (!r) {
			char name[32];
			statement_name(c, q, name, sizeof name);
			PGresult *res = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
			r = take_result(c, arena, res, out, err);
		}
		c->running = NULL;
		/* Outside a transaction a single statement can simply run again;
		 * inside one, db_transaction reruns the whole body. */
		if (r != KEPT_ERR_RETRY || c->in_tx || attempt >= DB_STATEMENT_ATTEMPTS)
			return r;
	}
}

kept_err db_query_value(struct db_conn *c, struct arena *arena, enum sql_query q, int nparams,
                        const char *const *params, const char **value, struct kept_error *err)
{
	struct db_result *res = NULL;
	*value = NULL;
	kept_err r = db_query_run(c, arena, q, nparams, params, &res, err);
	if (r)
		return r;
	if (db_rows(res) > 0)
		*value = db_value(res, 0, 0);
	return KEPT_OK;
}

kept_err db_exec(struct db_conn *c, struct arena *arena, const char *sql, int nparams,
                 const char *const *params, struct db_result **out, struct kept_error *err)
{
	if (!db_is_up(c))
		return not_up(err);
	kept_err r = clock_sync(c, err);
	if (r)
		return r;
	PGresult *res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
	return take_result(c, arena, res, out, err);
}

kept_err db_exec_script(struct db_conn *c, const char *sql, struct kept_error *err)
{
	if (!db_is_up(c))
		return not_up(err);
	return take_result(c, NULL, PQexec(c->pg, sql), NULL, err);
}

int db_rows(const struct db_result *r)
{
	return r ? PQntuples(r->res) : 0;
}

const char *db_col_name(const struct db_result *r, int col)
{
	return r && col >= 0 && col < PQnfields(r->res) ? PQfname(r->res, col) : NULL;
}

int db_cols(const struct db_result *r)
{
	return r ? PQnfields(r->res) : 0;
}

const char *db_value(const struct db_result *r, int row, int col)
{
	if (!r || row < 0 || col < 0 || row >= PQntuples(r->res) || col >= PQnfields(r->res))
		return NULL;
	if (PQgetisnull(r->res, row, col))
		return NULL;
	return PQgetvalue(r->res, row, col);
}

int64_t db_int64(const char *text)
{
	return text ? (int64_t)strtoll(text, NULL, 10) : DB_NULL_BIGINT;
}

long long db_affected(const struct db_result *r)
{
	const char *n = r ? PQcmdTuples(r->res) : "";
	return *n ? strtoll(n, NULL, 10) : 0;
}

/* ---- transactions ---------------------------------------------------------------------- */

static kept_err simple(struct db_conn *c, const char *sql, struct kept_error *err)
{
	if (!db_is_up(c))
		return not_up(err);
	PGresult *res = PQexec(c->pg, sql);
	if (PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "ROLLBACK") == 0 &&
	    strcmp(sql, "COMMIT") == 0) {
		/* COMMIT of an aborted transaction: a body ignored a failure. */
		PQclear(res);
		return kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "transaction was rolled back");
	}
	return take_result(c, NULL, res, NULL, err);
}

static void backoff(int attempt)
{
	unsigned char r = 0;
	if (crypto_random(&r, 1))
		r = 7;
	long ms = (long)attempt * 5 + r % 10;
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

kept_err db_transaction(struct db_conn *c, db_tx_fn fn, void *ctx, struct kept_error *err)
{
	for (int attempt = 1; attempt <= DB_TX_ATTEMPTS; attempt++) {
		kept_err r = simple(c, "BEGIN", err);
		if (r)
			return r;
		c->in_tx = true;
		r = fn(c, ctx, err);
		if (!r) {
			r = simple(c, "COMMIT", err);
		} else if (db_is_up(c)) {
			struct kept_error ignored;
			kept_err rb = simple(c, "ROLLBACK", &ignored);
			(void)rb; /* the body's failure is the one to report */
		}
		if (r)
			c->clock_gen = 0; /* a rollback may have undone the session's clock offset */
		c->in_tx = false;
		if (r != KEPT_ERR_RETRY)
			return r;
		backoff(attempt);
	}
	return kept_fail(err, KEPT_ERR_UNAVAILABLE, "contention", "",
	                 "the database was too busy to complete the change; try again");
}

/* ---- COPY ------------------------------------------------------------------------------------ */

kept_err db_copy_begin(struct db_conn *c, const char *copy_sql, struct kept_error *err)
{
	if (!db_is_up(c))
		return not_up(err);
	kept_err synced = clock_sync(c, err);
	if (synced)
		return synced;
	PGresult *res = PQexec(c->pg, copy_sql);
	if (PQresultStatus(res) == PGRES_COPY_IN) {
		PQclear(res);
		return KEPT_OK;
	}
	kept_err r = take_result(c, NULL, res, NULL, err);
	if (!r) /* a statement that is not a COPY FROM STDIN */
		r = kept_fail(err, KEPT_ERR_INTERNAL, "internal_error", "", "COPY did not start");
	return r;
}

kept_err db_copy_put(struct db_conn *c, const char *data, size_t n, struct kept_error *err)
{
	while (n > 0) {
		int chunk = n > (1u << 20) ? (1 << 20) : (int)n;
		if (PQputCopyData(c->pg, data, chunk) != 1) {
			if (PQstatus(c->pg) != CONNECTION_OK)
				mark_down(c, PQerrorMessage(c->pg));
			return not_up(err);
		}
		data += chunk;
		n -= (size_t)chunk;
	}
	return KEPT_OK;
}

/* Collects the results that end a COPY; returns the first failure. */
static kept_err copy_results(struct db_conn *c, struct kept_error *err)
{
	kept_err r = KEPT_OK;
	for (PGresult *res = PQgetResult(c->pg); res; res = PQgetResult(c->pg)) {
		kept_err rr = take_result(c, NULL, res, NULL, err);
		if (!r)
			r = rr;
	}
	return r;
}

kept_err db_copy_end(struct db_conn *c, struct kept_error *err)
{
	if (PQputCopyEnd(c->pg, NULL) != 1) {
		if (PQstatus(c->pg) != CONNECTION_OK)
			mark_down(c, PQerrorMessage(c->pg));
		return not_up(err);
	}
	return copy_results(c, err);
}

void db_copy_abort(struct db_conn *c)
{
	struct kept_error ignored;
	if (PQputCopyEnd(c->pg, "import abandoned") != 1) {
		if (PQstatus(c->pg) != CONNECTION_OK)
			mark_down(c, PQerrorMessage(c->pg));
		return;
	}
	kept_err r = copy_results(c, &ignored);
	(void)r; /* the abandonment is expected to fail the COPY */
}
