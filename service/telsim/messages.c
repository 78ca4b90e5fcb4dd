/*
 * kept-telsim: the Messages API (Messages.json), as the provider speaks it —
 * create (form body, Basic auth, Twilio's checks and error codes, 21610 for
 * a number that texted STOP), list (To, PageSize; newest first), fetch —
 * and each text's life: signed status callbacks (sent, then delivered, or
 * undelivered / failed as its recipient behaves). Texts from customers are
 * played by POST /_telsim/inbound: the provider's own opt-out handling (STOP
 * and its words opt the number out, START and its words back in), then the
 * signed webhook to the number's messaging URL, whose TwiML <Message> reply
 * is "delivered" back to the sender and recorded.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "form/form.h"
#include "json/json.h"
#include "provider/provider.h"
#include "telsim.h"
#include "text/text.h"

#define MAX_MESSAGES   4096
#define MAX_OPT_OUTS   256
#define MAX_RECIPIENTS 256

struct tmessage {
	char sid[35];
	char to[32];
	char from[32];
	char *body;
	char *status_callback;
	char status[16];
	int error_code;
	int validity_s;
	bool inbound; /* a text a customer sent (recorded by /_telsim/inbound) */
	bool reply;   /* a TwiML <Message> answer to one */
	time_t created;
	struct buf log; /* callbacks sent, comma-separated JSON objects */
};

static struct tmessage *messages[MAX_MESSAGES];
static size_t nmessages;
static char opted_out[MAX_OPT_OUTS][32];
static size_t nopted;
static struct {
	char number[32];
	char behaviour[16]; /* delivered (default), undelivered, failed */
} recipients[MAX_RECIPIENTS];
static size_t nrecipients;

/* ---- the shared state (telsim_lock held) -------------------------------------------------- */

static bool is_opted_out(const char *number)
{
	for (size_t i = 0; i < nopted; i++)
		if (strcmp(opted_out[i], number) == 0)
			return true;
	return false;
}

static void set_opted_out(const char *number, bool out)
{
	for (size_t i = 0; i < nopted; i++)
		if (strcmp(opted_out[i], number) == 0) {
			if (!out)
				memmove(opted_out[i], opted_out[--nopted], sizeof opted_out[i]);
			return;
		}
	if (out && nopted < MAX_OPT_OUTS)
		snprintf(opted_out[nopted++], sizeof opted_out[0], "%s", number);
}

static const char *behaviour_of(const char *number)
{
	for (size_t i = 0; i < nrecipients; i++)
		if (strcmp(recipients[i].number, number) == 0)
			return recipients[i].behaviour;
	return "delivered";
}

/* A whole number of at most 9 digits, or -1. */
static long whole_number(const char *s)
{
	char *end = NULL;
	long v = s && *s && strlen(s) <= 9 ? strtol(s, &end, 10) : -1;
	return end && *end == '\0' && v >= 0 ? v : -1;
}

static struct tmessage *message_add(const char *to, const char *from, const char *body, const char *callback)
{
	struct tmessage *m = calloc(1, sizeof *m);
	unsigned char raw[16];
	if (!m || crypto_random(raw, sizeof raw) || nmessages == MAX_MESSAGES) {
		free(m);
		return NULL;
	}
	m->sid[0] = 'S';
	m->sid[1] = 'M';
	crypto_hex(raw, sizeof raw, m->sid + 2);
	snprintf(m->to, sizeof m->to, "%s", to);
	snprintf(m->from, sizeof m->from, "%s", from);
	m->body = strdup(body ? body : "");
	m->status_callback = callback ? strdup(callback) : NULL;
	snprintf(m->status, sizeof m->status, "queued");
	m->created = time(NULL);
	buf_init(&m->log, 1u << 16);
	messages[nmessages++] = m;
	return m;
}

static kept_err add_string(struct buf *out, const char *name, const char *v, bool comma)
{
	cJSON *s = v ? cJSON_CreateString(v) : cJSON_CreateNull();
	char *text = s ? cJSON_PrintUnformatted(s) : NULL;
	kept_err r = text ? buf_printf(out, "%s\"%s\":%s", comma ? "," : "", name, text) : KEPT_ERR_NOMEM;
	cJSON_free(text);
	cJSON_Delete(s);
	return r;
}

