/* The provider's REST client: creating calls on a libcurl multi handle. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf/buf.h"
#include "clock/clock.h"
#include "crypto/crypto.h"
#include "json/json.h"
#include "log/log.h"
#include "provider.h"

#define MAX_RESPONSE_BYTES (1u << 20)
#define CONNECT_TIMEOUT_MS 3000
#define RECONCILE_SKEW_S   5    /* provider and keptd clocks may disagree by this much */
#define AMD_TIMEOUT_S      "45" /* how long a greeting detection waits for the beep before "unknown" */

struct provider {
	struct provider_config cfg;
	char *calls_url;    /* {base}/2010-04-01/Accounts/{sid}/Calls.json */
	char *messages_url; /* {base}/2010-04-01/Accounts/{sid}/Messages.json */
	char *userpwd;
	CURLM *multi;
	unsigned seed;
	const struct provider_pacer *pacer; /* of the batch being placed */
	long long last_create_ms;           /* monotonic: when the last create started */
};

enum op_step { STEP_CREATE, STEP_RECONCILE, STEP_FETCH, STEP_DONE };

struct op {
	const struct provider_call_request *req;    /* create: the call */
	const struct provider_message_request *msg; /* create: the text (instead of a call) */
	struct provider_call_result *res;           /* create: the outcome; fetch: only its counters */
	const char *sid;                            /* fetch: the call */
	struct provider_call_status *status;        /* fetch: the answer */
	enum op_step step;
	long long not_before_ms; /* monotonic */
	time_t attempt_began;    /* wall clock, second of the last ambiguous create */
	long long sent_ms;       /* monotonic: when the last create started */
	long long listed_ms;     /* monotonic: when the last list started */
	int reconciles;
	int not_found;     /* lists since the last create that did not show it */
	int list_failures; /* lists since the last create that got no answer */
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;
	struct buf form;
	size_t sent; /* bytes of `form` handed to libcurl */
	long retry_after_s;
};

static long long now_ms(void)
{
	return clock_monotonic_ms();
}

kept_err provider_new(const struct provider_config *cfg, struct provider **out, struct kept_error *err)
{
	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return kept_fail(err, KEPT_ERR_INTERNAL, "curl_init_failed", "",
		                 "libcurl failed to initialise");
	struct provider *p = calloc(1, sizeof *p);
	if (!p)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	p->cfg = *cfg;
	if (p->cfg.attempts < 1)
		p->cfg.attempts = 1;
	if (p->cfg.concurrency < 1)
		p->cfg.concurrency = 1;
	if (p->cfg.backoff_base_ms < 1)
		p->cfg.backoff_base_ms = 200;
	if (p->cfg.max_retry_after_ms < 1)
		p->cfg.max_retry_after_ms = 30000;
	if (p->cfg.settle_ms < p->cfg.timeout_ms)
		p->cfg.settle_ms = p->cfg.timeout_ms;
	size_t n = strlen(cfg->base_url) + strlen(cfg->account_sid) + 64;
	p->calls_url = malloc(n);
	p->messages_url = malloc(n);
	p->userpwd = malloc(strlen(cfg->account_sid) + strlen(cfg->auth_token) + 2);
	p->multi = curl_multi_init();
	unsigned char seed[sizeof p->seed];
	if (!p->calls_url || !p->messages_url || !p->userpwd || !p->multi ||
	    crypto_random(seed, sizeof seed)) {
		provider_free(p);
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	}
	memcpy(&p->seed, seed, sizeof seed);
	snprintf(p->calls_url, n, "%s/2010-04-01/Accounts/%s/Calls.json", cfg->base_url, cfg->account_sid);
	snprintf(p->messages_url, n, "%s/2010-04-01/Accounts/%s/Messages.json", cfg->base_url,
	         cfg->account_sid);
	sprintf(p->userpwd, "%s:%s", cfg->account_sid, cfg->auth_token);
	curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)p->cfg.concurrency);
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->cfg.concurrency);
	*out = p;
	return KEPT_OK;
}

