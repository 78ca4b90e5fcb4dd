/* kept-telsim: the REST API, the control endpoints and the server. See telsim.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "form/form.h"
#include "http/http.h"
#include "json/json.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "route/route.h"
#include "telsim.h"
#include "text/text.h"

struct telsim_config telsim_cfg;
pthread_mutex_t telsim_lock = PTHREAD_MUTEX_INITIALIZER;

static struct tcall **calls;
static size_t ncalls, calls_cap;
static struct buf requests; /* JSON objects, comma separated */
static char *expected_auth; /* "Basic base64(sid:token)" */

/* create faults: a queue of names */
#define MAX_FAULTS 256
static struct {
	char name[16];
	char to[32]; /* only a create to this number takes it ("": any) */
	bool used;
} faults[MAX_FAULTS];
static size_t fault_head, fault_tail;
static int slow_ms = 3000;
static char retry_after[16] = "1"; /* the 429 fault's Retry-After, seconds */
static bool duplicate_callbacks, reverse_callbacks;

/* callee overrides */
#define MAX_CALLEES 256
static struct {
	char number[32];
	struct telsim_callee callee;
} callees[MAX_CALLEES];
static size_t ncallees;
static long long last_start_ms; /* the CPS queue: when the latest call starts */

long long telsim_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool telsim_duplicate_callbacks(void)
{
	pthread_mutex_lock(&telsim_lock);
	bool v = duplicate_callbacks;
	pthread_mutex_unlock(&telsim_lock);
	return v;
}

bool telsim_reverse_callbacks(void)
{
	pthread_mutex_lock(&telsim_lock);
	bool v = reverse_callbacks;
	pthread_mutex_unlock(&telsim_lock);
	return v;
}

void telsim_callee(const char *number, struct telsim_callee *out)
{
	pthread_mutex_lock(&telsim_lock);
	for (size_t i = 0; i < ncallees; i++) {
		if (strcmp(callees[i].number, number) == 0) {
			*out = callees[i].callee;
			pthread_mutex_unlock(&telsim_lock);
			return;
		}
	}
	pthread_mutex_unlock(&telsim_lock);
	static const char *const by_digit[] = {"human", "busy",  "no-answer", "machine", "failed",
	                                       "human", "human", "human",     "human",   "human"};
	size_t n = strlen(number);
	int last = n ? (unsigned char)number[n - 1] : '0';
	*out = (struct telsim_callee){.greeting_ms = 4000};
	snprintf(out->behaviour, sizeof out->behaviour, "%s",
	         last >= '0' && last <= '9' ? by_digit[last - '0'] : "human");
	snprintf(out->keys, sizeof out->keys, "11");
}

/* ---- calls -------------------------------------------------------------------------------- */

struct tcall *telsim_call_add(const char *to, const char *from, const char *url, const char *status_callback,
                              unsigned events, const struct telsim_amd *amd)
{
	struct tcall *c = calloc(1, sizeof *c);
	unsigned char raw[16];
	if (!c || crypto_random(raw, sizeof raw)) {
		free(c);
		return NULL;
	}
	c->sid[0] = 'C';
	c->sid[1] = 'A';
	crypto_hex(raw, sizeof raw, c->sid + 2);
	snprintf(c->to, sizeof c->to, "%s", to);
	snprintf(c->from, sizeof c->from, "%s", from);
	c->url = url ? strdup(url) : NULL;
	c->status_callback = status_callback ? strdup(status_callback) : NULL;
	c->events = events;
	c->machine_detection = amd->on;
	c->detect_message_end = amd->detect_message_end;
	c->amd_timeout_s = amd->timeout_s;
	snprintf(c->status, sizeof c->status, "queued");
	c->created = time(NULL);
	c->arrived_ms = telsim_now_ms();
	buf_init(&c->log, 1u << 20);
	pthread_mutex_lock(&telsim_lock);
	/* over the account's calls per second, a call waits its turn */
	c->started_ms = c->arrived_ms;
	if (telsim_cfg.cps > 0 && last_start_ms + 1000 / telsim_cfg.cps > c->started_ms)
		c->started_ms = last_start_ms + 1000 / telsim_cfg.cps;
	last_start_ms = c->started_ms;
	if (ncalls == calls_cap) {
		size_t cap = calls_cap ? calls_cap * 2 : 1024;
		struct tcall **grown = realloc(calls, cap * sizeof(struct tcall *));
		if (!grown) {
			pthread_mutex_unlock(&telsim_lock);
			free(c->url);
			free(c->status_callback);
			free(c);
			return NULL;
		}
		calls = grown;
		calls_cap = cap;
	}
	calls[ncalls++] = c;
	pthread_mutex_unlock(&telsim_lock);
	return c;
}

