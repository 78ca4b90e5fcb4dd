#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script/script.h"
#include "text/text.h"

enum cfg_type {
	CFG_STRING,
	CFG_LISTEN,
	CFG_INT,
	CFG_BYTES,
	CFG_LOG_LEVEL,
	CFG_WORKERS,
	CFG_CLOCK,
	CFG_ONOFF
};

enum cfg_flag {
	CFG_REQUIRED = 1u << 0,
	CFG_CONNINFO = 1u << 1, /* a libpq connection string: passwords redacted */
	CFG_SECRET = 1u << 2,   /* never logged */
	CFG_URL = 1u << 3,      /* http:// or https://, no trailing slash */
	CFG_E164 = 1u << 4,     /* +, then 8 to 15 digits */
	CFG_HEXKEY = 1u << 5,   /* 64 hex digits: a 256-bit key */
};

struct cfg_row {
	const char *name;
	enum cfg_type type;
	size_t offset;
	const char *fallback; /* NULL: no default */
	long long min, max;   /* CFG_INT and CFG_BYTES */
	unsigned flags;
	const char *help;
};

#define OFF(field) offsetof(struct kept_config, field)

/* The whole configuration surface of keptd. Keep README's table in step. */
static const struct cfg_row rows[] = {
        {"KEPT_DATABASE_URL", CFG_STRING, OFF(database_url), NULL, 0, 0, CFG_REQUIRED | CFG_CONNINFO,
         "PostgreSQL connection string (URL or key=value)"},
        {"KEPT_LISTEN", CFG_LISTEN, OFF(listen_host), "127.0.0.1:8080", 0, 0, 0,
         "HTTP listen address host:port (port 0 picks a free port)"},
        {"KEPT_THREADS", CFG_INT, OFF(threads), "8", 1, 256, 0,
         "HTTP worker threads; each owns one database connection"},
        {"KEPT_MAX_BODY_BYTES", CFG_BYTES, OFF(max_body_bytes), "1M", 1024, 64LL << 20, 0,
         "largest JSON request body accepted (413 above)"},
        {"KEPT_MAX_IMPORT_BYTES", CFG_BYTES, OFF(max_import_bytes), "256M", 1024, 4LL << 30, 0,
         "largest CSV import body accepted (413 above)"},
        {"KEPT_CONNECTION_TIMEOUT", CFG_INT, OFF(connection_timeout_s), "30", 1, 3600, 0,
         "seconds a client connection may sit idle or stall before it is closed"},
        {"KEPT_HEADER_TIMEOUT", CFG_INT, OFF(header_timeout_s), "10", 1, 3600, 0,
         "seconds a request's headers may take to arrive, however steadily they trickle in"},
        {"KEPT_BODY_TIMEOUT", CFG_INT, OFF(body_timeout_s), "120", 1, 86400, 0,
         "seconds a request's body may take to arrive after its headers (a large import needs a fast enough "
         "link)"},
        {"KEPT_MAX_CONNECTIONS_PER_CLIENT", CFG_INT, OFF(per_client_connections), "64", 1, 4096, 0,
         "connections one client address may hold open at once (behind a proxy: the proxy's pool)"},
        {"KEPT_SHUTDOWN_TIMEOUT", CFG_INT, OFF(shutdown_timeout_s), "20", 0, 600, 0,
         "seconds SIGTERM waits for in-flight requests"},
        {"KEPT_DB_STATEMENT_TIMEOUT_MS", CFG_INT, OFF(statement_timeout_ms), "30000", 100, 3600000, 0,
         "statement_timeout for every query keptd runs"},
        {"KEPT_RETRY_AFTER", CFG_INT, OFF(retry_after_s), "2", 1, 300, 0,
         "Retry-After seconds sent with 503 when the database is unavailable"},
        {"KEPT_RATE_LIMIT", CFG_INT, OFF(rate_limit), "50", 0, 1000000, 0,
         "requests a second each API key may make, per keptd (429 with Retry-After above; 0: no limit)"},
        {"KEPT_RATE_BURST", CFG_INT, OFF(rate_burst), "100", 1, 1000000, 0,
         "requests an API key may make at once before KEPT_RATE_LIMIT paces it"},
        {"KEPT_LOG_LEVEL", CFG_LOG_LEVEL, OFF(log_level), "info", 0, 0, 0, "debug, info, warn or error"},
        {"KEPT_WORKERS", CFG_WORKERS, OFF(workers), "all", 0, 0, 0,
         "background workers: all, none, or a list of evaluator, auditor, scheduler, dispatcher, loader, "
         "retention, maintenance, texter"},
        {"KEPT_EVALUATE_INTERVAL", CFG_INT, OFF(evaluate_interval_s), "300", 1, 86400, 0,
         "seconds between the evaluator's runs"},
        {"KEPT_ANALYTICS_DATABASE_URL", CFG_STRING, OFF(analytics_database_url), NULL, 0, 0, CFG_CONNINFO,
         "where schema analytics lives (default: the operational database)"},
        {"KEPT_REPORTS_DATABASE_URL", CFG_STRING, OFF(reports_database_url), NULL, 0, 0, CFG_CONNINFO,
         "where reports are read, e.g. a hot standby (default: where analytics lives)"},
        {"KEPT_DATA_KEY", CFG_STRING, OFF(data_key), NULL, 0, 0, CFG_REQUIRED | CFG_SECRET | CFG_HEXKEY,
         "64 hex digits (256 bits, e.g. openssl rand -hex 32): wraps each customer's data key, which seals "
         "their "
         "name and numbers (never logged)"},
        {"KEPT_DATA_KEY_PREVIOUS", CFG_STRING, OFF(data_key_previous), NULL, 0, 0, CFG_SECRET | CFG_HEXKEY,
         "during a rotation, the key KEPT_DATA_KEY replaces, until keptd data-key rotate has re-wrapped "
         "every "
         "data key"},
        {"KEPT_RETENTION_INTERVAL", CFG_INT, OFF(retention_interval_s), "3600", 1, 604800, 0,
         "seconds between the retention job's runs (erasing customers whose retention period has passed)"},
        {"KEPT_ACCESS_LOG_DAYS", CFG_INT, OFF(access_log_days), "730", 1, 36500, 0,
         "days the log of reads of personal data is kept"},
        {"KEPT_ANALYTICS_INTERVAL", CFG_INT, OFF(analytics_interval_s), "10", 1, 86400, 0,
         "seconds between the analytics loader's runs"},
        {"KEPT_ANALYTICS_BATCH", CFG_INT, OFF(analytics_batch), "1000", 1, 100000, 0,
         "outbox events the loader applies per transaction"},
        {"KEPT_MAINTENANCE_INTERVAL", CFG_INT, OFF(maintenance_interval_s), "600", 1, 86400, 0,
         "seconds between the maintenance worker's runs (audit partitions ahead, outbox pruning)"},
        {"KEPT_OUTBOX_RETENTION_DAYS", CFG_INT, OFF(outbox_retention_days), "30", 0, 36500, 0,
         "days an outbox event is kept once the analytics loader has applied it"},
        {"KEPT_AUDIT_RETENTION_MONTHS", CFG_INT, OFF(audit_retention_months), "36", 1, 1200, 0,
         "months the audit log is kept at least; keptd audit-archive detaches only older partitions"},
        {"KEPT_REMINDER_INTERVAL", CFG_INT, OFF(reminder_interval_s), "60", 1, 86400, 0,
         "seconds between the reminder scheduler's and the dispatcher's runs"},
        {"KEPT_DIAL_CONCURRENCY", CFG_INT, OFF(dial_concurrency), "64", 1, 1024, 0,
         "provider requests the dispatcher keeps in flight"},
        {"KEPT_DIAL_BATCH", CFG_INT, OFF(dial_batch), "512", 1, 4096, 0,
         "calls the dispatcher claims (and checks the rules for) in one transaction"},
        {"KEPT_DIAL_ATTEMPTS", CFG_INT, OFF(dial_attempts), "4", 1, 10, 0,
         "tries per call (429, 5xx, connection failures) before it is recorded as failed"},
        {"KEPT_TELEPHONY_TIMEOUT_MS", CFG_INT, OFF(telephony_timeout_ms), "10000", 100, 120000, 0,
         "total time allowed for one provider request (connecting: at most 3 s of it)"},
        {"KEPT_TELEPHONY_SETTLE_MS", CFG_INT, OFF(telephony_settle_ms), "30000", 100, 120000, 0,
         "after a create with an unknown outcome, how long from sending it until a list of calls "
         "that does not show it lets the call be created again (at least the request timeout)"},
        {"KEPT_TELEPHONY_BASE_URL", CFG_STRING, OFF(telephony_base_url), NULL, 0, 0, CFG_URL,
         "the provider's REST base URL (e.g. https://api.twilio.com); unset: no calls are dialled"},
        {"KEPT_TELEPHONY_PLAIN_HTTP", CFG_STRING, OFF(telephony_plain_http), NULL, 0, 0, 0,
         "simulator: allow an http:// provider URL that is not this machine (kept-telsim on a private "
         "network, "
         "as docker-compose runs it); a real provider is reached over https only"},
        {"KEPT_TELEPHONY_ACCOUNT_SID", CFG_STRING, OFF(telephony_account_sid), NULL, 0, 0, 0,
         "the provider account (AC + 32 hex digits; required with KEPT_TELEPHONY_BASE_URL)"},
        {"KEPT_TELEPHONY_AUTH_TOKEN", CFG_STRING, OFF(telephony_auth_token), NULL, 0, 0, CFG_SECRET,
         "the provider auth token: Basic auth and webhook signatures (never logged; required with "
         "KEPT_TELEPHONY_BASE_URL)"},
        {"KEPT_TELEPHONY_FROM", CFG_STRING, OFF(telephony_from), NULL, 0, 0, CFG_E164,
         "the caller id and callback number said in calls (E.164; required with KEPT_TELEPHONY_BASE_URL)"},
        {"KEPT_PUBLIC_URL", CFG_STRING, OFF(public_url), NULL, 0, 0, CFG_URL,
         "the base URL the provider reaches keptd on; webhook URLs and signatures use it (required with "
         "KEPT_TELEPHONY_BASE_URL)"},
        {"KEPT_AGENT_LINE", CFG_STRING, OFF(agent_line), NULL, 0, 0, CFG_E164,
         "a number that key 2 transfers the customer to (E.164); unset: an agent calls back"},
        {"KEPT_BUSINESS_NAME", CFG_STRING, OFF(business_name), "Kept Customer Services", 0, 0, 0,
         "the business name said in every call, the limited-content message included (no word that "
         "suggests debt collection)"},
        {"KEPT_CONTACT_NAME", CFG_STRING, OFF(contact_name), NULL, 0, 0, 0,
         "the natural person the customer can reply to, named in every call (required with "
         "KEPT_TELEPHONY_BASE_URL)"},
        {"KEPT_CALLBACK_NUMBER", CFG_STRING, OFF(callback_number), NULL, 0, 0, CFG_E164,
         "the number said on every path of a call for the customer to reply to (E.164; default: "
         "KEPT_TELEPHONY_FROM)"},
        {"KEPT_TELEPHONY_CPS", CFG_INT, OFF(telephony_cps), "1", 1, 10000, 0,
         "calls per second the provider allows the account; never exceeded across all keptd instances"},
        {"KEPT_SELF_SERVICE", CFG_ONOFF, OFF(self_service), "off", 0, 0, 0,
         "on: the customer's self-service page (/s/{token}) and personal links; needs KEPT_LINK_SECRET and "
         "KEPT_PUBLIC_URL"},
        {"KEPT_LINK_SECRET", CFG_STRING, OFF(link_secret), NULL, 0, 0, CFG_SECRET,
         "signs personal links and one-time codes, seals texts that carry them (32 bytes or more; never "
         "logged)"},
        {"KEPT_TEXT_INTERVAL", CFG_INT, OFF(text_interval_s), "5", 1, 3600, 0,
         "seconds between the texter's runs (a text queued by a request wakes it at once)"},
        {"KEPT_CLOCK", CFG_CLOCK, OFF(clock_simulated), "wall", 0, 0, 0,
         "wall, or simulated (tests, the demo, replays: an admin sets the clock with PUT "
         "/v1/admin/clock; only with the telephony simulator on loopback)"},
};

