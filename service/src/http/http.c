#include "http.h"

#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf/buf.h"
#include "crypto/crypto.h"
#include "json/json.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "text/text.h"

/* Per-request arena cap: generous for JSON work, bounded against abuse.
 * Request bodies live in their own capped buffer, not in the arena. */
#define HTTP_ARENA_CAP (64u << 20)
/* A body past its limit is read and dropped up to this many extra bytes so
 * the client can see the 413; beyond that the connection is cut. */
#define HTTP_DRAIN_SLACK (1u << 20)

/* A connection the watchdog keeps an eye on: its socket and the instant by
 * which the bytes it waits for must have arrived (0: it waits for none). */
struct watch {
	MHD_socket fd;
	uint64_t deadline_ns;
	bool cut;
	struct watch *prev, *next;
};

struct http_server {
	struct MHD_Daemon *daemon;
	MHD_socket listen_fd; /* handed back by quiesce; closed after the daemon stops */
	struct http_app app;
	struct http_options opt;
	atomic_int inflight;
	atomic_bool closing;
	/* the watchdog: connections by deadline, checked every WATCH_PERIOD_MS */
	pthread_mutex_t watch_lock;
	struct watch *watches;
	pthread_t watchdog;
	bool watchdog_started;
	atomic_bool watchdog_stop;
};

#define WATCH_PERIOD_MS 200

struct header {
	const char *name;
	const char *value;
	struct header *next;
};

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct arena *arena;
	const char *method;
	const char *path;
	char id[68];
	uint64_t start_ns;
	struct buf body;
	size_t body_limit;
	size_t received;
	bool overflow;
	size_t route;
	const char *log_path;
	const char *actor;
	void *app_data;
	bool replied;
	bool drop; /* close the connection without an answer (kept-telsim's faults) */
	bool queued;
	int status;
	const char *content_type;
	const char *reply_body;
	size_t reply_len;
	struct header *headers;
};

/* The one table of error kinds to HTTP statuses. */
static const int kind_status[KEPT_ERR__COUNT] = {
        [KEPT_OK] = 200,
        [KEPT_ERR_INVALID] = 400,
        [KEPT_ERR_UNAUTHENTICATED] = 401,
        [KEPT_ERR_FORBIDDEN] = 403,
        [KEPT_ERR_NOT_FOUND] = 404,
        [KEPT_ERR_METHOD] = 405,
        [KEPT_ERR_CONFLICT] = 409,
        [KEPT_ERR_PRECONDITION] = 412,
        [KEPT_ERR_TOO_LARGE] = 413,
        [KEPT_ERR_MEDIA_TYPE] = 415,
        [KEPT_ERR_RULE] = 422,
        [KEPT_ERR_RATE_LIMITED] = 429,
        [KEPT_ERR_UNAVAILABLE] = 503,
        [KEPT_ERR_RETRY] = 503,
        [KEPT_ERR_NOMEM] = 500,
        [KEPT_ERR_INTERNAL] = 500,
};

int http_status_for(kept_err kind)
{
	if ((unsigned)kind >= KEPT_ERR__COUNT || !kind_status[kind])
		return 500;
	return kind_status[kind];
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the watchdog: deadlines for slow clients ------------------------------------- */

static uint64_t deadline_in(int seconds)
{
	return seconds > 0 ? now_ns() + (uint64_t)seconds * 1000000000u : 0;
}

/* MHD_OPTION_NOTIFY_CONNECTION: a connection opens (its headers are due) or
 * closes. MHD calls "closed" before it closes the socket, so under the lock a
 * watched descriptor is always still the connection's own. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	struct watch *w = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
		        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		w = info ? calloc(1, sizeof *w) : NULL;
		if (!w)
			return; /* unwatched: the idle timeout still applies */
		w->fd = info->connect_fd;
		pthread_mutex_lock(&srv->watch_lock);
		w->deadline_ns = deadline_in(srv->opt.header_timeout_s);
		w->next = srv->watches;
		if (w->next)
			w->next->prev = w;
		srv->watches = w;
		pthread_mutex_unlock(&srv->watch_lock);
		*socket_context = w;
		return;
	}
	if (!w)
		return;
	pthread_mutex_lock(&srv->watch_lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		srv->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&srv->watch_lock);
	free(w);
	*socket_context = NULL;
}