/* The message resource, as the provider writes it. */
static kept_err message_json(struct buf *out, const struct tmessage *m, bool events)
{
	char created[64];
	telsim_rfc2822(m->created, created, sizeof created);
	size_t chars = strlen(m->body);
	char code[16] = "null";
	if (m->error_code)
		snprintf(code, sizeof code, "%d", m->error_code);
	kept_err r = buf_printf(
	        out,
	        "{\"sid\":\"%s\",\"account_sid\":\"%s\",\"date_created\":\"%s\",\"date_updated\":\"%s\","
	        "\"date_sent\":\"%s\",\"status\":\"%s\",\"direction\":\"%s\",\"api_version\":\"2010-04-01\","
	        "\"num_segments\":\"%zu\",\"num_media\":\"0\",\"price\":null,\"price_unit\":\"USD\","
	        "\"error_code\":%s,\"messaging_service_sid\":null,"
	        "\"uri\":\"/2010-04-01/Accounts/%s/Messages/%s.json\"",
	        m->sid, telsim_cfg.account_sid, created, created, created, m->status,
	        m->inbound ? "inbound"
	        : m->reply ? "outbound-reply"
	                   : "outbound-api",
	        chars / 153 + 1, code, telsim_cfg.account_sid, m->sid);
	if (!r)
		r = add_string(out, "to", m->to, true);
	if (!r)
		r = add_string(out, "from", m->from, true);
	if (!r)
		r = add_string(out, "body", m->body, true);
	if (!r && events)
		r = buf_printf(out, ",\"validity_period\":%d,\"events\":[%s]", m->validity_s,
		               buf_str(&m->log));
	return r ? r : buf_addc(out, '}');
}

/* ---- a text's life ------------------------------------------------------------------------- */

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
	size_t n = size * nmemb;
	return buf_add(arg, data, n) ? 0 : n;
}

/* POSTs `fields` to `url`, signed as the provider signs; the answer into `out`. */
static long post_signed(const char *url, const struct form *fields, struct buf *out)
{
	char signature[PROVIDER_SIGNATURE_LEN + 1], header[64];
	struct buf body;
	buf_init(&body, 1u << 16);
	kept_err r = KEPT_OK;
	for (size_t i = 0; i < fields->count && !r; i++)
		r = form_append(&body, fields->fields[i].name, fields->fields[i].value);
	long status = 0;
	CURL *curl = curl_easy_init();
	if (!r && curl && provider_sign(telsim_cfg.auth_token, url, fields, signature) == KEPT_OK) {
		snprintf(header, sizeof header, "X-Twilio-Signature: %s", signature);
		struct curl_slist *h = curl_slist_append(NULL, header);
		h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
		curl_easy_setopt(curl, CURLOPT_URL, url);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, buf_str(&body));
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)buf_len(&body));
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, 15L);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
		if (curl_easy_perform(curl) == CURLE_OK)
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(h);
	}
	curl_easy_cleanup(curl);
	buf_free(&body);
	return status;
}

static void status_callback(struct tmessage *m, const char *status, int error_code)
{
	char code[16];
	pthread_mutex_lock(&telsim_lock);
	snprintf(m->status, sizeof m->status, "%s", status);
	m->error_code = error_code;
	pthread_mutex_unlock(&telsim_lock);
	if (!m->status_callback)
		return;
	snprintf(code, sizeof code, "%d", error_code);
	struct form_field f[10];
	size_t n = 0;
	f[n++] = (struct form_field){"AccountSid", telsim_cfg.account_sid};
	f[n++] = (struct form_field){"ApiVersion", "2010-04-01"};
	f[n++] = (struct form_field){"From", m->from};
	f[n++] = (struct form_field){"MessageSid", m->sid};
	f[n++] = (struct form_field){"MessageStatus", status};
	f[n++] = (struct form_field){"SmsSid", m->sid};
	f[n++] = (struct form_field){"SmsStatus", status};
	f[n++] = (struct form_field){"To", m->to};
	if (error_code)
		f[n++] = (struct form_field){"ErrorCode", code};
	struct form fields = {f, n};
	struct buf answer;
	buf_init(&answer, 1u << 16);
	long got = post_signed(m->status_callback, &fields, &answer);
	buf_free(&answer);
	char event[96];
	snprintf(event, sizeof event, "{\"kind\":\"callback\",\"status\":\"%s\",\"answer\":%ld}", status,
	         got);
	pthread_mutex_lock(&telsim_lock);
	kept_err r = buf_len(&m->log) ? buf_addc(&m->log, ',') : KEPT_OK;
	if (!r)
		r = buf_adds(&m->log, event);
	(void)r;
	pthread_mutex_unlock(&telsim_lock);
}