size_t telsim_call_count(void)
{
	return ncalls;
}

struct tcall *telsim_call_at(size_t i)
{
	return i < ncalls ? calls[i] : NULL;
}

void telsim_call_event(struct tcall *c, const char *json)
{
	pthread_mutex_lock(&telsim_lock);
	kept_err r = buf_len(&c->log) ? buf_addc(&c->log, ',') : KEPT_OK;
	if (!r)
		r = buf_adds(&c->log, json);
	(void)r; /* a full log drops events; the tests' calls are short */
	pthread_mutex_unlock(&telsim_lock);
}

void telsim_rfc2822(time_t t, char *out, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

static kept_err add_json_string(struct buf *out, const char *name, const char *v)
{
	cJSON *s = v ? cJSON_CreateString(v) : cJSON_CreateNull();
	char *text = s ? cJSON_PrintUnformatted(s) : NULL;
	kept_err r = text ? buf_printf(out, "\"%s\":%s", name, text) : KEPT_ERR_NOMEM;
	cJSON_free(text);
	cJSON_Delete(s);
	return r;
}

kept_err telsim_call_json(struct buf *out, const struct tcall *c)
{
	char created[64];
	telsim_rfc2822(c->created, created, sizeof created);
	kept_err r = buf_printf(
	        out,
	        "{\"sid\":\"%s\",\"account_sid\":\"%s\",\"date_created\":\"%s\",\"date_updated\":\"%s\","
	        "\"status\":\"%s\",\"direction\":\"outbound-api\",\"api_version\":\"2010-04-01\","
	        "\"duration\":\"%d\",\"price\":null,\"price_unit\":\"USD\",\"queue_time\":\"%lld\","
	        "\"uri\":\"/2010-04-01/Accounts/%s/Calls/%s.json\",",
	        c->sid, telsim_cfg.account_sid, created, created, c->status, c->duration,
	        c->started_ms - c->arrived_ms, telsim_cfg.account_sid, c->sid);
	if (!r)
		r = add_json_string(out, "to", c->to);
	if (!r)
		r = buf_addc(out, ',');
	if (!r)
		r = add_json_string(out, "from", c->from);
	if (!r)
		r = buf_addc(out, ',');
	if (!r)
		r = add_json_string(out, "answered_by", c->answered_by[0] ? c->answered_by : NULL);
	return r ? r : buf_addc(out, '}');
}

/* ---- replies --------------------------------------------------------------------------- */

static void reply_buf(struct http_request *req, int status, struct buf *b)
{
	http_reply(req, status, "application/json", buf_str(b), buf_len(b));
	buf_free(b);
}

void telsim_error(struct http_request *req, int status, int code, const char *message)
{
	struct buf b;
	buf_init(&b, 4096);
	kept_err r = buf_printf(&b, "{\"code\":%d,", code);
	if (!r)
		r = add_json_string(&b, "message", message);
	if (!r)
		r = buf_printf(&b, ",\"more_info\":\"https://www.twilio.com/docs/errors/%d\",\"status\":%d}",
		               code, status);
	(void)r;
	reply_buf(req, status, &b);
}

static void record_request(struct http_request *req, bool auth_ok)
{
	if (!telsim_cfg.record)
		return;
	size_t len;
	const char *body = http_body(req, &len);
	struct buf item;
	buf_init(&item, 1u << 20);
	kept_err r = buf_addc(&item, '{');
	if (!r)
		r = add_json_string(&item, "method", http_method(req));
	if (!r)
		r = buf_addc(&item, ',');
	if (!r)
		r = add_json_string(&item, "path", http_path(req));
	if (!r)
		r = buf_addc(&item, ',');
	const char *to = http_query(req, "To"); /* a list's filter */
	if (!r)
		r = add_json_string(&item, "to", to ? to : "");
	if (!r)
		r = buf_addc(&item, ',');
	char *copy = strndup(body, len);
	if (!r)
		r = add_json_string(&item, "body", copy ? copy : "");
	free(copy);
	if (!r)
		r = buf_printf(&item, ",\"auth_ok\":%s,\"at_ms\":%lld}", auth_ok ? "true" : "false",
		               telsim_now_ms());
	pthread_mutex_lock(&telsim_lock);
	if (!r && buf_len(&requests))
		r = buf_addc(&requests, ',');
	if (!r)
		r = buf_add(&requests, buf_str(&item), buf_len(&item));
	pthread_mutex_unlock(&telsim_lock);
	(void)r; /* past its cap the record stops growing */
	buf_free(&item);
}

/* ---- the REST API ----------------------------------------------------------------------- */

static bool is_e164(const char *v)
{
	return v && text_is_e164(v, strlen(v));
}

const char *telsim_next_fault(const char *to, char out[16])
{
	bool found = false;
	pthread_mutex_lock(&telsim_lock);
	for (size_t i = fault_head; i != fault_tail && !found; i++) {
		size_t k = i % MAX_FAULTS;
		if (faults[k].used || (faults[k].to[0] && (!to || strcmp(faults[k].to, to) != 0)))
			continue;
		faults[k].used = true;
		snprintf(out, 16, "%s", faults[k].name);
		found = true;
	}
	while (fault_head != fault_tail && faults[fault_head % MAX_FAULTS].used)
		fault_head++;
	pthread_mutex_unlock(&telsim_lock);
	return found ? out : NULL;
}

bool telsim_fault_before(struct http_request *req, const char *fault)
{
	if (strcmp(fault, "429") == 0) {
		char seconds[16];
		pthread_mutex_lock(&telsim_lock);
		snprintf(seconds, sizeof seconds, "%s", retry_after);
		pthread_mutex_unlock(&telsim_lock);
		kept_err r = http_add_header(req, "Retry-After", seconds);
		(void)r;
		telsim_error(req, 429, 20429, "Too Many Requests");
		return true;
	}
	if (strcmp(fault, "503") == 0) {
		telsim_error(req, 503, 20503, "Service Unavailable");
		return true;
	}
	if (strcmp(fault, "drop") == 0) {
		http_drop(req);
		return true;
	}
	if (strcmp(fault, "held") == 0) /* queued at the provider: acted on late */
		usleep((useconds_t)slow_ms * 1000);
	return false;
}

bool telsim_fault_after(struct http_request *req, const char *fault)
{
	if (strcmp(fault, "503_created") == 0) {
		telsim_error(req, 503, 20503, "Service Unavailable");
		return true;
	}
	if (strcmp(fault, "drop_created") == 0) {
		http_drop(req);
		return true;
	}
	if (strcmp(fault, "slow_created") == 0)
		usleep((useconds_t)slow_ms * 1000);
	return false;
}

static unsigned parse_events(const struct form *f, bool *ok)
{
	static const char *const names[] = {"initiated", "ringing", "answered", "completed"};
	unsigned events = 0;
	*ok = true;
	for (size_t i = 0; i < f->count; i++) {
		if (strcmp(f->fields[i].name, "StatusCallbackEvent") != 0)
			continue;
		bool known = false;
		for (unsigned k = 0; k < 4; k++)
			if (strcmp(f->fields[i].value, names[k]) == 0) {
				events |= 1u << k;
				known = true;
			}
		*ok &= known;
	}
	return events ? events : 1u << 3; /* Twilio's default: completed only */
}

bool telsim_create_begin(struct http_request *req, struct form *f, char fault_name[16], const char **fault)
{
	size_t len;
	const char *body = http_body(req, &len);
	struct kept_error err;
	const char *ct = http_header(req, "Content-Type");
	if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		telsim_error(req, 415, 20415, "Content-Type must be application/x-www-form-urlencoded");
		return false;
	}
	if (form_decode(http_arena(req), body, len, f, &err)) {
		telsim_error(req, 400, 20001, "The request body is not a valid form");
		return false;
	}
	*fault = telsim_next_fault(form_get(f, "To"), fault_name);
	return !(*fault && telsim_fault_before(req, *fault));
}

