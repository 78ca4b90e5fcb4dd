/*
 * config — keptd's configuration, from KEPT_* environment variables.
 *
 * Every setting is one row of a declarative table in config.c: its variable,
 * type, default, bounds, whether it is secret, and a line of help. Loading
 * checks every row and reports *every* problem (not just the first), so an
 * operator fixes a deployment in one round; keptd then exits with status 2.
 *
 * The loaded configuration owns its strings; release it with config_free().
 * config_log() writes the effective configuration with secrets redacted
 * (a password inside a database URL included).
 */
#ifndef KEPT_CONFIG_H
#define KEPT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf/buf.h"
#include "log/log.h"

/* Background workers (KEPT_WORKERS: a comma-separated list, "all" or "none"). */
enum config_worker {
	CONFIG_WORKER_EVALUATOR = 1u << 0,   /* judges installments, breaks and completes plans */
	CONFIG_WORKER_AUDITOR = 1u << 1,     /* seals the audit chain */
	CONFIG_WORKER_SCHEDULER = 1u << 2,   /* queues reminder calls */
	CONFIG_WORKER_DISPATCHER = 1u << 3,  /* checks the contact rules and dials */
	CONFIG_WORKER_LOADER = 1u << 4,      /* feeds schema analytics from the outbox */
	CONFIG_WORKER_RETENTION = 1u << 5,   /* erases customers whose retention period has passed */
	CONFIG_WORKER_MAINTENANCE = 1u << 6, /* audit partitions ahead, outbox pruned once loaded */
	CONFIG_WORKER_TEXTER = 1u << 7       /* checks the contact rules and sends text messages */
};
#define CONFIG_WORKERS_ALL                                                                                   \
	(CONFIG_WORKER_EVALUATOR | CONFIG_WORKER_AUDITOR | CONFIG_WORKER_SCHEDULER |                         \
	 CONFIG_WORKER_DISPATCHER | CONFIG_WORKER_LOADER | CONFIG_WORKER_RETENTION |                         \
	 CONFIG_WORKER_MAINTENANCE | CONFIG_WORKER_TEXTER)