/* Sets what the connection waits for next: `seconds` from now (0: nothing). */
static void watch_set(struct http_server *srv, struct MHD_Connection *conn, int seconds)
{
	const union MHD_ConnectionInfo *info =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct watch *w = info ? info->socket_context : NULL;
	if (!w)
		return;
	pthread_mutex_lock(&srv->watch_lock);
	w->deadline_ns = deadline_in(seconds);
	pthread_mutex_unlock(&srv->watch_lock);
}

static void *watchdog_main(void *arg)
{
	struct http_server *srv = arg;
	while (!atomic_load(&srv->watchdog_stop)) {
		struct timespec ts = {0, WATCH_PERIOD_MS * 1000000L};
		nanosleep(&ts, NULL);
		uint64_t now = now_ns();
		int cut = 0;
		pthread_mutex_lock(&srv->watch_lock);
		for (struct watch *w = srv->watches; w; w = w->next) {
			if (w->cut || !w->deadline_ns || now < w->deadline_ns)
				continue;
			shutdown(w->fd, SHUT_RDWR); /* MHD sees the end of the stream and closes it */
			w->cut = true;
			cut++;
		}
		pthread_mutex_unlock(&srv->watch_lock);
		if (cut)
			log_msg(LOG_WARN, "slow_client_cut", "%d connection%s sent no whole request in time",
			        cut, cut == 1 ? "" : "s");
	}
	return NULL;
}

/* ---- request lifecycle ---------------------------------------------------------- */

static bool request_id_acceptable(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          c == '-' || c == '_' || c == '.';
		if (!ok)
			return false;
	}
	return true;
}

static void assign_request_id(struct http_request *req)
{
	const char *given = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-Id");
	if (request_id_acceptable(given)) {
		snprintf(req->id, sizeof req->id, "%s", given);
		return;
	}
	unsigned char raw[12];
	if (crypto_random(raw, sizeof raw)) {
		static atomic_uint_fast64_t counter;
		snprintf(req->id, sizeof req->id, "seq-%llu",
		         (unsigned long long)atomic_fetch_add(&counter, 1));
		return;
	}
	crypto_hex(raw, sizeof raw, req->id);
}

static struct http_request *request_new(struct http_server *srv, struct MHD_Connection *conn, const char *url,
                                        const char *method)
{
	struct http_request *req = calloc(1, sizeof *req);
	if (!req)
		return NULL;
	req->arena = arena_new(HTTP_ARENA_CAP);
	if (!req->arena) {
		free(req);
		return NULL;
	}
	req->srv = srv;
	req->conn = conn;
	req->start_ns = now_ns();
	req->method = method;
	req->path = url;
	req->body_limit = srv->opt.body_limit;
	req->route = SIZE_MAX;
	assign_request_id(req);
	atomic_fetch_add(&srv->inflight, 1);
	return req;
}