/* KEPT_* variables that belong to other kept programs and scripts; not typos. */
static const char *const foreign[] = {
        "KEPT_URL",                      /* kept (CLI) */
        "KEPT_API_KEY",                  /* kept (CLI) */
        "KEPT_BIN",                      /* the tests: which build to run */
        "KEPT_STATE_DIR",                /* make run's state folder */
        "KEPT_TELSIM_LISTEN",            /* kept-telsim */
        "KEPT_TELSIM_CALLBACK_DELAY_MS", /* kept-telsim */
        "KEPT_TELSIM_CPS",               /* kept-telsim */
        "KEPT_TELSIM_LIFE",              /* kept-telsim */
        "KEPT_TELSIM_RECORD",            /* kept-telsim */
        "KEPT_TIMEOUT",                  /* kept (CLI) */
        "KEPT_DEMO_CUSTOMERS",           /* make demo */
        "KEPT_DEMO_SEED",                /* make demo */
};

#define NROWS (sizeof rows / sizeof rows[0])

static const char *env_lookup(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (char *const *e = envp; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static void problem(struct buf *problems, const char *name, const char *reason, const char *value)
{
	kept_err r = buf_printf(problems, "%s: %s%s%s%s\n", name, reason, value ? " (got \"" : "",
	                        value ? value : "", value ? "\")" : "");
	(void)r; /* a problem list past its cap is still a non-empty list */
}

static bool parse_int(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || isspace((unsigned char)*s))
		return false;
	*out = v;
	return true;
}

static bool parse_bytes(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0 || isspace((unsigned char)*s))
		return false;
	int shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' && shift)
		end++;
	if (*end || v > (LLONG_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

static const struct {
	const char *name;
	unsigned bit;
} worker_names[] = {
        {"evaluator", CONFIG_WORKER_EVALUATOR},     {"auditor", CONFIG_WORKER_AUDITOR},
        {"scheduler", CONFIG_WORKER_SCHEDULER},     {"dispatcher", CONFIG_WORKER_DISPATCHER},
        {"loader", CONFIG_WORKER_LOADER},           {"retention", CONFIG_WORKER_RETENTION},
        {"maintenance", CONFIG_WORKER_MAINTENANCE}, {"texter", CONFIG_WORKER_TEXTER},
};

/* "all", "none", "" or a comma-separated list of worker names. */
static bool parse_workers(const char *s, unsigned *out)
{
	*out = 0;
	if (strcmp(s, "all") == 0) {
		*out = CONFIG_WORKERS_ALL;
		return true;
	}
	if (strcmp(s, "none") == 0)
		return true;
	while (*s) {
		size_t n = strcspn(s, ",");
		bool known = false;
		for (size_t i = 0; i < sizeof worker_names / sizeof worker_names[0]; i++) {
			if (strlen(worker_names[i].name) == n && strncmp(s, worker_names[i].name, n) == 0) {
				*out |= worker_names[i].bit;
				known = true;
			}
		}
		if (!known)
			return false;
		s += n;
		if (*s == ',')
			s++;
	}
	return true;
}

/* host:port, [v6]:port. */
static bool parse_listen(const char *s, char **host, int *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return false;
	const char *h = s;
	size_t hlen = (size_t)(colon - s);
	if (h[0] == '[') {
		if (hlen < 3 || h[hlen - 1] != ']')
			return false;
		h++;
		hlen -= 2;
	}
	long long p;
	if (!parse_int(colon + 1, &p) || p < 0 || p > 65535)
		return false;
	*host = strndup(h, hlen);
	*port = (int)p;
	return *host != NULL;
}

static bool is_base_url(const char *v)
{
	size_t n = strlen(v);
	bool scheme = strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
	return scheme && n > 8 && v[n - 1] != '/' && !strpbrk(v, " ?#");
}

static bool is_account_sid(const char *v)
{
	return strlen(v) == 34 && v[0] == 'A' && v[1] == 'C' && strspn(v + 2, "0123456789abcdefABCDEF") == 32;
}

/* 127.x.y.z in the first n bytes of host: four numbers of 0-255, the first 127. */
static bool is_loopback_ipv4(const char *host, size_t n)
{
	int octets = 0;
	const char *p = host, *end = host + n;
	while (p < end) {
		size_t digits = 0;
		int value = 0;
		while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
			value = value * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || value > 255 || (octets == 0 && value != 127))
			return false;
		octets++;
		if (p < end && (*p != '.' || ++p == end))
			return false;
	}
	return octets == 4;
}

/* https://, or http:// to this machine (127.0.0.0/8, ::1, localhost): the
 * simulator, or a local TLS-terminating relay. */
static bool is_https_or_loopback(const char *url)
{
	if (strncmp(url, "https://", 8) == 0)
		return true;
	if (strncmp(url, "http://", 7) != 0)
		return false;
	const char *host = url + 7;
	size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
	static const char *const loopback[] = {"localhost", "[::1]"};
	for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
		if (strlen(loopback[i]) == n && strncmp(host, loopback[i], n) == 0)
			return true;
	return is_loopback_ipv4(host, n);
}

/* The provider settings come as a set: all of them or none. */
static int check_telephony(const struct kept_config *cfg, struct buf *problems)
{
	if (!cfg->telephony_base_url)
		return 0;
	int count = 0;
	const struct {
		const char *name;
		const char *value;
	} needed[] = {
	        {"KEPT_TELEPHONY_ACCOUNT_SID", cfg->telephony_account_sid},
	        {"KEPT_TELEPHONY_AUTH_TOKEN", cfg->telephony_auth_token},
	        {"KEPT_TELEPHONY_FROM", cfg->telephony_from},
	        {"KEPT_PUBLIC_URL", cfg->public_url},
	};
	for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
		if (!needed[i].value) {
			problem(problems, needed[i].name, "is required with KEPT_TELEPHONY_BASE_URL", NULL);
			count++;
		}
	bool simulator = cfg->telephony_plain_http && strcmp(cfg->telephony_plain_http, "simulator") == 0;
	if (cfg->telephony_plain_http && !simulator) {
		problem(problems, "KEPT_TELEPHONY_PLAIN_HTTP", "is simulator or unset",
		        cfg->telephony_plain_http);
		count++;
	}
	if (!simulator && !is_https_or_loopback(cfg->telephony_base_url)) {
		problem(problems, "KEPT_TELEPHONY_BASE_URL",
		        "must be https:// (the auth token goes with every request); http:// only to a "
		        "loopback address",
		        cfg->telephony_base_url);
		count++;
	}
	if (cfg->telephony_account_sid && !is_account_sid(cfg->telephony_account_sid)) {
		problem(problems, "KEPT_TELEPHONY_ACCOUNT_SID", "must be AC followed by 32 hex digits",
		        cfg->telephony_account_sid);
		count++;
	}
	if (!cfg->contact_name) {
		problem(problems, "KEPT_CONTACT_NAME",
		        "is required with KEPT_TELEPHONY_BASE_URL: the limited-content message names a "
		        "natural "
		        "person the customer can reply to (12 CFR 1006.2(j)(1)(iii))",
		        NULL);
		count++;
	}
	return count;
}

/* "localhost", 127.0.0.0/8 or [::1]: the host part of an http(s) URL. */
static bool is_loopback_url(const char *url)
{
	const char *host = strstr(url, "://");
	if (!host)
		return false;
	host += 3;
	size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
	return (n == 9 && strncmp(host, "localhost", 9) == 0) || (n == 5 && strncmp(host, "[::1]", 5) == 0) ||
	       strncmp(host, "127.", 4) == 0;
}

/* The names a call says: none may suggest debt collection (12 CFR 1006.2(j)(1)(i)),
 * and the contact must read as a person's name. */
static int check_names(const struct kept_config *cfg, struct buf *problems)
{
	int count = 0;
	const char *word = script_debt_word(cfg->business_name);
	if (word) {
		char reason[200];
		snprintf(reason, sizeof reason,
		         "must not suggest debt collection (\"%s\"): it is said in the limited-content "
		         "message, "
		         "12 CFR 1006.2(j)(1)(i)",
		         word);
		problem(problems, "KEPT_BUSINESS_NAME", reason, cfg->business_name);
		count++;
	}
	word = cfg->contact_name ? script_debt_word(cfg->contact_name) : NULL;
	if (word || (cfg->contact_name && !script_is_person_name(cfg->contact_name))) {
		problem(problems, "KEPT_CONTACT_NAME",
		        word ? "must not suggest debt collection: it is said in the limited-content message"
		             : "must be a natural person's name, such as Robin Smith (two to four words of "
		               "letters)",
		        cfg->contact_name);
		count++;
	}
	return count;
}

/* The self-service page signs its links with a secret of its own and
 * names them under the public URL; without either it cannot run. */
static int check_self_service(const struct kept_config *cfg, struct buf *problems)
{
	int count = 0;
	if (!cfg->self_service)
		return 0;
	if (!cfg->link_secret || strlen(cfg->link_secret) < 32) {
		problem(problems, "KEPT_LINK_SECRET",
		        cfg->link_secret
		                ? "must be at least 32 bytes (it signs the customers' personal links)"
		                : "is required with KEPT_SELF_SERVICE=on (it signs the customers' personal "
		                  "links; at least 32 bytes)",
		        NULL);
		count++;
	}
	if (!cfg->public_url) {
		problem(problems, "KEPT_PUBLIC_URL",
		        "is required with KEPT_SELF_SERVICE=on: personal links are made under it", NULL);
		count++;
	}
	if (!cfg->callback_number && !cfg->telephony_from) {
		problem(problems, "KEPT_CALLBACK_NUMBER",
		        "is required with KEPT_SELF_SERVICE=on (or KEPT_TELEPHONY_FROM): the page tells the "
		        "customer "
		        "whom to call",
		        NULL);
		count++;
	}
	return count;
}

/* Simulated time only where no real person can be rung: no provider, or the simulator on loopback. */
static int check_clock(const struct kept_config *cfg, struct buf *problems)
{
	if (!cfg->clock_simulated || !cfg->telephony_base_url || is_loopback_url(cfg->telephony_base_url))
		return 0;
	problem(problems, "KEPT_CLOCK",
	        "simulated time is allowed only with the telephony simulator (kept-telsim on loopback); "
	        "KEPT_TELEPHONY_BASE_URL names another provider",
	        cfg->telephony_base_url);
	return 1;
}

static bool apply_row(struct kept_config *cfg, const struct cfg_row *row, const char *v, struct buf *problems)
{
	void *slot = (char *)cfg + row->offset;
	long long n;
	switch (row->type) {
	case CFG_STRING:
		if (!*v)
			break;
		if ((row->flags & CFG_URL) && !is_base_url(v)) {
			problem(problems, row->name,
			        "must be an http:// or https:// URL without a trailing /", v);
			return false;
		}
		if ((row->flags & CFG_HEXKEY) &&
		    (strlen(v) != 64 || strspn(v, "0123456789abcdefABCDEF") != 64)) {
			problem(problems, row->name, "must be 64 hex digits (openssl rand -hex 32)", NULL);
			return false;
		}
		if ((row->flags & CFG_E164) && !text_is_e164(v, strlen(v))) {
			problem(problems, row->name, "must be an E.164 number like +15558675310", v);
			return false;
		}
		*(char **)slot = strdup(v);
		return *(char **)slot != NULL;
	case CFG_LISTEN:
		if (parse_listen(v, (char **)slot, &cfg->listen_port))
			return true;
		problem(problems, row->name, "must be host:port with a port from 0 to 65535", v);
		return false;
	case CFG_INT:
	case CFG_BYTES:
		if (!(row->type == CFG_INT ? parse_int(v, &n) : parse_bytes(v, &n))) {
			problem(problems, row->name,
			        row->type == CFG_INT ? "must be an integer"
			                             : "must be a size like 65536, 64k or 1M",
			        v);
			return false;
		}
		if (n < row->min || n > row->max) {
			char range[96];
			snprintf(range, sizeof range, "must be between %lld and %lld", row->min, row->max);
			problem(problems, row->name, range, v);
			return false;
		}
		if (row->type == CFG_INT)
			*(int *)slot = (int)n;
		else
			*(size_t *)slot = (size_t)n;
		return true;
	case CFG_LOG_LEVEL:
		if (log_level_parse(v, (enum log_level *)slot))
			return true;
		problem(problems, row->name, "must be debug, info, warn or error", v);
		return false;
	case CFG_WORKERS:
		if (parse_workers(v, (unsigned *)slot))
			return true;
		problem(problems, row->name,
		        "must be all, none, or a list of evaluator, auditor, scheduler, dispatcher, loader, "
		        "retention, maintenance, texter",
		        v);
		return false;
	case CFG_CLOCK:
		if (strcmp(v, "wall") == 0 || strcmp(v, "simulated") == 0) {
			*(bool *)slot = strcmp(v, "simulated") == 0;
			return true;
		}
		problem(problems, row->name, "must be wall or simulated", v);
		return false;
	case CFG_ONOFF:
		if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
			*(bool *)slot = strcmp(v, "on") == 0;
			return true;
		}
		problem(problems, row->name, "must be on or off", v);
		return false;
	}
	problem(problems, row->name, "is required and empty", NULL);
	return false;
}

static bool is_known(const char *entry)
{
	size_t n = strcspn(entry, "=");
	for (size_t i = 0; i < NROWS; i++)
		if (strlen(rows[i].name) == n && strncmp(entry, rows[i].name, n) == 0)
			return true;
	for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
		if (strlen(foreign[i]) == n && strncmp(entry, foreign[i], n) == 0)
			return true;
	return false;
}

static void warn_unknown(char *const *envp)
{
	for (char *const *e = envp; e && *e; e++) {
		if (strncmp(*e, "KEPT_", 5) != 0 || is_known(*e))
			continue;
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
		struct log_line l;
		log_begin(&l, LOG_WARN, "config_unknown");
		log_str(&l, "name", name);
		log_str(&l, "msg", "not a keptd setting; is it misspelt?");
		log_end(&l);
	}
}

int config_load(struct kept_config *cfg, char *const *envp, struct buf *problems)
{
	int count = 0;
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NROWS; i++) {
		const char *v = env_lookup(envp, rows[i].name);
		if (!v || !*v)
			v = rows[i].fallback;
		if (!v) {
			if (rows[i].flags & CFG_REQUIRED) {
				problem(problems, rows[i].name, "is required", NULL);
				count++;
			}
			continue;
		}
		if (!apply_row(cfg, &rows[i], v, problems))
			count++;
	}
	count += check_telephony(cfg, problems);
	count += check_names(cfg, problems);
	count += check_clock(cfg, problems);
	count += check_self_service(cfg, problems);
	if (!cfg->callback_number && cfg->telephony_from) {
		cfg->callback_number = strdup(cfg->telephony_from);
		count += cfg->callback_number ? 0 : 1;
	}
	warn_unknown(envp);
	return count;
}

