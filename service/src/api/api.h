/*
 * api — kept's HTTP API: the routing table, authentication and roles, and
 * one file per resource (customers.c, accounts.c, ...).
 *
 * api_init() prepares the metrics for the routing table; api_http_app()
 * gives the callbacks the http module calls for every request. Handlers see
 * a `struct api_ctx` (api/internal.h) and never touch libmicrohttpd, libpq
 * or OpenSSL directly.
 */
#ifndef KEPT_API_H
#define KEPT_API_H

#include <stddef.h>

#include "err/err.h"
#include "http/http.h"

struct link_keys;

struct api_config {
	size_t max_body_bytes;   /* JSON bodies */
	size_t max_import_bytes; /* CSV import bodies */
	/* the provider's webhooks and the call script (NULL token: webhooks refused) */
	const char *telephony_auth_token;
	const char *public_url;            /* signed URLs are this plus the request path */
	const char *business_name;         /* said in every call */
	const char *callback_number;       /* said on every path of a call */
	const char *agent_line;            /* key 2 transfers here; NULL: an agent calls back */
	const char *analytics_url;         /* reports read here (a standby, or where analytics lives);
	                                    * NULL: the operational database */
	int rate_limit;                    /* requests a second per API key; 0: no limit */
	int rate_burst;                    /* requests a key may make at once */
	const char *contact_name;          /* the natural person named in every call */
	const struct link_keys *link_keys; /* the self-service page's keys; NULL: the page is off */
};

/* Call once before serving; `cfg` must outlive the server. */
kept_err api_init(const struct api_config *cfg) KEPT_MUST_CHECK;

/* Releases what api_init made (after the server has stopped). */
void api_shutdown(void);

/* The request callbacks for http_server_start(). */
const struct http_app *api_http_app(void);

#endif