static void *message_life(void *arg)
{
	struct tmessage *m = arg;
	pthread_mutex_lock(&telsim_lock);
	char behaviour[16];
	snprintf(behaviour, sizeof behaviour, "%s", behaviour_of(m->to));
	pthread_mutex_unlock(&telsim_lock);
	int delay = telsim_cfg.callback_delay_ms > 0 ? telsim_cfg.callback_delay_ms : 1;
	usleep((useconds_t)delay * 1000);
	if (strcmp(behaviour, "failed") == 0) {
		status_callback(m, "failed", 30008);
		return NULL;
	}
	status_callback(m, "sent", 0);
	usleep((useconds_t)delay * 1000);
	if (strcmp(behaviour, "undelivered") == 0)
		status_callback(m, "undelivered", 30003);
	else
		status_callback(m, "delivered", 0);
	return NULL;
}

static void start_life(struct tmessage *m)
{
	pthread_t t;
	if (telsim_cfg.life && pthread_create(&t, NULL, message_life, m) == 0)
		pthread_detach(t);
}

/* ---- the REST API -------------------------------------------------------------------------- */

static void reply_buf(struct http_request *req, int status, struct buf *b)
{
	http_reply(req, status, "application/json", buf_str(b), buf_len(b));
	buf_free(b);
}

static bool checks_pass(struct http_request *req, const struct form *f)
{
	const char *to = form_get(f, "To"), *from = form_get(f, "From"), *body = form_get(f, "Body");
	const char *service = form_get(f, "MessagingServiceSid"), *validity = form_get(f, "ValidityPeriod");
	int code = 0;
	const char *why = NULL;
	if (!to)
		code = 21604, why = "A 'To' phone number is required.";
	else if (!text_is_e164(to, strlen(to)))
		code = 21211, why = "The 'To' number is not a valid phone number.";
	else if (!from && !service)
		code = 21603, why = "A 'From' phone number is required.";
	else if (from && !text_is_e164(from, strlen(from)))
		code = 21212, why = "Invalid 'From' Phone Number";
	else if (!body && !form_get(f, "MediaUrl"))
		code = 21602, why = "Message body is required.";
	else if (body && text_utf8_length(body, strlen(body)) > 1600)
		code = 21617, why = "The concatenated message body exceeds the 1600 character limit.";
	else if (validity && (strspn(validity, "0123456789") != strlen(validity) ||
	                      whole_number(validity) < 1 || whole_number(validity) > 36000))
		code = 21623, why = "ValidityPeriod must be an integer from 1 to 36000.";
	if (!code)
		return true;
	telsim_error(req, 400, code, why);
	return false;
}

static void create_message(struct http_request *req)
{
	struct form f;
	char fault_name[16];
	const char *fault;
	if (!telsim_create_begin(req, &f, fault_name, &fault))
		return;
	if (!checks_pass(req, &f))
		return;
	pthread_mutex_lock(&telsim_lock);
	bool out = is_opted_out(form_get(&f, "To"));
	struct tmessage *m =
	        out ? NULL
	            : message_add(form_get(&f, "To"), form_get(&f, "From") ? form_get(&f, "From") : "",
	                          form_get(&f, "Body"), form_get(&f, "StatusCallback"));
	if (m && form_get(&f, "ValidityPeriod"))
		m->validity_s = (int)whole_number(form_get(&f, "ValidityPeriod"));
	pthread_mutex_unlock(&telsim_lock);
	if (out) {
		telsim_error(req, 400, 21610, "Attempt to send to unsubscribed recipient");
		return;
	}
	if (!m) {
		telsim_error(req, 500, 20500, "out of memory");
		return;
	}
	start_life(m);
	if (fault && telsim_fault_after(req, fault))
		return;
	struct buf b;
	buf_init(&b, 1u << 16);
	pthread_mutex_lock(&telsim_lock);
	kept_err r = message_json(&b, m, false);
	pthread_mutex_unlock(&telsim_lock);
	(void)r;
	reply_buf(req, 201, &b);
}