static void create_call(struct http_request *req)
{
	struct form f;
	char fault_name[16];
	const char *fault;
	if (!telsim_create_begin(req, &f, fault_name, &fault))
		return;
	const char *to = form_get(&f, "To"), *from = form_get(&f, "From"), *url = form_get(&f, "Url");
	const char *twiml = form_get(&f, "Twiml"), *app = form_get(&f, "ApplicationSid");
	const char *method = form_get(&f, "Method"), *timeout = form_get(&f, "Timeout");
	const char *cb_method = form_get(&f, "StatusCallbackMethod");
	bool events_ok;
	unsigned events = parse_events(&f, &events_ok);
	if (!is_e164(to)) {
		telsim_error(req, 400, 21211, "Invalid 'To' Phone Number");
		return;
	}
	if (!is_e164(from)) {
		telsim_error(req, 400, 21212, "Invalid 'From' Phone Number");
		return;
	}
	if (!url && !twiml && !app) {
		telsim_error(req, 400, 21205, "Url, Twiml or ApplicationSid is required");
		return;
	}
	if ((method && strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) ||
	    (cb_method && strcmp(cb_method, "GET") != 0 && strcmp(cb_method, "POST") != 0)) {
		telsim_error(req, 400, 21207, "Method must be GET or POST");
		return;
	}
	long t = timeout ? strtol(timeout, NULL, 10) : 60;
	if (timeout && (strspn(timeout, "0123456789") != strlen(timeout) || t < 1 || t > 600)) {
		telsim_error(req, 400, 21217, "Timeout must be an integer from 1 to 600");
		return;
	}
	if (!events_ok) {
		telsim_error(req, 400, 21626,
		             "StatusCallbackEvent must be initiated, ringing, answered or completed");
		return;
	}
	const char *md = form_get(&f, "MachineDetection"),
	           *md_timeout = form_get(&f, "MachineDetectionTimeout");
	struct telsim_amd amd = {md && (strcmp(md, "Enable") == 0 || strcmp(md, "DetectMessageEnd") == 0),
	                         md && strcmp(md, "DetectMessageEnd") == 0,
	                         md_timeout ? (int)strtol(md_timeout, NULL, 10) : 30};
	if (amd.timeout_s < 3 || amd.timeout_s > 59) {
		telsim_error(req, 400, 20001, "MachineDetectionTimeout must be from 3 to 59 seconds");
		return;
	}
	struct tcall *c = telsim_call_add(to, from, url, form_get(&f, "StatusCallback"), events, &amd);
	if (!c) {
		telsim_error(req, 500, 20500, "out of memory");
		return;
	}
	if (telsim_cfg.life)
		telsim_life_start(c);
	if (fault && telsim_fault_after(req, fault))
		return;
	struct buf b;
	buf_init(&b, 1u << 16);
	pthread_mutex_lock(&telsim_lock);
	kept_err r = telsim_call_json(&b, c);
	pthread_mutex_unlock(&telsim_lock);
	(void)r;
	reply_buf(req, 201, &b);
}