void config_free(struct kept_config *cfg)
{
	for (size_t i = 0; i < NROWS; i++) {
		if (rows[i].type != CFG_STRING && rows[i].type != CFG_LISTEN)
			continue;
		char **slot = (char **)((char *)cfg + rows[i].offset);
		free(*slot);
		*slot = NULL;
	}
}

/* Appends to out[*o], cutting at out_size - 1. */
static void out_put(char *out, size_t out_size, size_t *o, const char *s, size_t n)
{
	while (n-- && *o + 1 < out_size)
		out[(*o)++] = *s++;
}

/* End of a keyword=value value starting at p (quoted or bare). */
static const char *value_end(const char *p, bool in_url)
{
	if (*p == '\'') {
		for (p++; *p && *p != '\''; p++)
			if (*p == '\\' && p[1])
				p++;
		return *p ? p + 1 : p;
	}
	while (*p && !isspace((unsigned char)*p) && !(in_url && *p == '&'))
		p++;
	return p;
}

/* In a URL, the password of user:password@ sits between the first ':' after
 * the scheme and the last '@' before the path. */
static const char *url_password(const char *s, const char **end)
{
	const char *auth = strstr(s, "://");
	if (!auth)
		return NULL;
	auth += 3;
	size_t alen = strcspn(auth, "/?");
	const char *at = NULL;
	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return NULL;
	const char *colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon)
		return NULL;
	*end = at;
	return colon + 1;
}