struct kept_config {
	char *database_url;           /* KEPT_DATABASE_URL (secret parts redacted in logs) */
	char *listen_host;            /* KEPT_LISTEN host part */
	int listen_port;              /* KEPT_LISTEN port part; 0 picks a free port */
	int threads;                  /* KEPT_THREADS: HTTP worker threads, one db connection each */
	size_t max_body_bytes;        /* KEPT_MAX_BODY_BYTES: cap on JSON request bodies */
	size_t max_import_bytes;      /* KEPT_MAX_IMPORT_BYTES: cap on CSV import bodies */
	int connection_timeout_s;     /* KEPT_CONNECTION_TIMEOUT: idle or slow clients are cut off */
	int header_timeout_s;         /* KEPT_HEADER_TIMEOUT: a request's headers must be in by then */
	int body_timeout_s;           /* KEPT_BODY_TIMEOUT: its body by then after its headers */
	int per_client_connections;   /* KEPT_MAX_CONNECTIONS_PER_CLIENT: from one address at once */
	int shutdown_timeout_s;       /* KEPT_SHUTDOWN_TIMEOUT: grace for in-flight requests */
	int statement_timeout_ms;     /* KEPT_DB_STATEMENT_TIMEOUT_MS */
	int retry_after_s;            /* KEPT_RETRY_AFTER: Retry-After sent with 503 */
	int rate_limit;               /* KEPT_RATE_LIMIT: requests a second per API key (0: no limit) */
	int rate_burst;               /* KEPT_RATE_BURST: requests a key may make at once */
	enum log_level log_level;     /* KEPT_LOG_LEVEL */
	unsigned workers;             /* KEPT_WORKERS: bit set of enum config_worker */
	int evaluate_interval_s;      /* KEPT_EVALUATE_INTERVAL */
	int reminder_interval_s;      /* KEPT_REMINDER_INTERVAL: scheduler and dispatcher */
	int maintenance_interval_s;   /* KEPT_MAINTENANCE_INTERVAL: the maintenance worker */
	int outbox_retention_days;    /* KEPT_OUTBOX_RETENTION_DAYS: applied events kept this long */
	int audit_retention_months;   /* KEPT_AUDIT_RETENTION_MONTHS: the audit log kept at least this long */
	int analytics_interval_s;     /* KEPT_ANALYTICS_INTERVAL: the loader */
	int analytics_batch;          /* KEPT_ANALYTICS_BATCH: outbox events per loaded batch */
	int retention_interval_s;     /* KEPT_RETENTION_INTERVAL: the retention job */
	int access_log_days;          /* KEPT_ACCESS_LOG_DAYS: how long reads of personal data are logged */
	char *data_key;               /* KEPT_DATA_KEY: 64 hex digits, wraps customers' data keys (secret) */
	char *data_key_previous;      /* KEPT_DATA_KEY_PREVIOUS: the key being rotated away from (secret) */
	char *analytics_database_url; /* KEPT_ANALYTICS_DATABASE_URL: NULL for the operational database */
	char *reports_database_url;   /* KEPT_REPORTS_DATABASE_URL: NULL for the analytics database */
	int dial_concurrency;         /* KEPT_DIAL_CONCURRENCY: provider requests in flight */
	int dial_attempts;            /* KEPT_DIAL_ATTEMPTS: tries per call before it fails */
	int dial_batch;               /* KEPT_DIAL_BATCH: calls claimed per transaction */
	int telephony_timeout_ms;     /* KEPT_TELEPHONY_TIMEOUT_MS: total per provider request */
	int telephony_settle_ms;      /* KEPT_TELEPHONY_SETTLE_MS: an unanswered create has surely not
	                                 been acted on this long after it was sent */
	/* the telephony provider (all NULL: no dialling) */
	char *telephony_base_url;    /* KEPT_TELEPHONY_BASE_URL: https://, or http:// to this machine */
	char *telephony_plain_http;  /* KEPT_TELEPHONY_PLAIN_HTTP: "simulator" allows http:// elsewhere */
	char *telephony_account_sid; /* KEPT_TELEPHONY_ACCOUNT_SID */
	char *telephony_auth_token;  /* KEPT_TELEPHONY_AUTH_TOKEN (secret) */
	char *telephony_from;        /* KEPT_TELEPHONY_FROM: caller id, E.164 */
	char *public_url;            /* KEPT_PUBLIC_URL: base of the webhook URLs */
	char *agent_line;            /* KEPT_AGENT_LINE: E.164, optional */
	char *business_name;         /* KEPT_BUSINESS_NAME: said in every call; no debt word */
	char *contact_name;          /* KEPT_CONTACT_NAME: the natural person the customer can reply to */
	char *callback_number;       /* KEPT_CALLBACK_NUMBER: said on every path (default: the caller id) */
	int telephony_cps;           /* KEPT_TELEPHONY_CPS: creates per second across all keptd */
	bool clock_simulated;        /* KEPT_CLOCK=simulated: an admin sets the clock (simulator only) */
	bool self_service;           /* KEPT_SELF_SERVICE=on: the customer's page at /s/{token} */
	char *link_secret;           /* KEPT_LINK_SECRET: signs links, seals texts (secret, >= 32 bytes) */
	int text_interval_s;         /* KEPT_TEXT_INTERVAL: the texter's runs (it is also woken) */
};

/*
 * Fills `cfg` from `envp` (a NULL-terminated "NAME=value" array, as `environ`).
 * Every problem is appended to `problems` as one line "KEPT_X: reason\n".
 * Returns the number of problems; on 0 the configuration is complete.
 * Unknown KEPT_* variables are reported as warnings through the log, not as
 * problems, since other kept programs share the prefix.
 * `cfg` must be released with config_free() whatever the result.
 */
int config_load(struct kept_config *cfg, char *const *envp, struct buf *problems);

/* Releases the strings of `cfg` (safe on a zeroed or partly loaded config). */
void config_free(struct kept_config *cfg);

/* Logs the effective configuration, one `config` line per setting, redacted. */
void config_log(const struct kept_config *cfg);

/*
 * Copies a libpq connection string (URL or keyword=value form) into `out`
 * with every password replaced by "****". Output is cut to `out_size`.
 */
void config_redact_conninfo(const char *conninfo, char *out, size_t out_size);

/* Writes the help for every variable (name, default, meaning) to `out`. */
void config_help(struct buf *out);

#endif