static void list_calls(struct http_request *req)
{
	const char *to = http_query(req, "To");
	const char *since = http_query(req, "StartTime>");
	const char *size = http_query(req, "PageSize");
	long page_size = size ? strtol(size, NULL, 10) : 50;
	if (page_size < 1 || page_size > 1000)
		page_size = 50;
	struct tm tm = {0};
	time_t since_t = 0;
	char *end = NULL;
	long y = since ? strtol(since, &end, 10) : 0;
	long m = end && *end == '-' ? strtol(end + 1, &end, 10) : 0;
	long d = end && *end == '-' ? strtol(end + 1, &end, 10) : 0;
	if (y > 1900 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
		tm.tm_year = (int)y - 1900;
		tm.tm_mon = (int)m - 1;
		tm.tm_mday = (int)d;
		since_t = timegm(&tm);
	}
	struct buf b;
	buf_init(&b, 64u << 20);
	kept_err r = buf_adds(&b, "{\"calls\":[");
	long n = 0;
	pthread_mutex_lock(&telsim_lock);
	for (size_t i = ncalls; i-- > 0 && n < page_size && !r;) { /* newest first, as Twilio lists */
		const struct tcall *c = calls[i];
		if ((to && strcmp(c->to, to) != 0) || c->created < since_t)
			continue;
		if (n++)
			r = buf_addc(&b, ',');
		if (!r)
			r = telsim_call_json(&b, c);
	}
	pthread_mutex_unlock(&telsim_lock);
	if (!r)
		r = buf_printf(
		        &b,
		        "],\"page\":0,\"page_size\":%ld,\"start\":0,\"end\":%ld,\"previous_page_uri\":null,"
		        "\"next_page_uri\":null,\"uri\":\"/2010-04-01/Accounts/%s/Calls.json\"}",
		        page_size, n ? n - 1 : 0, telsim_cfg.account_sid);
	(void)r;
	reply_buf(req, 200, &b);
}

