#include "audit.h"

#include <stdlib.h>

#include "log/log.h"

#define AUDIT_SEAL_BATCH 1000

kept_err audit_seal_all(struct db_conn *db, struct arena *arena, long long *sealed, struct kept_error *err)
{
	*sealed = 0;
	for (;;) {
		const char *n = NULL;
		kept_err r = q_audit_seal_value(db, arena, AUDIT_SEAL_BATCH, &n, err);
		if (r)
			return r;
		long long batch = n ? strtoll(n, NULL, 10) : 0;
		*sealed += batch;
		if (batch < AUDIT_SEAL_BATCH)
			return KEPT_OK;
	}
}

kept_err audit_worker_run(struct db_conn *db, struct arena *arena, struct kept_error *err)
{
	long long sealed = 0;
	kept_err r = audit_seal_all(db, arena, &sealed, err);
	if (!r && sealed > 0) {
		struct log_line l;
		log_begin(&l, LOG_DEBUG, "audit_sealed");
		log_int(&l, "events", sealed);
		log_end(&l);
	}
	return r;
}
