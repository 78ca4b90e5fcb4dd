/*
 * kept-telsim: a call's life after it is created — ringing, the callee's
 * behaviour, the TwiML conversation and the signed status callbacks.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "form/form.h"
#include "json/json.h"
#include "provider/provider.h"
#include "telsim.h"

#define MAX_QUEUE   (1u << 20)
#define MAX_THREADS 16

static struct tcall **queue;
static size_t q_head, q_tail;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;
static pthread_t threads[MAX_THREADS];
static int nthreads;

enum { EV_INITIATED = 1u << 0, EV_RINGING = 1u << 1, EV_ANSWERED = 1u << 2, EV_COMPLETED = 1u << 3 };

struct callback {
	char status[16];
	int sequence;
};

struct life {
	struct tcall *call;
	CURL *curl;
	int sequence;
	struct callback pending[8]; /* held back to be sent in reverse */
	int npending;
	bool reverse, duplicate;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
	size_t n = size * nmemb;
	return buf_add(arg, data, n) ? 0 : n;
}

static void pause_ms(void)
{
	if (telsim_cfg.callback_delay_ms > 0)
		usleep((useconds_t)telsim_cfg.callback_delay_ms * 1000);
}

/* POSTs `fields` to `url`, signed as the provider signs; the answer's body into `out`. */
static long post_signed(struct life *l, const char *url, const struct form *fields, struct buf *out)
{
	char signature[PROVIDER_SIGNATURE_LEN + 1];
	struct buf body, header;
	buf_init(&body, 1u << 16);
	buf_init(&header, 256);
	kept_err r = KEPT_OK;
	for (size_t i = 0; i < fields->count && !r; i++)
		r = form_append(&body, fields->fields[i].name, fields->fields[i].value);
	if (!r && provider_sign(telsim_cfg.auth_token, url, fields, signature) == KEPT_OK)
		r = buf_printf(&header, "X-Twilio-Signature: %s", signature);
	long status = 0;
	if (!r) {
		struct curl_slist *h = curl_slist_append(NULL, buf_str(&header));
		h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
		curl_easy_reset(l->curl);
		curl_easy_setopt(l->curl, CURLOPT_URL, url);
		curl_easy_setopt(l->curl, CURLOPT_POSTFIELDS, buf_str(&body));
		curl_easy_setopt(l->curl, CURLOPT_POSTFIELDSIZE, (long)buf_len(&body));
		curl_easy_setopt(l->curl, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(l->curl, CURLOPT_TIMEOUT, 15L);
		curl_easy_setopt(l->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(l->curl, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(l->curl, CURLOPT_WRITEDATA, out);
		if (curl_easy_perform(l->curl) == CURLE_OK)
			curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(h);
	}
	buf_free(&body);
	buf_free(&header);
	return status;
}

/* The standard parameters of every request the provider makes, plus extras. */
static size_t standard_fields(const struct tcall *c, struct form_field *f, const char *status)
{
	size_t n = 0;
	f[n++] = (struct form_field){"CallSid", c->sid};
	f[n++] = (struct form_field){"AccountSid", telsim_cfg.account_sid};
	f[n++] = (struct form_field){"From", c->from};
	f[n++] = (struct form_field){"To", c->to};
	f[n++] = (struct form_field){"Direction", "outbound-api"};
	f[n++] = (struct form_field){"ApiVersion", "2010-04-01"};
	f[n++] = (struct form_field){"CallStatus", status};
	return n;
}

static void log_event(struct tcall *c, const char *kind, const char *what, long status, const char *body)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "what", what);
	cJSON_AddNumberToObject(o, "status", (double)status);
	if (body)
		cJSON_AddStringToObject(o, "body", body);
	char *text = cJSON_PrintUnformatted(o);
	if (text)
		telsim_call_event(c, text);
	cJSON_free(text);
	cJSON_Delete(o);
}

static void send_callback(struct life *l, const char *status, int sequence)
{
	struct tcall *c = l->call;
	if (!c->status_callback)
		return;
	struct form_field f[16];
	char seq[16], ts[64], duration[16];
	telsim_rfc2822(time(NULL), ts, sizeof ts);
	snprintf(seq, sizeof seq, "%d", sequence);
	snprintf(duration, sizeof duration, "%d", c->duration);
	size_t n = standard_fields(c, f, status);
	f[n++] = (struct form_field){"Timestamp", ts};
	f[n++] = (struct form_field){"CallbackSource", "call-progress-events"};
	f[n++] = (struct form_field){"SequenceNumber", seq};
	bool final = strcmp(status, "completed") == 0 || strcmp(status, "busy") == 0 ||
	             strcmp(status, "no-answer") == 0 || strcmp(status, "failed") == 0;
	if (final) {
		f[n++] = (struct form_field){"CallDuration", duration};
		f[n++] = (struct form_field){"SipResponseCode",
		                             strcmp(status, "completed") == 0 ? "200" : "486"};
	}
	if (final && c->answered_by[0])
		f[n++] = (struct form_field){"AnsweredBy", c->answered_by};
	struct form fields = {f, n};
	for (int copy = 0; copy < (l->duplicate ? 2 : 1); copy++) {
		struct buf answer;
		buf_init(&answer, 1u << 16);
		long code = post_signed(l, c->status_callback, &fields, &answer);
		char what[48];
		snprintf(what, sizeof what, "%s #%d", status, sequence);
		log_event(c, "callback", what, code, NULL);
		buf_free(&answer);
	}
}

/* A status event: sent now, or held to be sent in reverse order at the end. */
static void event(struct life *l, unsigned bit, const char *status)
{
	struct tcall *c = l->call;
	pthread_mutex_lock(&telsim_lock);
	snprintf(c->status, sizeof c->status, "%s", status);
	pthread_mutex_unlock(&telsim_lock);
	if (!(c->events & bit))
		return;
	int seq = l->sequence++;
	if (l->reverse && l->npending < 8) {
		struct callback *p = &l->pending[l->npending++];
		snprintf(p->status, sizeof p->status, "%s", status);
		p->sequence = seq;
		return;
	}
	pause_ms();
	send_callback(l, status, seq);
}

/* The value of attribute `name` inside the first <Gather ...> tag, unescaped. */
static bool gather_action(const char *twiml, char *out, size_t n)
{
	const char *g = strstr(twiml, "<Gather");
	const char *end = g ? strchr(g, '>') : NULL;
	const char *a = g ? strstr(g, "action=\"") : NULL;
	if (!a || a > end)
		return false;
	a += 8;
	size_t o = 0;
	while (*a && *a != '"' && o + 1 < n) {
		if (strncmp(a, "&amp;", 5) == 0) {
			out[o++] = '&';
			a += 5;
		} else {
			out[o++] = *a++;
		}
	}
	out[o] = '\0';
	return true;
}

/* An answering machine: when detection answers and what it says, when the
 * message starts and whether the machine records it whole (it records
 * only after its greeting's beep). Logged as a "machine" event. */
static void machine_answers(struct tcall *c, int greeting_ms)
{
	const int detect_ms = 2000; /* Enable reports a machine about this soon */
	int starts_ms = 0;
	const char *by = "machine_start";
	if (!c->machine_detection) {
		by = "";
	} else if (!c->detect_message_end) {
		starts_ms = detect_ms < greeting_ms ? detect_ms : greeting_ms;
	} else if (greeting_ms <= c->amd_timeout_s * 1000) {
		by = "machine_end_beep";
		starts_ms = greeting_ms;
	} else {
		by = "unknown"; /* the greeting outlasted the detection */
		starts_ms = c->amd_timeout_s * 1000;
	}
	pthread_mutex_lock(&telsim_lock);
	snprintf(c->answered_by, sizeof c->answered_by, "%s", by);
	pthread_mutex_unlock(&telsim_lock);
	char event[256];
	snprintf(event, sizeof event,
	         "{\"kind\":\"machine\",\"greeting_ms\":%d,\"detection\":\"%s\",\"answered_by\":\"%s\","
	         "\"message_starts_ms\":%d,\"recorded_whole\":%s}",
	         greeting_ms,
	         !c->machine_detection   ? "none"
	         : c->detect_message_end ? "DetectMessageEnd"
	                                 : "Enable",
	         by, starts_ms, starts_ms >= greeting_ms ? "true" : "false");
	telsim_call_event(c, event);
}

/* The callee's answer to the next prompt: one key, or, when `keys` has commas,
 * the next entry ("25#": Digits 25, finished on #). False when none is left. */
static bool next_answer(const char **k, char digits[32], bool *hash)
{
	const char *p = *k;
	size_t n = strcspn(p, ",");
	if (!*p)
		return false;
	if (n >= 32)
		n = 31;
	memcpy(digits, p, n);
	digits[n] = '\0';
	*hash = n > 0 && digits[n - 1] == '#';
	if (*hash)
		digits[n - 1] = '\0';
	p += n;
	if (*p == ',')
		p++;
	*k = p;
	return true;
}

/* Answered: fetch the TwiML, then answer each <Gather> with the callee's next key. */
static void converse(struct life *l, const char *keys)
{
	struct tcall *c = l->call;
	struct form_field f[16];
	size_t n = standard_fields(c, f, "in-progress");
	if (c->machine_detection && c->answered_by[0])
		f[n++] = (struct form_field){"AnsweredBy", c->answered_by};
	struct form fields = {f, n};
	struct buf twiml;
	buf_init(&twiml, 1u << 20);
	long code = c->url ? post_signed(l, c->url, &fields, &twiml) : 0;
	log_event(c, "twiml", c->url ? "Url" : "none", code, buf_str(&twiml));
	char action[1024], digits[32];
	bool entries = strchr(keys, ',') != NULL, hash = false;
	const char *k = keys;
	while (code == 200 && gather_action(buf_str(&twiml), action, sizeof action)) {
		if (entries ? !next_answer(&k, digits, &hash) : !*k)
			break;
		if (!entries) {
			digits[0] = *k++;
			digits[1] = '\0';
			hash = false;
		}
		pause_ms();
		n = standard_fields(c, f, "in-progress");
		f[n++] = (struct form_field){"Digits", digits};
		f[n++] = (struct form_field){"FinishedOnKey", hash ? "#" : ""};
		fields.count = n;
		buf_reset(&twiml);
		code = post_signed(l, action, &fields, &twiml);
		char what[48];
		snprintf(what, sizeof what, "Digits=%s%s", digits, hash ? "#" : "");
		log_event(c, "gather", what, code, buf_str(&twiml));
	}
	buf_free(&twiml);
}

static void live(struct life *l)
{
	struct tcall *c = l->call;
	struct telsim_callee callee;
	telsim_callee(c->to, &callee);
	const char *behaviour = callee.behaviour;
	l->duplicate = telsim_duplicate_callbacks();
	l->reverse = telsim_reverse_callbacks();
	long long wait = c->started_ms - telsim_now_ms(); /* queued for the CPS limit */
	if (wait > 0)
		usleep((useconds_t)wait * 1000);
	event(l, EV_INITIATED, "initiated");
	event(l, EV_RINGING, "ringing");
	const char *final = "completed";
	if (strcmp(behaviour, "busy") == 0 || strcmp(behaviour, "no-answer") == 0 ||
	    strcmp(behaviour, "failed") == 0) {
		final = behaviour;
	} else {
		bool machine = strcmp(behaviour, "machine") == 0, silent = strcmp(behaviour, "silent") == 0;
		if (machine) {
			machine_answers(c, callee.greeting_ms);
		} else {
			pthread_mutex_lock(&telsim_lock);
			if (c->machine_detection) /* silence: detection cannot tell */
				snprintf(c->answered_by, sizeof c->answered_by, "%s",
				         silent ? "unknown" : "human");
			pthread_mutex_unlock(&telsim_lock);
		}
		event(l, EV_ANSWERED, "in-progress");
		converse(l, machine || silent ? "" : callee.keys);
		pthread_mutex_lock(&telsim_lock);
		c->duration = 20 + (int)strlen(callee.keys) * 5;
		pthread_mutex_unlock(&telsim_lock);
	}
	event(l, EV_COMPLETED, final);
	for (int i = l->npending; i-- > 0;) { /* out of order: newest first */
		pause_ms();
		send_callback(l, l->pending[i].status, l->pending[i].sequence);
	}
}

static void *life_thread(void *arg)
{
	(void)arg;
	CURL *curl = curl_easy_init();
	for (;;) {
		pthread_mutex_lock(&q_lock);
		while (q_head == q_tail && !stopping)
			pthread_cond_wait(&q_cond, &q_lock);
		if (stopping) {
			pthread_mutex_unlock(&q_lock);
			break;
		}
		struct tcall *c = queue[q_head++ % MAX_QUEUE];
		pthread_mutex_unlock(&q_lock);
		struct life l = {.call = c, .curl = curl};
		if (curl)
			live(&l);
	}
	curl_easy_cleanup(curl);
	return NULL;
}

void telsim_life_start(struct tcall *c)
{
	pthread_mutex_lock(&q_lock);
	if (q_tail - q_head < MAX_QUEUE) {
		queue[q_tail++ % MAX_QUEUE] = c;
		pthread_cond_signal(&q_cond);
	}
	pthread_mutex_unlock(&q_lock);
}

kept_err telsim_life_init(int n)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return KEPT_ERR_INTERNAL;
	queue = calloc(MAX_QUEUE, sizeof(struct tcall *));
	if (!queue)
		return KEPT_ERR_NOMEM;
	for (nthreads = 0; nthreads < n && nthreads < MAX_THREADS; nthreads++)
		if (pthread_create(&threads[nthreads], NULL, life_thread, NULL) != 0)
			return KEPT_ERR_INTERNAL;
	return KEPT_OK;
}

void telsim_life_stop(void)
{
	pthread_mutex_lock(&q_lock);
	stopping = true;
	pthread_cond_broadcast(&q_cond);
	pthread_mutex_unlock(&q_lock);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(queue);
	curl_global_cleanup();
}