static void fetch_call(struct http_request *req, const char *sid)
{
	struct buf b;
	buf_init(&b, 1u << 16);
	bool found = false;
	pthread_mutex_lock(&telsim_lock);
	for (size_t i = 0; i < ncalls && !found; i++)
		if (strcmp(calls[i]->sid, sid) == 0) {
			found = true;
			kept_err r = telsim_call_json(&b, calls[i]);
			(void)r;
		}
	pthread_mutex_unlock(&telsim_lock);
	if (!found) {
		buf_free(&b);
		telsim_error(req, 404, 20404, "The requested resource was not found");
		return;
	}
	reply_buf(req, 200, &b);
}

/* ---- control ------------------------------------------------------------------------------- */

static void control_faults(struct http_request *req, cJSON *doc)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "create");
	const char *to = json_get_string(doc, "to");
	const cJSON *item;
	long long ms;
	pthread_mutex_lock(&telsim_lock);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "clear")))
		fault_head = fault_tail = 0;
	cJSON_ArrayForEach (item, list) {
		if (cJSON_IsString(item) && fault_tail - fault_head < MAX_FAULTS) {
			size_t k = fault_tail++ % MAX_FAULTS;
			snprintf(faults[k].name, sizeof faults[k].name, "%s", item->valuestring);
			snprintf(faults[k].to, sizeof faults[k].to, "%s", to ? to : "");
			faults[k].used = false;
		}
	}
	if (json_get_int(doc, "slow_ms", &ms))
		slow_ms = (int)ms;
	if (json_get_int(doc, "retry_after_s", &ms))
		snprintf(retry_after, sizeof retry_after, "%lld", ms);
	duplicate_callbacks = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "duplicate_callbacks"));
	reverse_callbacks = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "reverse_callbacks"));
	pthread_mutex_unlock(&telsim_lock);
	http_reply_json(req, 200, "{\"ok\":true}");
}

static void control_callees(struct http_request *req, cJSON *doc)
{
	const cJSON *item;
	pthread_mutex_lock(&telsim_lock);
	cJSON_ArrayForEach (item, doc) {
		const char *behaviour = json_get_string(item, "behaviour");
		const char *keys = json_get_string(item, "keys");
		long long greeting = 4000;
		json_get_int(item, "greeting_ms", &greeting);
		size_t i = 0;
		while (i < ncallees && strcmp(callees[i].number, item->string) != 0)
			i++;
		if (i == MAX_CALLEES)
			break;
		if (i == ncallees)
			ncallees++;
		struct telsim_callee *c = &callees[i].callee;
		snprintf(callees[i].number, sizeof callees[i].number, "%s", item->string);
		snprintf(c->behaviour, sizeof c->behaviour, "%s", behaviour ? behaviour : "human");
		snprintf(c->keys, sizeof c->keys, "%s", keys ? keys : "");
		c->greeting_ms = (int)greeting;
	}
	pthread_mutex_unlock(&telsim_lock);
	http_reply_json(req, 200, "{\"ok\":true}");
}