void provider_free(struct provider *p)
{
	if (!p)
		return;
	if (p->multi)
		curl_multi_cleanup(p->multi);
	free(p->calls_url);
	free(p->messages_url);
	if (p->userpwd)
		crypto_cleanse(p->userpwd, strlen(p->userpwd));
	free(p->userpwd);
	free(p);
}

/* ---- one request --------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct op *op = arg;
	size_t n = size * nmemb;
	return buf_add(&op->body, data, n) ? 0 : n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct op *op = arg;
	size_t n = size * nmemb;
	if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		long v = strtol(data + 12, NULL, 10); /* delta-seconds; an HTTP date falls back to backoff */
		op->retry_after_s = v > 0 ? v : 0;
	}
	return n;
}

/* The create's body, handed out by a read callback rather than as
 * POSTFIELDS so that it cannot be sent twice: libcurl silently resends a
 * request whose reused connection died without an answer, rewinding the
 * body first. Refusing the rewind (on_seek) turns that resend into
 * CURLE_SEND_FAIL_REWIND, an ambiguous outcome this module reconciles. */
static size_t on_read(char *out, size_t size, size_t nmemb, void *arg)
{
	struct op *op = arg;
	size_t left = buf_len(&op->form) - op->sent;
	size_t n = size * nmemb < left ? size * nmemb : left;
	memcpy(out, buf_str(&op->form) + op->sent, n);
	op->sent += n;
	return n;
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
	(void)arg;
	(void)offset;
	(void)origin;
	return CURL_SEEKFUNC_FAIL;
}

static kept_err create_form(const struct provider_call_request *req, struct buf *form)
{
	static const char *const events[] = {"initiated", "ringing", "answered", "completed"};
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", req->ring_timeout_s > 0 ? req->ring_timeout_s : 30);
	kept_err r = form_append(form, "To", req->to);
	if (!r)
		r = form_append(form, "From", req->from);
	if (!r)
		r = form_append(form, "Url", req->url);
	if (!r)
		r = form_append(form, "Method", "POST");
	if (!r)
		r = form_append(form, "StatusCallback", req->status_callback);
	if (!r)
		r = form_append(form, "StatusCallbackMethod", "POST");
	for (size_t i = 0; i < sizeof events / sizeof events[0] && !r; i++)
		r = form_append(form, "StatusCallbackEvent", events[i]);
	if (!r)
		r = form_append(form, "Timeout", timeout);
	/* the message must start after the greeting, so that it is recorded whole */
	if (!r && req->machine_detection)
		r = form_append(form, "MachineDetection", "DetectMessageEnd");
	if (!r && req->machine_detection)
		r = form_append(form, "MachineDetectionTimeout", AMD_TIMEOUT_S);
	return r;
}

static kept_err message_form(const struct provider_message_request *req, struct buf *form)
{
	kept_err r = form_append(form, "To", req->to);
	if (!r)
		r = form_append(form, "From", req->from);
	if (!r)
		r = form_append(form, "Body", req->body);
	if (!r && req->status_callback)
		r = form_append(form, "StatusCallback", req->status_callback);
	if (!r && req->validity_s > 0) {
		char seconds[16];
		snprintf(seconds, sizeof seconds, "%d", req->validity_s < 36000 ? req->validity_s : 36000);
		r = form_append(form, "ValidityPeriod", seconds);
	}
	return r;
}

/* The number a create goes to, a call's or a text's. */
static const char *op_to(const struct op *op)
{
	return op->msg ? op->msg->to : op->req->to;
}

