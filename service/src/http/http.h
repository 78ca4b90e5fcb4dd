/*
 * http — kept's HTTP server, the only module that talks to libmicrohttpd.
 *
 * The server runs a pool of threads, each with its own epoll loop. A request
 * reaches the application in two steps, both on the same worker thread:
 *
 *   begin(req)   once the headers are in. The application routes and
 *                authenticates here and may set the body limit; if it
 *                replies (401, 404, ...) any body is discarded and the
 *                connection closed after the reply.
 *   handle(req)  once the whole body is in (at most the limit; past it the
 *                server itself answers 413). The application must reply.
 *
 * Each request owns an arena (http_arena) released when the request is over,
 * after the response has been sent; everything the application allocates for
 * the request goes there. Every response carries X-Request-Id and the
 * security headers (X-Content-Type-Options, Referrer-Policy, HSTS,
 * X-Frame-Options, and Cache-Control: no-store unless the application set
 * its own); every request ends with one access-log line and is counted in
 * the metrics under the route label the application set with
 * http_set_route().
 *
 * A watchdog thread cuts connections whose headers or body do not arrive in
 * time (struct http_options), which libmicrohttpd's idle timeout alone would
 * let trickle on for ever.
 *
 * Shutdown: http_server_quiesce() stops accepting connections,
 * http_server_drain() waits for in-flight requests (answering them with
 * Connection: close), http_server_stop() frees the server.
 */
#ifndef KEPT_HTTP_H
#define KEPT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "arena/arena.h"
#include "err/err.h"

struct http_server;
struct http_request;

struct http_app {
	void (*begin)(struct http_request *req, void *cls);
	void (*handle)(struct http_request *req, void *cls);
	void *cls;
};

struct http_options {
	const char *host;         /* numeric address or name to bind */
	int port;                 /* 0 picks a free port (see http_server_port) */
	int threads;              /* worker threads */
	int connection_timeout_s; /* idle or stalled connections are closed after this */
	size_t body_limit;        /* default cap on request bodies */
	int retry_after_s;        /* Retry-After sent with 503 */
	/* Slow clients (0: no limit): a request's headers must have arrived
	 * header_timeout_s after the connection opened (or after the previous
	 * answer on a kept-alive connection, at least connection_timeout_s), its
	 * body body_timeout_s after its headers; past that the connection is cut,
	 * however steadily the bytes trickle in. At most per_client_connections
	 * connections from one address at once. */
	int header_timeout_s;
	int body_timeout_s;
	int per_client_connections;
};

/* Starts listening. On failure *out is NULL and err says why. */
kept_err http_server_start(const struct http_options *opt, const struct http_app *app,
                           struct http_server **out, struct kept_error *err) KEPT_MUST_CHECK;

/* The port actually bound. */
int http_server_port(const struct http_server *s);

/* Stops accepting new connections; requests in flight continue. */
void http_server_quiesce(struct http_server *s);

/* Waits up to `timeout_s` for in-flight requests; true when none is left. */
bool http_server_drain(struct http_server *s, int timeout_s);

/* Closes every connection, joins the threads and frees the server (NULL: no-op). */
void http_server_stop(struct http_server *s);

/* ---- the request ---------------------------------------------------------- */

const char *http_method(const struct http_request *req);
/* The path without the query string, percent-decoded by the server. */
const char *http_path(const struct http_request *req);
/* A request header (case-insensitive name), or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* A query parameter (decoded), or NULL. */
const char *http_query(const struct http_request *req, const char *name);
const char *http_request_id(const struct http_request *req);
struct arena *http_arena(struct http_request *req);
/* A cookie the client sent (Cookie header), or NULL. */
const char *http_cookie(const struct http_request *req, const char *name);
/* The client's address (numeric, no port) into `out`; "" when unknown. */
void http_client_address(const struct http_request *req, char *out, size_t n);
/* The body received so far (all of it inside handle()); never NULL. */
const char *http_body(const struct http_request *req, size_t *len);

/* Sets this request's body cap (call from begin). */
void http_set_body_limit(struct http_request *req, size_t limit);
/* Sets the metrics route index (see metrics_init). */
void http_set_route(struct http_request *req, size_t route);
/* The path the access log writes instead of the request's (arena-owned or
 * static): a path that carries a secret, such as a personal link's token. */
void http_set_log_path(struct http_request *req, const char *path);
/* Names who made the request in the access log (an API key id, never the key). */
void http_set_actor(struct http_request *req, const char *actor);
/* Application data attached to the request (arena-owned or static). */
void http_set_app_data(struct http_request *req, void *data);
void *http_app_data(const struct http_request *req);

/* ---- replying --------------------------------------------------------------- */

/* Adds a response header (copied). Call before replying. */
kept_err http_add_header(struct http_request *req, const char *name, const char *value) KEPT_MUST_CHECK;

/* Replies with `len` bytes of `body` (copied). Only the first reply counts. */
void http_reply(struct http_request *req, int status, const char *content_type, const char *body, size_t len);

/* Replies with JSON text. */
void http_reply_json(struct http_request *req, int status, const char *json);

/* Replies with the error shape of the API:
 *   {"error": {"code": "...", "message": "...", "details": {"field": "...", ...}}}
 * at the status the error's kind maps to (the one table of kinds to statuses),
 * with Retry-After for KEPT_ERR_UNAVAILABLE. */
void http_reply_error(struct http_request *req, const struct kept_error *e);

/* Closes the connection without any answer (only kept-telsim uses this, to
 * act out a provider that drops connections). Call from handle(). */
void http_drop(struct http_request *req);

/* True once a reply has been made. */
bool http_replied(const struct http_request *req);

/* The HTTP status for an error kind. */
int http_status_for(kept_err kind);

#endif