static void control_reset(struct http_request *req)
{
	pthread_mutex_lock(&telsim_lock);
	buf_reset(&requests);
	fault_head = fault_tail = 0;
	snprintf(retry_after, sizeof retry_after, "1");
	ncallees = 0;
	duplicate_callbacks = reverse_callbacks = false;
	telsim_messages_reset();
	/* calls stay allocated (life threads may hold them); they are only hidden */
	pthread_mutex_unlock(&telsim_lock);
	http_reply_json(req, 200, "{\"ok\":true}");
}

static void control_requests(struct http_request *req)
{
	struct buf b;
	buf_init(&b, 256u << 20);
	pthread_mutex_lock(&telsim_lock);
	kept_err r = buf_addc(&b, '[');
	if (!r)
		r = buf_add(&b, buf_str(&requests), buf_len(&requests));
	pthread_mutex_unlock(&telsim_lock);
	if (!r)
		r = buf_addc(&b, ']');
	(void)r;
	reply_buf(req, 200, &b);
}

static void control_calls(struct http_request *req)
{
	struct buf b;
	buf_init(&b, 256u << 20);
	kept_err r = buf_addc(&b, '[');
	pthread_mutex_lock(&telsim_lock);
	for (size_t i = 0; i < ncalls && !r; i++) {
		if (i)
			r = buf_addc(&b, ',');
		if (!r)
			r = telsim_call_json(&b, calls[i]);
		if (!r) {
			b.len--; /* reopen the object: add the events */
			r = buf_printf(&b, ",\"arrived_ms\":%lld,\"started_ms\":%lld,\"events\":[%s]}",
			               calls[i]->arrived_ms, calls[i]->started_ms, buf_str(&calls[i]->log));
		}
	}
	pthread_mutex_unlock(&telsim_lock);
	if (!r)
		r = buf_addc(&b, ']');
	(void)r;
	reply_buf(req, 200, &b);
}

/* ---- routing --------------------------------------------------------------------------------- */

static bool basic_auth_ok(struct http_request *req)
{
	const char *got = http_header(req, "Authorization");
	size_t n = strlen(expected_auth);
	return got && strlen(got) == n && crypto_equal(got, expected_auth, n);
}

static void on_begin(struct http_request *req, void *cls)
{
	(void)cls;
	http_set_body_limit(req, 1u << 20);
}