/* Starts the op's next request on the multi handle; false when it could not. */
static bool op_start(struct provider *p, struct op *op)
{
	buf_reset(&op->body);
	buf_reset(&op->form);
	op->retry_after_s = 0;
	CURL *e = curl_easy_init();
	if (!e)
		return false;
	op->easy = e;
	if (!op->headers) {
		op->headers = curl_slist_append(NULL, "Accept: application/json");
		op->headers =
		        curl_slist_append(op->headers, "Content-Type: application/x-www-form-urlencoded");
		op->headers = curl_slist_append(op->headers, "Expect:");
	}
	curl_easy_setopt(e, CURLOPT_PRIVATE, op);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, op->headers);
	curl_easy_setopt(e, CURLOPT_USERPWD, p->userpwd);
	curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, op);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, op);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->cfg.timeout_ms);
	curl_easy_setopt(
	        e, CURLOPT_CONNECTTIMEOUT_MS,
	        (long)(p->cfg.timeout_ms < CONNECT_TIMEOUT_MS ? p->cfg.timeout_ms : CONNECT_TIMEOUT_MS));
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "keptd");
	if (op->step == STEP_CREATE) {
		if (op->msg ? message_form(op->msg, &op->form) : create_form(op->req, &op->form)) {
			curl_easy_cleanup(e);
			op->easy = NULL;
			return false;
		}
		op->sent = 0;
		curl_easy_setopt(e, CURLOPT_URL, op->msg ? p->messages_url : p->calls_url);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)buf_len(&op->form));
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, op);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, op);
		if (op->res->attempts == 0)
			op->res->sent_at_us = clock_now_us();
		op->res->attempts++;
		op->attempt_began = time(NULL);
		op->sent_ms = now_ms();
		op->not_found = 0;
		op->list_failures = 0;
	} else if (op->step == STEP_FETCH) {
		/* GET Calls/{Sid}.json, the sid escaped like any path segment */
		size_t n = strlen(p->calls_url) - strlen(".json");
		kept_err r = buf_add(&op->form, p->calls_url, n);
		if (!r)
			r = buf_addc(&op->form, '/');
		if (!r)
			r = form_escape(&op->form, op->sid);
		if (!r)
			r = buf_adds(&op->form, ".json");
		if (r) {
			curl_easy_cleanup(e);
			op->easy = NULL;
			return false;
		}
		curl_easy_setopt(e, CURLOPT_URL, buf_str(&op->form));
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		op->res->attempts++;
	} else {
		/* GET Calls.json?To=...&StartTime>=YYYY-MM-DD&PageSize=50; for a text,
		 * Messages.json?To=...&PageSize=50 (newest first: a message still queued
		 * at the provider has no DateSent to filter on) */
		char day[16];
		time_t since = op->attempt_began - RECONCILE_SKEW_S;
		struct tm tm;
		gmtime_r(&since, &tm);
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
		kept_err r = buf_adds(&op->form, op->msg ? p->messages_url : p->calls_url);
		if (!r)
			r = buf_adds(&op->form, "?To=");
		if (!r)
			r = form_escape(&op->form, op_to(op));
		if (!r && op->msg)
			r = buf_adds(&op->form, "&PageSize=50");
		else if (!r)
			r = buf_printf(&op->form, "&%s=%s&PageSize=50", "StartTime%3E", day);
		if (r) {
			curl_easy_cleanup(e);
			op->easy = NULL;
			return false;
		}
		curl_easy_setopt(e, CURLOPT_URL, buf_str(&op->form));
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		op->reconciles++;
		op->listed_ms = now_ms();
	}
	if (curl_multi_add_handle(p->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		op->easy = NULL;
		return false;
	}
	return true;
}

/* ---- reading answers ------------------------------------------------------------ */

/* Twilio's {code, message} or RFC 9457's {title, detail}, into the result. */
static void read_error(struct op *op, long status)
{
	struct provider_call_result *res = op->res;
	res->provider_code = 0;
	cJSON *doc = cJSON_ParseWithLength(buf_str(&op->body), buf_len(&op->body));
	long long code = 0;
	const char *message = NULL;
	if (doc) {
		if (json_get_int(doc, "code", &code))
			res->provider_code = (int)code;
		message = json_get_string(doc, "message");
		if (!message)
			message = json_get_string(doc, "detail");
		if (!message)
			message = json_get_string(doc, "title");
	}
	snprintf(res->error, sizeof res->error, "provider answered %ld%s%s", status, message ? ": " : "",
	         message ? message : "");
	cJSON_Delete(doc);
}

/* A call's sid (CA...), or with `message` a text's (SM... or MM...). */
static bool copy_sid(struct provider_call_result *res, const char *sid, bool message)
{
	if (!sid || strlen(sid) != 34)
		return false;
	if (message ? strncmp(sid, "SM", 2) != 0 && strncmp(sid, "MM", 2) != 0 : strncmp(sid, "CA", 2) != 0)
		return false;
	memcpy(res->sid, sid, 35);
	return true;
}