static void access_log(const struct http_request *req, double seconds, bool completed)
{
	struct log_line l;
	log_begin(&l, LOG_INFO, "request");
	log_str(&l, "method", req->method);
	log_str(&l, "path", req->log_path ? req->log_path : req->path);
	log_int(&l, "status", req->replied ? req->status : 0);
	log_int(&l, "bytes", (long long)req->reply_len);
	log_ms(&l, "ms", seconds * 1000.0);
	if (req->actor)
		log_str(&l, "actor", req->actor);
	if (!completed)
		log_str(&l, "outcome", "aborted");
	log_end(&l);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;
	if (!req)
		return;
	*con_cls = NULL;
	/* a kept-alive connection: the next request's headers are due in time too */
	if (srv->opt.header_timeout_s > 0)
		watch_set(srv, conn,
		          srv->opt.header_timeout_s > srv->opt.connection_timeout_s
		                  ? srv->opt.header_timeout_s
		                  : srv->opt.connection_timeout_s);
	double seconds = (double)(now_ns() - req->start_ns) / 1e9;
	log_set_request_id(req->id);
	metrics_http_observe(req->route, req->method, req->replied ? req->status : 0, seconds);
	access_log(req, seconds, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	log_set_request_id(NULL);
	buf_free(&req->body);
	arena_free(req->arena);
	free(req);
	atomic_fetch_sub(&srv->inflight, 1);
}

/* ---- replying ------------------------------------------------------------------------ */

/* On every answer: no content sniffing, HTTPS only once seen over it
 * (behind the TLS proxy), no framing, and — for answers that did not say
 * otherwise — no referrer, no caching of what may be personal data and a
 * policy that lets nothing frame it (the dashboard and the self-service page
 * set fuller ones of their own; the page a referrer to its own origin). */
static enum MHD_Result add_security_headers(struct MHD_Response *resp, bool cache_set, bool csp_set,
                                            bool referrer_set)
{
	static const char *const headers[][2] = {
	        {"X-Content-Type-Options", "nosniff"},
	        {"Strict-Transport-Security", "max-age=63072000; includeSubDomains"},
	        {"X-Frame-Options", "DENY"},
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
		if (!MHD_add_response_header(resp, headers[i][0], headers[i][1]))
			return MHD_NO;
	if (!referrer_set && !MHD_add_response_header(resp, "Referrer-Policy", "no-referrer"))
		return MHD_NO;
	if (!csp_set && !MHD_add_response_header(resp, "Content-Security-Policy", "frame-ancestors 'none'"))
		return MHD_NO;
	return cache_set ? MHD_YES : MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static enum MHD_Result queue(struct http_request *req)
{
	req->queued = true;
	struct MHD_Response *resp = MHD_create_response_from_buffer(req->reply_len, (void *)req->reply_body,
	                                                            MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	enum MHD_Result ok = MHD_add_response_header(resp, "X-Request-Id", req->id);
	if (ok && req->content_type)
		ok = MHD_add_response_header(resp, "Content-Type", req->content_type);
	bool cache_set = false, csp_set = false, referrer_set = false;
	for (const struct header *h = req->headers; ok && h; h = h->next) {
		ok = MHD_add_response_header(resp, h->name, h->value);
		cache_set = cache_set || strcasecmp(h->name, "Cache-Control") == 0;
		csp_set = csp_set || strcasecmp(h->name, "Content-Security-Policy") == 0;
		referrer_set = referrer_set || strcasecmp(h->name, "Referrer-Policy") == 0;
	}
	ok = ok && add_security_headers(resp, cache_set, csp_set, referrer_set);
	if (ok && atomic_load(&req->srv->closing))
		ok = MHD_add_response_header(resp, "Connection", "close");
	if (ok)
		ok = MHD_queue_response(req->conn, (unsigned)req->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static const char fallback_error[] =
        "{\"error\":{\"code\":\"internal_error\",\"message\":\"internal error\",\"details\":{}}}";

kept_err http_add_header(struct http_request *req, const char *name, const char *value)
{
	struct header *h = arena_alloc(req->arena, sizeof *h);
	if (!h)
		return KEPT_ERR_NOMEM;
	h->name = arena_strdup(req->arena, name);
	h->value = arena_strdup(req->arena, value);
	if (!h->name || !h->value)
		return KEPT_ERR_NOMEM;
	h->next = req->headers;
	req->headers = h;
	return KEPT_OK;
}

void http_reply(struct http_request *req, int status, const char *content_type, const char *body, size_t len)
{
	if (req->replied)
		return;
	/* The body is queued after the handler returns, so it is copied now:
	 * the caller may free its own buffer as soon as this returns. */
	char *copy = body ? arena_strndup(req->arena, body, len) : NULL;
	if (body && !copy) {
		status = 500;
		copy = (char *)fallback_error;
		len = sizeof fallback_error - 1;
	}
	req->replied = true;
	req->status = status;
	req->content_type = content_type;
	req->reply_body = copy ? copy : "";
	req->reply_len = copy ? len : 0;
}

void http_reply_json(struct http_request *req, int status, const char *json)
{
	http_reply(req, status, "application/json", json, strlen(json));
}

static cJSON *error_details(const struct kept_error *e)
{
	cJSON *details = e->details_json ? cJSON_Parse(e->details_json) : NULL;
	if (!cJSON_IsObject(details)) {
		cJSON_Delete(details);
		details = cJSON_CreateObject();
	}
	if (details && e->field[0])
		cJSON_AddStringToObject(details, "field", e->field);
	return details;
}

/* The seconds a 429 names in its details ({"retry_after": n}), at least 1. */
static int retry_after_of(const struct kept_error *e)
{
	cJSON *d = e->details_json ? cJSON_Parse(e->details_json) : NULL;
	long long n = 1;
	if (!json_get_int(d, "retry_after", &n) || n < 1)
		n = 1;
	cJSON_Delete(d);
	return (int)(n > 86400 ? 86400 : n);
}

void http_reply_error(struct http_request *req, const struct kept_error *e)
{
	int status = http_status_for(e->kind);
	bool internal = status == 500;
	cJSON *root = json_object_in(req->arena);
	cJSON *error = root ? cJSON_AddObjectToObject(root, "error") : NULL;
	char *text = NULL;
	if (error) {
		cJSON_AddStringToObject(error, "code", internal || !e->code[0] ? "internal_error" : e->code);
		cJSON_AddStringToObject(error, "message", internal ? "internal error" : e->message);
		cJSON *details = internal ? cJSON_CreateObject() : error_details(e);
		if (details)
			cJSON_AddItemToObject(error, "details", details);
		text = json_print(req->arena, root);
	}
	if (status == 503 || status == 429) {
		char seconds[16];
		snprintf(seconds, sizeof seconds, "%d",
		         status == 429 ? retry_after_of(e) : req->srv->opt.retry_after_s);
		if (http_add_header(req, "Retry-After", seconds))
			text = NULL;
	}
	if (status == 405 && e->details_json) {
		/* the router passes the allowed methods as details {"allow": "GET, POST"} */
		cJSON *d = cJSON_Parse(e->details_json);
		const char *allow = json_get_string(d, "allow");
		if (allow && http_add_header(req, "Allow", allow))
			text = NULL;
		cJSON_Delete(d);
	}
	http_reply_json(req, status, text ? text : fallback_error);
}

void http_drop(struct http_request *req)
{
	req->drop = true;
	req->replied = true;
	req->status = 0;
}

bool http_replied(const struct http_request *req)
{
	return req->replied;
}

/* ---- the access handler ----------------------------------------------------------- */

static void reply_too_large(struct http_request *req)
{
	struct kept_error e;
	kept_fail(&e, KEPT_ERR_TOO_LARGE, "body_too_large", "", "the request body is larger than %zu bytes",
	          req->body_limit);
	http_reply_error(req, &e);
}

static bool declared_too_large(const struct http_request *req)
{
	const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Length");
	if (!cl)
		return false;
	char *end;
	unsigned long long n = strtoull(cl, &end, 10);
	return *end == '\0' && n > req->body_limit;
}

static bool has_body(const struct http_request *req)
{
	const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Length");
	const char *te = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Transfer-Encoding");
	return te || (cl && strcmp(cl, "0") != 0);
}

/*
 * A reply made in begin() is queued at once when a body is on its way: the
 * server then skips the body and closes the connection, so nobody uploads a
 * large file only to be told 401. Without a body the reply waits for the
 * next callback, which comes at once, and the connection stays open.
 */
/* ---- escapes ------------------------------------------------------------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The path's and the query's %HH escapes, decoded in place as libmicrohttpd's
 * own unescaper does, except %00: a NUL would end the C string there and
 * "/v1/customers/1%00junk" would name customer 1. It is left as the three
 * characters "%00", and first_call() refuses the request. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi = r[0] == '%' ? hex_value(r[1]) : -1;
		int lo = hi >= 0 ? hex_value(r[2]) : -1;
		if (lo >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static enum MHD_Result find_nul_escape(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	bool *found = cls;
	if (strstr(key, "%00") || (value && strstr(value, "%00"))) {
		*found = true;
		return MHD_NO;
	}
	return MHD_YES;
}

/* True when the path or a query parameter held %00 (see unescape()). */
static bool has_nul_escape(struct MHD_Connection *conn, const char *url)
{
	bool found = strstr(url, "%00") != NULL;
	if (!found)
		(void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, find_nul_escape, &found);
	return found;
}

static void reply_nul_escape(struct http_request *req)
{
	struct kept_error e;
	kept_fail(&e, KEPT_ERR_INVALID, "invalid_escape", "",
	          "a path or query may not hold %%00 (a NUL byte)");
	http_reply_error(req, &e);
}

static bool utf8(const char *s)
{
	return !s || text_utf8_valid(s, strlen(s));
}

static enum MHD_Result find_invalid_utf8(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
	(void)kind;
	bool *found = cls;
	*found = !utf8(key) || !utf8(value);
	return *found ? MHD_NO : MHD_YES;
}

/* True when the (decoded) path or a query parameter is not UTF-8 text: the
 * database would refuse it, so it is refused here, with a client's error. */
static bool has_invalid_utf8(struct MHD_Connection *conn, const char *url)
{
	bool found = !utf8(url);
	if (!found)
		(void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, find_invalid_utf8, &found);
	return found;
}

static void reply_invalid_utf8(struct http_request *req)
{
	struct kept_error e;
	kept_fail(&e, KEPT_ERR_INVALID, "invalid_utf8", "", "a path or query must be UTF-8 text");
	http_reply_error(req, &e);
}

static enum MHD_Result first_call(struct http_server *srv, struct MHD_Connection *conn, const char *url,
                                  const char *method, void **con_cls)
{
	struct http_request *req = request_new(srv, conn, url, method);
	if (!req)
		return MHD_NO;
	*con_cls = req;
	watch_set(srv, conn, has_body(req) ? srv->opt.body_timeout_s : 0);
	log_set_request_id(req->id);
	if (has_nul_escape(conn, url))
		reply_nul_escape(req);
	else if (has_invalid_utf8(conn, url))
		reply_invalid_utf8(req);
	else
		srv->app.begin(req, srv->app.cls);
	if (!req->replied && declared_too_large(req))
		reply_too_large(req);
	buf_init(&req->body, req->body_limit);
	enum MHD_Result r = req->replied && has_body(req) ? queue(req) : MHD_YES;
	log_set_request_id(NULL);
	return r;
}

static enum MHD_Result take_upload(struct http_request *req, const char *data, size_t *size)
{
	req->received += *size;
	if (!req->overflow && buf_add(&req->body, data, *size) != KEPT_OK) {
		req->overflow = true;
		buf_free(&req->body);
	}
	*size = 0;
	if (req->overflow && req->received - req->body_limit > HTTP_DRAIN_SLACK)
		return MHD_NO; /* a client that keeps sending after its limit is cut off */
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;
	(void)version;
	if (!req)
		return first_call(srv, conn, url, method, con_cls);
	if (req->queued)
		return MHD_YES; /* the server discards the rest */
	if (req->replied) {     /* deferred from begin(); queue at the final call */
		if (*upload_data_size) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		return queue(req);
	}
	if (*upload_data_size)
		return take_upload(req, upload_data, upload_data_size);
	watch_set(srv, conn, 0); /* the whole request is in */
	log_set_request_id(req->id);
	if (req->overflow) {
		reply_too_large(req);
	} else {
		srv->app.handle(req, srv->app.cls);
		if (req->drop) {
			log_set_request_id(NULL);
			return MHD_NO;
		}
		if (!req->replied) {
			struct kept_error e;
			kept_fail(&e, KEPT_ERR_INTERNAL, "internal_error", "", "no reply");
			http_reply_error(req, &e);
		}
	}
	enum MHD_Result r = queue(req);
	log_set_request_id(NULL);
	return r;
}

/* ---- the server ----------------------------------------------------------------------- */

static void on_mhd_log(void *cls, const char *fmt, va_list ap) KEPT_PRINTF(2, 0);

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_msg(LOG_WARN, "http_server", "%s", msg);
}

static struct MHD_Daemon *start_daemon(struct http_server *srv, const struct addrinfo *ai)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* MHD_OPTION_LISTENING_ADDRESS_REUSE is left out on purpose: left out,
	 * libmicrohttpd sets SO_REUSEADDR only, so a keptd restarted on its port
	 * binds at once despite the last one's connections in TIME_WAIT, while a
	 * second server on a port in use fails to start. 1 would add SO_REUSEPORT
	 * (two servers sharing the port's connections); 0 would drop SO_REUSEADDR
	 * (a restart refused for a minute). */
	return MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->opt.threads,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->opt.connection_timeout_s,
	        MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	        (unsigned)(srv->opt.per_client_connections > 0 ? srv->opt.per_client_connections : 0),
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64u << 10), MHD_OPTION_NOTIFY_COMPLETED,
	        on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
	        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
}

kept_err http_server_start(const struct http_options *opt, const struct http_app *app,
                           struct http_server **out, struct kept_error *err)
{
	*out = NULL;
	char port[8];
	snprintf(port, sizeof port, "%d", opt->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(opt->host, port, &hints, &ai);
	if (gai != 0)
		return kept_fail(err, KEPT_ERR_INVALID, "bad_listen_address", "KEPT_LISTEN",
		                 "cannot resolve %s: %s", opt->host, gai_strerror(gai));
	struct http_server *srv = calloc(1, sizeof *srv);
	if (!srv) {
		freeaddrinfo(ai);
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	}
	srv->app = *app;
	srv->opt = *opt;
	srv->listen_fd = MHD_INVALID_SOCKET;
	pthread_mutex_init(&srv->watch_lock, NULL);
	srv->daemon = start_daemon(srv, ai);
	freeaddrinfo(ai);
	if (srv->daemon && (opt->header_timeout_s > 0 || opt->body_timeout_s > 0))
		srv->watchdog_started = pthread_create(&srv->watchdog, NULL, watchdog_main, srv) == 0;
	if (!srv->daemon) {
		pthread_mutex_destroy(&srv->watch_lock);
		free(srv);
		return kept_fail(err, KEPT_ERR_INTERNAL, "listen_failed", "KEPT_LISTEN",
		                 "cannot listen on %s:%d (in use, or not a local address?)", opt->host,
		                 opt->port);
	}
	*out = srv;
	return KEPT_OK;
}

int http_server_port(const struct http_server *s)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return info ? info->port : -1;
}

void http_server_quiesce(struct http_server *s)
{
	atomic_store(&s->closing, true);
	if (s->listen_fd == MHD_INVALID_SOCKET)
		s->listen_fd = MHD_quiesce_daemon(s->daemon);
}

bool http_server_drain(struct http_server *s, int timeout_s)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000u;
	while (atomic_load(&s->inflight) > 0 && now_ns() < deadline) {
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return atomic_load(&s->inflight) == 0;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	if (s->watchdog_started) {
		atomic_store(&s->watchdog_stop, true);
		pthread_join(s->watchdog, NULL);
	}
	MHD_stop_daemon(s->daemon);
	if (s->listen_fd != MHD_INVALID_SOCKET)
		close(s->listen_fd);
	pthread_mutex_destroy(&s->watch_lock);
	free(s);
}

/* ---- accessors ---------------------------------------------------------------------------- */

const char *http_method(const struct http_request *req)
{
	return req->method;
}
const char *http_path(const struct http_request *req)
{
	return req->path;
}
const char *http_request_id(const struct http_request *req)
{
	return req->id;
}
struct arena *http_arena(struct http_request *req)
{
	return req->arena;
}
void http_set_route(struct http_request *req, size_t route)
{
	req->route = route;
}
void http_set_log_path(struct http_request *req, const char *path)
{
	req->log_path = path;
}
void http_set_actor(struct http_request *req, const char *actor)
{
	req->actor = actor;
}
void http_set_app_data(struct http_request *req, void *data)
{
	req->app_data = data;
}
void *http_app_data(const struct http_request *req)
{
	return req->app_data;
}

const char *http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_cookie(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

void http_client_address(const struct http_request *req, char *out, size_t n)
{
	const union MHD_ConnectionInfo *info =
	        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (n)
		out[0] = '\0';
	if (!info || !info->client_addr)
		return;
	const struct sockaddr *sa = info->client_addr;
	socklen_t len = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (getnameinfo(sa, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST) != 0 && n)
		out[0] = '\0';
}

const char *http_query(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_body(const struct http_request *req, size_t *len)
{
	*len = buf_len(&req->body);
	return buf_str(&req->body);
}

void http_set_body_limit(struct http_request *req, size_t limit)
{
	req->body_limit = limit;
}