static void on_handle(struct http_request *req, void *cls)
{
	(void)cls;
	const char *path = http_path(req), *method = http_method(req);
	struct route_params params;
	if (strncmp(path, "/_telsim/", 9) == 0) {
		size_t len;
		const char *body = http_body(req, &len);
		cJSON *doc = len ? cJSON_ParseWithLength(body, len) : NULL;
		if (strcmp(path, "/_telsim/hello") == 0)
			http_reply_json(req, 200, "{\"simulator\":\"kept-telsim\"}");
		else if (strcmp(path, "/_telsim/faults") == 0 && doc)
			control_faults(req, doc);
		else if (strcmp(path, "/_telsim/callees") == 0 && doc)
			control_callees(req, doc);
		else if (strcmp(path, "/_telsim/reset") == 0)
			control_reset(req);
		else if (strcmp(path, "/_telsim/requests") == 0)
			control_requests(req);
		else if (strcmp(path, "/_telsim/calls") == 0)
			control_calls(req);
		else if (strcmp(path, "/_telsim/messages") == 0)
			telsim_control_messages(req);
		else if (strcmp(path, "/_telsim/inbound") == 0 && doc)
			telsim_control_inbound(req, doc);
		else if (strcmp(path, "/_telsim/recipients") == 0 && doc)
			telsim_control_recipients(req, doc);
		else
			http_reply_json(req, 404, "{\"error\":\"no such control endpoint\"}");
		cJSON_Delete(doc);
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		http_reply_json(req, 200, "{\"status\":\"ok\"}");
		return;
	}
	bool list = route_match("/2010-04-01/Accounts/{account}/Calls.json", path, &params);
	bool one = !list && route_match("/2010-04-01/Accounts/{account}/Calls/{sid}", path, &params);
	bool texts =
	        !list && !one && route_match("/2010-04-01/Accounts/{account}/Messages.json", path, &params);
	bool text = !list && !one && !texts &&
	            route_match("/2010-04-01/Accounts/{account}/Messages/{sid}", path, &params);
	if (!list && !one && !texts && !text) {
		telsim_error(req, 404, 20404, "The requested resource was not found");
		return;
	}
	bool auth_ok =
	        basic_auth_ok(req) && strcmp(route_param(&params, "account"), telsim_cfg.account_sid) == 0;
	record_request(req, auth_ok);
	if (!auth_ok) {
		kept_err r = http_add_header(req, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
		(void)r;
		telsim_error(req, 401, 20003, "Authenticate");
		return;
	}
	if (texts || text) {
		const char *sid = route_param(&params, "sid");
		size_t n = sid ? strlen(sid) : 0;
		char bare[64];
		snprintf(bare, sizeof bare, "%.*s", n > 5 ? (int)(n - 5) : 0,
		         sid ? sid : ""); /* without ".json" */
		telsim_messages_api(req, texts, bare);
	} else if (list && strcmp(method, "POST") == 0) {
		create_call(req);
	} else if (list && strcmp(method, "GET") == 0) {
		list_calls(req);
	} else if (one && strcmp(method, "GET") == 0) {
		const char *sid = route_param(&params, "sid");
		size_t n = strlen(sid);
		char bare[64];
		snprintf(bare, sizeof bare, "%.*s", n > 5 ? (int)(n - 5) : 0, sid); /* without ".json" */
		fetch_call(req, bare);
	} else {
		telsim_error(req, 405, 20004, "Method not allowed");
	}
}

static const struct http_app app = {on_begin, on_handle, NULL};

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

int main(void)
{
	const char *listen = env_or("KEPT_TELSIM_LISTEN", "127.0.0.1:8090");
	telsim_cfg.account_sid = env_or("KEPT_TELEPHONY_ACCOUNT_SID", "AC00000000000000000000000000000000");
	telsim_cfg.auth_token = env_or("KEPT_TELEPHONY_AUTH_TOKEN", "telsim-token");
	telsim_cfg.callback_delay_ms = (int)strtol(env_or("KEPT_TELSIM_CALLBACK_DELAY_MS", "20"), NULL, 10);
	telsim_cfg.life = strcmp(env_or("KEPT_TELSIM_LIFE", "on"), "off") != 0;
	telsim_cfg.record = strcmp(env_or("KEPT_TELSIM_RECORD", "on"), "off") != 0;
	telsim_cfg.cps = (int)strtol(env_or("KEPT_TELSIM_CPS", "0"), NULL, 10);
	log_set_level(LOG_WARN);
	const char *level = getenv("KEPT_LOG_LEVEL");
	enum log_level lv;
	if (level && log_level_parse(level, &lv))
		log_set_level(lv);

	char userpwd[256];
	snprintf(userpwd, sizeof userpwd, "%s:%s", telsim_cfg.account_sid, telsim_cfg.auth_token);
	size_t b64 = crypto_base64_len(strlen(userpwd));
	expected_auth = malloc(b64 + 8);
	if (!expected_auth)
		return 1;
	memcpy(expected_auth, "Basic ", 6);
	crypto_base64((const unsigned char *)userpwd, strlen(userpwd), expected_auth + 6);
	buf_init(&requests, 256u << 20);

	const char *colon = strrchr(listen, ':');
	if (!colon) {
		fprintf(stderr, "kept-telsim: KEPT_TELSIM_LISTEN must be host:port\n");
		return 2;
	}
	char host[128];
	snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
	static const struct metrics_route routes[] = {
	        {"POST", "/2010-04-01/Accounts/{AccountSid}/Calls.json"}};
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct http_options opt = {host, (int)strtol(colon + 1, NULL, 10), 4, 30, 1u << 20, 1};
	struct http_server *srv = NULL;
	struct kept_error err;
	if (metrics_init(routes, 1) || telsim_life_init(4) || http_server_start(&opt, &app, &srv, &err)) {
		fprintf(stderr, "kept-telsim: could not start on %s\n", listen);
		return 1;
	}
	printf("kept-telsim listening on %s:%d (account %s)\n", host, http_server_port(srv),
	       telsim_cfg.account_sid);
	fflush(stdout);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	http_server_quiesce(srv);
	http_server_drain(srv, 2);
	http_server_stop(srv);
	telsim_life_stop();
	metrics_shutdown();
	return 0;
}