static int month_of(const char *m)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (size_t i = 0; i < 12; i++)
		if (strncmp(names + 3 * i, m, 3) == 0)
			return (int)i;
	return -1;
}

/* The number at *p (skipping spaces), advancing *p; -1 when there is none. */
static long number_at(const char **p)
{
	char *end;
	while (**p == ' ')
		(*p)++;
	long v = strtol(*p, &end, 10);
	if (end == *p)
		return -1;
	*p = end;
	return v;
}

/* RFC 2822 "Sat, 22 Nov 2026 13:22:15 +0000" as seconds since the epoch; -1 if not one. */
static time_t rfc2822_time(const char *s)
{
	if (!s)
		return -1;
	const char *comma = strchr(s, ',');
	const char *p = comma ? comma + 1 : s;
	long day = number_at(&p);
	while (*p == ' ')
		p++;
	int month = strlen(p) >= 3 ? month_of(p) : -1;
	p += month >= 0 ? 3 : 0;
	long year = number_at(&p);
	long h = number_at(&p);
	long mi = *p == ':' ? (p++, number_at(&p)) : -1;
	long sec = *p == ':' ? (p++, number_at(&p)) : -1;
	if (day < 1 || month < 0 || year < 1970 || h < 0 || mi < 0 || sec < 0)
		return -1;
	while (*p == ' ')
		p++;
	char sign = *p;
	long offset = sign == '+' || sign == '-' ? (p++, strtol(p, NULL, 10)) : 0;
	long off = (offset / 100) * 3600 + (offset % 100) * 60;
	struct tm tm = {.tm_year = (int)year - 1900,
	                .tm_mon = month,
	                .tm_mday = (int)day,
	                .tm_hour = (int)h,
	                .tm_min = (int)mi,
	                .tm_sec = (int)sec};
	time_t t = timegm(&tm);
	return sign == '-' ? t + off : t - off;
}

/* A call (or a text) in the list to our number created since the attempt began. */
static bool reconcile_from_list(struct op *op)
{
	cJSON *doc = cJSON_ParseWithLength(buf_str(&op->body), buf_len(&op->body));
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(doc, op->msg ? "messages" : "calls");
	bool found = false;
	const cJSON *c;
	cJSON_ArrayForEach (c, calls) {
		const char *to = json_get_string(c, "to");
		time_t created = rfc2822_time(json_get_string(c, "date_created"));
		if (to && strcmp(to, op_to(op)) == 0 && created >= op->attempt_began - RECONCILE_SKEW_S &&
		    copy_sid(op->res, json_get_string(c, "sid"), op->msg != NULL)) {
			found = true;
			break;
		}
	}
	cJSON_Delete(doc);
	return found;
}