static void list_messages(struct http_request *req)
{
	const char *to = http_query(req, "To");
	const char *size = http_query(req, "PageSize");
	long page_size = size ? strtol(size, NULL, 10) : 50;
	if (page_size < 1 || page_size > 1000)
		page_size = 50;
	struct buf b;
	buf_init(&b, 16u << 20);
	kept_err r = buf_adds(&b, "{\"messages\":[");
	long n = 0;
	pthread_mutex_lock(&telsim_lock);
	for (size_t i = nmessages; i-- > 0 && n < page_size && !r;) { /* newest first */
		if (messages[i]->inbound || (to && strcmp(messages[i]->to, to) != 0))
			continue;
		if (n++)
			r = buf_addc(&b, ',');
		if (!r)
			r = message_json(&b, messages[i], false);
	}
	pthread_mutex_unlock(&telsim_lock);
	if (!r)
		r = buf_printf(
		        &b,
		        "],\"page\":0,\"page_size\":%ld,\"start\":0,\"end\":%ld,\"previous_page_uri\":null,"
		        "\"next_page_uri\":null,\"uri\":\"/2010-04-01/Accounts/%s/Messages.json\"}",
		        page_size, n ? n - 1 : 0, telsim_cfg.account_sid);
	(void)r;
	reply_buf(req, 200, &b);
}

static void fetch_message(struct http_request *req, const char *sid)
{
	struct buf b;
	buf_init(&b, 1u << 16);
	bool found = false;
	pthread_mutex_lock(&telsim_lock);
	for (size_t i = 0; i < nmessages && !found; i++)
		if (strcmp(messages[i]->sid, sid) == 0) {
			found = true;
			kept_err r = message_json(&b, messages[i], false);
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

void telsim_messages_api(struct http_request *req, bool list, const char *sid)
{
	const char *method = http_method(req);
	if (list && strcmp(method, "POST") == 0)
		create_message(req);
	else if (list && strcmp(method, "GET") == 0)
		list_messages(req);
	else if (!list && strcmp(method, "GET") == 0)
		fetch_message(req, sid);
	else
		telsim_error(req, 405, 20004, "Method not allowed");
}

/* ---- control ----------------------------------------------------------------------------------- */

/* The provider's own keywords (whole message, any case). */
static const char *keyword_of(const char *body)
{
	static const char *const stop[] = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL",
	                                   "END",  "QUIT",    "REVOKE",      "OPTOUT"};
	static const char *const start[] = {"START", "YES", "UNSTOP"};
	char word[32] = "";
	size_t k = 0;
	for (const char *p = body; p && *p && k + 1 < sizeof word; p++)
		if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '.' && *p != '!')
			word[k++] = *p;
	word[k] = '\0';
	for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++)
		if (strcasecmp(word, stop[i]) == 0)
			return "stop";
	for (size_t i = 0; i < sizeof start / sizeof start[0]; i++)
		if (strcasecmp(word, start[i]) == 0)
			return "start";
	return NULL;
}