void config_redact_conninfo(const char *conninfo, char *out, size_t out_size)
{
	const char *s = conninfo;
	size_t o = 0;
	bool in_url = strstr(s, "://") != NULL;
	const char *pw_end = NULL;
	const char *pw = in_url ? url_password(s, &pw_end) : NULL;
	const char *p = s;
	if (out_size == 0)
		return;
	while (*p) {
		if (p == pw) {
			out_put(out, out_size, &o, "****", 4);
			p = pw_end;
			continue;
		}
		bool at_key = p == s || p[-1] == '?' || p[-1] == '&' || isspace((unsigned char)p[-1]);
		if (at_key && strncmp(p, "password", 8) == 0) {
			const char *q = p + 8;
			while (*q == ' ')
				q++;
			if (*q == '=') {
				q++;
				while (*q == ' ')
					q++;
				out_put(out, out_size, &o, "password=****", 13);
				p = value_end(q, in_url);
				continue;
			}
		}
		out_put(out, out_size, &o, p, 1);
		p++;
	}
	out[o] = '\0';
}

static void format_value(const struct kept_config *cfg, const struct cfg_row *row, char *v, size_t vsize)
{
	const void *slot = (const char *)cfg + row->offset;
	switch (row->type) {
	case CFG_STRING: {
		const char *s = *(char *const *)slot;
		if (row->flags & CFG_CONNINFO)
			config_redact_conninfo(s ? s : "", v, vsize);
		else if (row->flags & CFG_SECRET)
			snprintf(v, vsize, "%s", s ? "****" : "");
		else if ((row->flags & CFG_E164) && s)
			log_mask_phone(s, v, vsize); /* no full phone number in a log, ours included */
		else
			snprintf(v, vsize, "%s", s ? s : "");
		break;
	}
	case CFG_LISTEN:
		snprintf(v, vsize, strchr(cfg->listen_host, ':') ? "[%s]:%d" : "%s:%d", cfg->listen_host,
		         cfg->listen_port);
		break;
	case CFG_INT: snprintf(v, vsize, "%d", *(const int *)slot); break;
	case CFG_BYTES: snprintf(v, vsize, "%zu", *(const size_t *)slot); break;
	case CFG_LOG_LEVEL: {
		static const char *const names[] = {"debug", "info", "warn", "error"};
		snprintf(v, vsize, "%s", names[*(const enum log_level *)slot]);
		break;
	}
	case CFG_CLOCK: snprintf(v, vsize, "%s", *(const bool *)slot ? "simulated" : "wall"); break;
	case CFG_ONOFF: snprintf(v, vsize, "%s", *(const bool *)slot ? "on" : "off"); break;
	case CFG_WORKERS: {
		size_t n = 0;
		v[0] = '\0';
		for (size_t i = 0; i < sizeof worker_names / sizeof worker_names[0]; i++)
			if (*(const unsigned *)slot & worker_names[i].bit)
				n += (size_t)snprintf(v + n, n < vsize ? vsize - n : 0, "%s%s", n ? "," : "",
				                      worker_names[i].name);
		if (!v[0])
			snprintf(v, vsize, "none");
		break;
	}
	}
}

void config_log(const struct kept_config *cfg)
{
	for (size_t i = 0; i < NROWS; i++) {
		char v[512];
		format_value(cfg, &rows[i], v, sizeof v);
		struct log_line l;
		log_begin(&l, LOG_INFO, "config");
		log_str(&l, "name", rows[i].name);
		log_str(&l, "value", v);
		log_end(&l);
	}
}

void config_help(struct buf *out)
{
	for (size_t i = 0; i < NROWS; i++) {
		/* an optional setting without a default says what unset means in its help */
		const char *open = "", *fallback = "", *close = "";
		if (rows[i].fallback) {
			open = " (default: ";
			fallback = rows[i].fallback;
			close = ")";
		} else if (rows[i].flags & CFG_REQUIRED) {
			open = " (required)";
		}
		kept_err r = buf_printf(out, "  %-30s %s%s%s%s\n", rows[i].name, rows[i].help, open, fallback,
		                        close);
		if (r)
			return;
	}
}