static bool retryable_status(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* CURLE codes after which the request may have reached the provider. */
static bool maybe_sent(CURLcode rc)
{
	return rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST &&
	       rc != CURLE_COULDNT_RESOLVE_PROXY && rc != CURLE_SSL_CONNECT_ERROR &&
	       rc != CURLE_UNSUPPORTED_PROTOCOL && rc != CURLE_URL_MALFORMAT;
}

static void schedule_retry(struct provider *p, struct op *op, enum op_step step)
{
	int attempt = op->res->attempts + op->reconciles;
	long long delay;
	if (op->retry_after_s > 0) {
		delay = op->retry_after_s * 1000LL;
		if (delay > p->cfg.max_retry_after_ms)
			delay = p->cfg.max_retry_after_ms;
	} else {
		long long cap = (long long)p->cfg.backoff_base_ms << (attempt < 10 ? attempt : 10);
		if (cap > 10000)
			cap = 10000;
		delay = cap / 2 + rand_r(&p->seed) % (cap / 2 + 1); /* "equal jitter": never zero */
	}
	/* A create that may still be on its way through the provider gets as long
	 * as our own timeout to land before we look for it: listing too early
	 * would miss it, and the retry would ring the customer twice. */
	if (step == STEP_RECONCILE && delay < p->cfg.timeout_ms)
		delay = p->cfg.timeout_ms;
	op->step = step;
	op->not_before_ms = now_ms() + delay;
	if (step == STEP_CREATE && p->pacer) { /* every create takes a slot of the provider's pace */
		long long slot = p->pacer->slot_ms(p->pacer->arg);
		if (slot > op->not_before_ms)
			op->not_before_ms = slot;
	}
}

static void finish(struct op *op, enum provider_outcome outcome)
{
	op->res->outcome = outcome;
	op->step = STEP_DONE;
}

static void after_create(struct provider *p, struct op *op, CURLcode rc, long status)
{
	struct provider_call_result *res = op->res;
	res->http_status = (int)status;
	bool more = res->attempts < p->cfg.attempts;
	if (rc == CURLE_OK && status == 201) {
		cJSON *doc = cJSON_ParseWithLength(buf_str(&op->body), buf_len(&op->body));
		bool ok = copy_sid(res, json_get_string(doc, "sid"), op->msg != NULL);
		cJSON_Delete(doc);
		if (ok) {
			res->error[0] = '\0';
			finish(op, PROVIDER_PLACED);
			return;
		}
		/* accepted, but no usable sid: the call exists somewhere; find it */
		snprintf(res->error, sizeof res->error, "201 without a call sid");
		schedule_retry(p, op, STEP_RECONCILE);
		return;
	}
	if (rc != CURLE_OK) {
		snprintf(res->error, sizeof res->error, "%s", curl_easy_strerror(rc));
		if (maybe_sent(rc))
			schedule_retry(p, op, STEP_RECONCILE);
		else if (more)
			schedule_retry(p, op, STEP_CREATE);
		else
			finish(op, PROVIDER_FAILED);
		return;
	}
	read_error(op, status);
	if (status == 429) /* never processed: safe to send again */
		more ? schedule_retry(p, op, STEP_CREATE) : finish(op, PROVIDER_FAILED);
	else if (retryable_status(status))
		schedule_retry(p, op, STEP_RECONCILE);
	else
		finish(op, PROVIDER_FAILED);
}

static void after_reconcile(struct provider *p, struct op *op, CURLcode rc, long status)
{
	if (rc == CURLE_OK && status == 200) {
		op->retry_after_s = 0;
		long long settled = op->sent_ms + p->cfg.settle_ms;
		if (reconcile_from_list(op)) {
			op->res->reconciled = true;
			finish(op, PROVIDER_PLACED);
		} else if (++op->not_found < 2 || op->listed_ms < settled) {
			/* a create still held at the provider may land yet: look again
			 * once the settle time has passed */
			schedule_retry(p, op, STEP_RECONCILE);
			if (op->not_before_ms < settled)
				op->not_before_ms = settled;
		} else if (op->res->attempts < p->cfg.attempts) {
			schedule_retry(p, op, STEP_CREATE); /* it never reached the provider */
		} else {
			/* twice not found: most likely never made, but never dial it again */
			snprintf(op->res->error, sizeof op->res->error,
			         "not found at the provider after an unknown outcome");
			finish(op, PROVIDER_UNKNOWN);
		}
		return;
	}
	/* we still cannot tell; ask again, a bounded number of times */
	if (++op->list_failures <= p->cfg.attempts)
		schedule_retry(p, op, STEP_RECONCILE);
	else
		finish(op, PROVIDER_UNKNOWN);
}

/* A number the provider may send as a string or a number; -1 when neither. */
static int int_field(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (cJSON_IsNumber(v))
		return (int)v->valuedouble;
	if (cJSON_IsString(v) && v->valuestring[0]) {
		char *end;
		long n = strtol(v->valuestring, &end, 10);
		return *end ? -1 : (int)n;
	}
	return -1;
}

static void after_fetch(struct provider *p, struct op *op, CURLcode rc, long status)
{
	struct provider_call_status *st = op->status;
	if (rc == CURLE_OK && status == 200) {
		cJSON *doc = cJSON_ParseWithLength(buf_str(&op->body), buf_len(&op->body));
		const char *s = json_get_string(doc, "status");
		const char *by = json_get_string(doc, "answered_by");
		st->found = s && strlen(s) < sizeof st->status;
		if (st->found) {
			snprintf(st->status, sizeof st->status, "%s", s);
			snprintf(st->answered_by, sizeof st->answered_by, "%s", by ? by : "");
			st->duration = int_field(doc, "duration");
		} else {
			snprintf(st->error, sizeof st->error, "the call resource has no status");
		}
		cJSON_Delete(doc);
		finish(op, PROVIDER_PLACED);
		return;
	}
	if (rc != CURLE_OK) {
		snprintf(st->error, sizeof st->error, "%s", curl_easy_strerror(rc));
	} else {
		read_error(op, status);
		snprintf(st->error, sizeof st->error, "%s", op->res->error);
	}
	bool again = rc != CURLE_OK || retryable_status(status);
	if (again && op->res->attempts < p->cfg.attempts)
		schedule_retry(p, op, STEP_FETCH);
	else
		finish(op, PROVIDER_FAILED);
}

/* ---- the batch ---------------------------------------------------------------- */

/* Milliseconds until a request may start (0: now), at most `cap`; with every
 * slot in flight only the network can wake us, so `cap`. */
/* The earliest a create may start: the pace's gap after the last one. */
static long long create_gate(const struct provider *p)
{
	return p->pacer && p->last_create_ms ? p->last_create_ms + p->pacer->gap_ms : 0;
}

static long long next_start_in(const struct provider *p, const struct op *ops, size_t n, size_t in_flight,
                               long long cap)
{
	if (in_flight >= (size_t)p->cfg.concurrency)
		return cap;
	long long now = now_ms(), wait = cap;
	for (size_t i = 0; i < n && wait > 0; i++) {
		if (ops[i].step == STEP_DONE || ops[i].easy)
			continue;
		long long at = ops[i].not_before_ms;
		if (ops[i].step == STEP_CREATE && at < create_gate(p))
			at = create_gate(p);
		if (at - now < wait)
			wait = at > now ? at - now : 0;
	}
	return wait;
}

/* A create due after its call's send_by never goes: the window would close
 * before the provider could start the call (the call was certainly not
 * placed, since a create is only sent again once the last one is known to
 * have failed). */
static bool too_late(struct op *op, long long now)
{
	long long send_by = op->msg ? op->msg->send_by_ms : op->req ? op->req->send_by_ms : 0;
	if (op->step != STEP_CREATE || !send_by)
		return false;
	if (now <= send_by && op->not_before_ms <= send_by)
		return false; /* (a retry due after it is as good as too late now) */
	snprintf(op->res->error, sizeof op->res->error,
	         "the calling window closed before a create could be sent (%d sent before)",
	         op->res->attempts);
	op->res->retry_at_us =
	        clock_now_us() + (op->not_before_ms > now ? (op->not_before_ms - now) * 1000 : 0);
	finish(op, PROVIDER_NOT_SENT);
	return true;
}

/* Runs the ops to their end, up to `concurrency` requests in flight. */
static void run_ops(struct provider *p, struct op *ops, size_t n)
{
	size_t done = 0, in_flight = 0, next = 0;
	while (done < n) {
		long long now = now_ms();
		/* start what is due, oldest first, up to the concurrency */
		for (size_t k = 0; k < n && in_flight < (size_t)p->cfg.concurrency; k++) {
			struct op *op = &ops[(next + k) % n];
			if (op->step == STEP_DONE || op->easy)
				continue;
			if (too_late(op, now)) {
				done++;
				continue;
			}
			if (op->not_before_ms > now || (op->step == STEP_CREATE && create_gate(p) > now))
				continue;
			if (op->step == STEP_CREATE)
				p->last_create_ms = now;
			if (op_start(p, op)) {
				in_flight++;
			} else {
				snprintf(op->res->error, sizeof op->res->error, "could not start a request");
				finish(op, op->step == STEP_RECONCILE ? PROVIDER_UNKNOWN : PROVIDER_FAILED);
				done++;
			}
		}
		next = (next + 1) % n;
		int running = 0;
		curl_multi_perform(p->multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(p->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *e = msg->easy_handle;
			CURLcode rc = msg->data.result;
			struct op *op = NULL;
			long status = 0;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&op);
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(p->multi, e);
			curl_easy_cleanup(e);
			op->easy = NULL;
			in_flight--;
			if (op->step == STEP_CREATE)
				after_create(p, op, rc, status);
			else if (op->step == STEP_FETCH)
				after_fetch(p, op, rc, status);
			else
				after_reconcile(p, op, rc, status);
			if (op->step == STEP_DONE)
				done++;
		}
		long long wait = done < n ? next_start_in(p, ops, n, in_flight, 1000) : 0;
		if (wait > 0)
			curl_multi_poll(p->multi, NULL, 0, (int)wait, NULL);
	}
}

static void free_ops(struct op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		curl_slist_free_all(ops[i].headers);
		buf_free(&ops[i].body);
		buf_free(&ops[i].form);
	}
	free(ops);
}