/* The text of the first <Message>...</Message> of a TwiML answer, unescaped (NULL: none). */
static char *twiml_message(const char *twiml)
{
	const char *a = strstr(twiml, "<Message>"), *b = a ? strstr(a, "</Message>") : NULL;
	if (!a || !b)
		return NULL;
	a += 9;
	char *out = calloc(1, (size_t)(b - a) + 1);
	size_t o = 0;
	static const char *const entities[][2] = {
	        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
	while (out && a < b) {
		bool done = false;
		for (size_t i = 0; i < 5 && !done; i++)
			if (strncmp(a, entities[i][0], strlen(entities[i][0])) == 0) {
				out[o++] = entities[i][1][0];
				a += strlen(entities[i][0]);
				done = true;
			}
		if (!done)
			out[o++] = *a++;
	}
	return out;
}

/* POST /_telsim/inbound {"from", "to", "body", "url"}: a customer texts kept's number. */
void telsim_control_inbound(struct http_request *req, const cJSON *doc)
{
	const char *from = json_get_string(doc, "from"), *to = json_get_string(doc, "to");
	const char *body = json_get_string(doc, "body"), *url = json_get_string(doc, "url");
	url = url ? url : getenv("KEPT_TELSIM_SMS_WEBHOOK");
	if (!from || !to || !body || !url) {
		http_reply_json(
		        req, 400,
		        "{\"error\":\"from, to, body and url (or KEPT_TELSIM_SMS_WEBHOOK) are needed\"}");
		return;
	}
	const char *keyword = keyword_of(body);
	pthread_mutex_lock(&telsim_lock);
	if (keyword)
		set_opted_out(from, strcmp(keyword, "stop") == 0);
	struct tmessage *in = message_add(to, from, body, NULL);
	if (in)
		in->inbound = true, snprintf(in->status, sizeof in->status, "received");
	pthread_mutex_unlock(&telsim_lock);
	if (!in) {
		http_reply_json(req, 500, "{\"error\":\"out of memory\"}");
		return;
	}
	struct form_field f[] = {{"AccountSid", telsim_cfg.account_sid},
	                         {"ApiVersion", "2010-04-01"},
	                         {"Body", body},
	                         {"From", from},
	                         {"MessageSid", in->sid},
	                         {"NumMedia", "0"},
	                         {"SmsSid", in->sid},
	                         {"SmsStatus", "received"},
	                         {"To", to}};
	struct form fields = {f, sizeof f / sizeof f[0]};
	struct buf answer;
	buf_init(&answer, 1u << 16);
	long status = post_signed(url, &fields, &answer);
	char *reply = status == 200 ? twiml_message(buf_str(&answer)) : NULL;
	/* a reply goes out unless the number has opted out (STOP's own confirmation is the provider's) */
	pthread_mutex_lock(&telsim_lock);
	struct tmessage *out = reply && !is_opted_out(from) ? message_add(from, to, reply, NULL) : NULL;
	if (out)
		out->reply = true, snprintf(out->status, sizeof out->status, "delivered");
	pthread_mutex_unlock(&telsim_lock);
	struct buf b;
	buf_init(&b, 1u << 16);
	kept_err r = buf_printf(&b, "{\"sid\":\"%s\",\"status\":%ld", in->sid, status);
	if (!r)
		r = add_string(&b, "twiml", buf_str(&answer), true);
	if (!r)
		r = add_string(&b, "reply", reply, true);
	if (!r)
		r = buf_addc(&b, '}');
	free(reply);
	buf_free(&answer);
	reply_buf(req, r ? 500 : 200, &b);
}

/* POST /_telsim/recipients {"+1555...": {"behaviour": "delivered|undelivered|failed"}, ...} */
void telsim_control_recipients(struct http_request *req, const cJSON *doc)
{
	const cJSON *item;
	pthread_mutex_lock(&telsim_lock);
	cJSON_ArrayForEach (item, doc) {
		const char *behaviour = json_get_string(item, "behaviour");
		size_t i = 0;
		while (i < nrecipients && strcmp(recipients[i].number, item->string) != 0)
			i++;
		if (i == MAX_RECIPIENTS)
			break;
		if (i == nrecipients)
			nrecipients++;
		snprintf(recipients[i].number, sizeof recipients[i].number, "%s", item->string);
		snprintf(recipients[i].behaviour, sizeof recipients[i].behaviour, "%s",
		         behaviour ? behaviour : "delivered");
	}
	pthread_mutex_unlock(&telsim_lock);
	http_reply_json(req, 200, "{\"ok\":true}");
}

/* GET /_telsim/messages: every text, in and out, with its callbacks. */
void telsim_control_messages(struct http_request *req)
{
	struct buf b;
	buf_init(&b, 64u << 20);
	kept_err r = buf_addc(&b, '[');
	pthread_mutex_lock(&telsim_lock);
	for (size_t i = 0; i < nmessages && !r; i++) {
		r = i ? buf_addc(&b, ',') : KEPT_OK;
		r = r ? r : message_json(&b, messages[i], true);
	}
	pthread_mutex_unlock(&telsim_lock);
	if (!r)
		r = buf_addc(&b, ']');
	(void)r;
	reply_buf(req, 200, &b);
}

/* Forgets recipients and opt-outs (texts stay: a life thread may hold one). */
void telsim_messages_reset(void)
{
	nrecipients = 0;
	nopted = 0;
}
