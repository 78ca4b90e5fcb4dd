#include "privacy.h"

#include <stdio.h>
#include <stdlib.h>

#include "json/json.h"
#include "log/log.h"
#include "worker/worker.h"

static int access_days = 730;

void privacy_configure(int access_log_days)
{
	access_days = access_log_days;
}

/* One batch: erases at most PRIVACY_BATCH customers; *erased says how many. */
static kept_err retention_batch(struct db_conn *db, struct arena *arena, const char *as_of, const char **json,
                                long long *erased, struct kept_error *err)
{
	kept_err r = q_retention_run_value(db, arena, as_of, PRIVACY_BATCH, access_days, json, err);
	if (r)
		return r;
	cJSON *doc = cJSON_Parse(*json);
	*erased = 0;
	if (!json_get_int(doc, "erased", erased))
		*erased = 0;
	cJSON_Delete(doc);
	return KEPT_OK;
}

kept_err privacy_retention(struct db_conn *db, struct arena *arena, const char *as_of, const char **json,
                           struct kept_error *err)
{
	long long erased = 0, total = 0;
	kept_err r;
	do {
		r = retention_batch(db, arena, as_of, json, &erased, err);
		total += erased;
	} while (!r && erased >= PRIVACY_BATCH && !worker_stopping());
	if (!r && total > 0) {
		struct log_line l;
		log_begin(&l, LOG_INFO, "customers_erased");
		log_int(&l, "customers", total);
		log_str(&l, "why", "retention period passed");
		log_end(&l);
	}
	return r;
}

kept_err privacy_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err)
{
	const char *json = NULL;
	return privacy_retention(db, arena, NULL, &json, err);
}

kept_err privacy_rotate(struct db_conn *db, struct arena *arena, const char **json, struct kept_error *err)
{
	long long total = 0;
	for (;;) {
		struct db_result *res;
		kept_err r = q_data_keys_rewrap(db, arena, 1000, &res, err);
		if (r)
			return r;
		long long done = strtoll(db_value(res, 0, 0), NULL, 10);
		long long left = strtoll(db_value(res, 0, 1), NULL, 10);
		total += done;
		if (done == 0 || left == 0) {
			*json = arena_sprintf(arena, "{\"rewrapped\":%lld,\"remaining\":%lld}", total, left);
			return *json ? KEPT_OK
			             : kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
		}
	}
}
