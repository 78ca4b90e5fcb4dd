/*
 * err — the one error type of kept.
 *
 * Every fallible function returns a `kept_err` and, when it fails, fills a
 * caller-owned `struct kept_error` with the detail a client needs: a stable
 * machine code ("invalid_phone"), the field it concerns ("phones[0].number")
 * and a human message. The kind decides the HTTP status; only the http module
 * maps kinds to statuses.
 *
 * Callers chain results in the curl style:
 *
 *     kept_err r = step_one(..., err);
 *     if (r)
 *         return r;
 *
 * A kept_error never owns heap memory except `details_json`, which points
 * into an arena owned by whoever set it (usually the request arena).
 */
#ifndef KEPT_ERR_H
#define KEPT_ERR_H

#include <stdarg.h>

#define KEPT_MUST_CHECK   __attribute__((warn_unused_result))
#define KEPT_PRINTF(f, a) __attribute__((format(printf, f, a)))

typedef enum kept_err {
	KEPT_OK = 0,
	KEPT_ERR_INVALID,         /* bad input: 400 */
	KEPT_ERR_UNAUTHENTICATED, /* no or bad credentials: 401 */
	KEPT_ERR_FORBIDDEN,       /* authenticated but not allowed: 403 */
	KEPT_ERR_NOT_FOUND,       /* 404 */
	KEPT_ERR_METHOD,          /* route exists, method does not: 405 */
	KEPT_ERR_CONFLICT,        /* uniqueness or state conflict: 409 */
	KEPT_ERR_PRECONDITION,    /* If-Match did not match: 412 */
	KEPT_ERR_TOO_LARGE,       /* body over the cap: 413 */
	KEPT_ERR_MEDIA_TYPE,      /* unsupported Content-Type: 415 */
	KEPT_ERR_RULE,            /* well-formed but breaks a business rule: 422 */
	KEPT_ERR_RATE_LIMITED,    /* too many requests for this key: 429 (details: retry_after) */
	KEPT_ERR_UNAVAILABLE,     /* database down or overloaded: 503 */
	KEPT_ERR_RETRY,           /* serialization failure; the caller reruns the transaction */
	KEPT_ERR_NOMEM,           /* allocation or a hard cap hit: 500 */
	KEPT_ERR_INTERNAL,        /* a bug or an unexpected failure: 500 */
	KEPT_ERR__COUNT
} kept_err;

struct kept_error {
	kept_err kind;
	char code[64];            /* stable, snake_case, part of the API contract */
	char field[96];           /* the input field concerned, "" when none */
	char message[256];        /* for people; never contains secrets */
	char constraint[64];      /* the database constraint that failed, "" when none */
	const char *details_json; /* optional extra detail (a JSON object), arena-owned */
};

/* Clears `e` to "no error". Safe on a zeroed struct. */
void kept_error_clear(struct kept_error *e);

/*
 * Fills `e` (which may be NULL) and returns `kind`, so a failure is one line:
 *     return kept_fail(err, KEPT_ERR_INVALID, "invalid_json", "", "body is not JSON");
 * `code` and `field` are copied (truncated to their buffers); `fmt` is printf.
 */
kept_err kept_fail(struct kept_error *e, kept_err kind, const char *code, const char *field, const char *fmt,
                   ...) KEPT_PRINTF(5, 6);

/* As kept_fail with a va_list. */
kept_err kept_failv(struct kept_error *e, kept_err kind, const char *code, const char *field, const char *fmt,
                    va_list ap) KEPT_PRINTF(5, 0);

/* The name of a kind, for logs ("invalid", "unavailable", ...). Never NULL. */
const char *kept_err_name(kept_err kind);

#endif