static struct op *new_ops(size_t n)
{
	struct op *ops = calloc(n ? n : 1, sizeof *ops);
	for (size_t i = 0; ops && i < n; i++) {
		buf_init(&ops[i].body, MAX_RESPONSE_BYTES);
		buf_init(&ops[i].form, 1u << 16);
	}
	return ops;
}

void provider_place_calls(struct provider *p, const struct provider_call_request *requests, size_t n,
                          struct provider_call_result *results, const struct provider_pacer *pacer)
{
	struct op *ops = new_ops(n);
	for (size_t i = 0; i < n; i++) {
		results[i] = (struct provider_call_result){.outcome = PROVIDER_FAILED};
		if (!ops)
			snprintf(results[i].error, sizeof results[i].error, "out of memory");
	}
	if (!ops || n == 0) {
		free(ops);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ops[i].req = &requests[i];
		ops[i].res = &results[i];
		ops[i].step = STEP_CREATE;
		ops[i].not_before_ms = requests[i].not_before_ms;
	}
	p->pacer = pacer;
	run_ops(p, ops, n);
	p->pacer = NULL;
	free_ops(ops, n);
}

void provider_send_messages(struct provider *p, const struct provider_message_request *requests, size_t n,
                            struct provider_call_result *results)
{
	struct op *ops = new_ops(n);
	for (size_t i = 0; i < n; i++) {
		results[i] = (struct provider_call_result){.outcome = PROVIDER_FAILED};
		if (!ops)
			snprintf(results[i].error, sizeof results[i].error, "out of memory");
	}
	if (!ops || n == 0) {
		free(ops);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ops[i].msg = &requests[i];
		ops[i].res = &results[i];
		ops[i].step = STEP_CREATE;
	}
	run_ops(p, ops, n);
	free_ops(ops, n);
}

