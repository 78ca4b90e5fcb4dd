/*
 * client — the kept CLI's HTTP client (the only CLI file that includes curl).
 *
 * One request at a time to KEPT_URL with the Bearer key KEPT_API_KEY. A
 * response is returned whole (status and body); client_response_free()
 * releases it. Transport failures (no connection, timeout) are status 0 with
 * a message in `error`.
 */
#ifndef KEPT_CLI_CLIENT_H
#define KEPT_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct client {
	const char *base_url; /* without a trailing slash */
	const char *api_key;  /* NULL: no Authorization header */
	long timeout_s;       /* a request's whole time; 0: 120 s */
};

struct client_response {
	long status; /* 0 when the request never got an answer */
	char *body;  /* NUL-terminated, malloc'd; "" when empty */
	size_t length;
	char error[256];
};

/* One API call. `body` (with its `content_type`) and `if_match` are optional. */
struct client_call {
	const char *method;
	const char *path;
	const char *content_type;
	const char *body;
	const char *if_match;
	const char *idempotency_key;
};

bool client_request(const struct client *c, const struct client_call *call, struct client_response *out);

/*
 * POSTs the file at `file_path` as `content_type`, streaming it from disk.
 * With `progress`, prints upload progress to stderr.
 */
bool client_upload(const struct client *c, const char *path, const char *content_type, const char *file_path,
                   bool progress, struct client_response *out);

void client_response_free(struct client_response *r);

/* Percent-encodes `s` for a query string into a malloc'd string. */
char *client_escape(const char *s);

#endif