bool provider_is_simulator(struct provider *p)
{
	CURL *e = curl_easy_init();
	if (!e)
		return false;
	struct op probe = {0};
	buf_init(&probe.body, 4096);
	size_t n = strlen(p->cfg.base_url) + 32;
	char *url = malloc(n);
	long status = 0;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	if (url) {
		snprintf(url, n, "%s/_telsim/hello", p->cfg.base_url);
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->cfg.timeout_ms);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &probe);
		rc = curl_easy_perform(e);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	}
	cJSON *doc = rc == CURLE_OK && status == 200
	                     ? cJSON_ParseWithLength(buf_str(&probe.body), buf_len(&probe.body))
	                     : NULL;
	const char *who = json_get_string(doc, "simulator");
	bool yes = who && strcmp(who, "kept-telsim") == 0;
	cJSON_Delete(doc);
	buf_free(&probe.body);
	free(url);
	curl_easy_cleanup(e);
	return yes;
}

void provider_fetch_calls(struct provider *p, const char *const *sids, size_t n,
                          struct provider_call_status *out)
{
	struct op *ops = new_ops(n);
	struct provider_call_result *counters = calloc(n ? n : 1, sizeof *counters);
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct provider_call_status){.duration = -1};
		if (!ops || !counters)
			snprintf(out[i].error, sizeof out[i].error, "out of memory");
	}
	if (ops && counters && n) {
		for (size_t i = 0; i < n; i++) {
			ops[i].sid = sids[i];
			ops[i].status = &out[i];
			ops[i].res = &counters[i];
			ops[i].step = STEP_FETCH;
		}
		run_ops(p, ops, n);
	}
	if (ops)
		free_ops(ops, n);
	free(counters);
}
