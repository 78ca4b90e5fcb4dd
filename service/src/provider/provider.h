/*
 * provider — the telephony provider behind a small interface: Twilio's
 * Programmable Voice REST API (2010-04-01), which other providers speak too.
 * The only module that talks to libcurl. Text messages (the Messages API)
 * go the same way.
 *
 * What it promises:
 *   - Requests in the provider's encoding: form bodies with every byte
 *     outside the unreserved set escaped ("+" as %2B), list fields repeated,
 *     HTTP Basic auth, Accept: application/json; error bodies read in both
 *     Twilio's shape ({code, message}) and RFC 9457's ({title, detail}).
 *   - provider_place_calls() places a batch of calls with up to
 *     `concurrency` requests in flight on one libcurl multi handle whose
 *     connections are reused from batch to batch. It retries only 429, 500,
 *     502, 503, 504 and connection failures, after Retry-After when the
 *     provider sends one, else after exponential backoff with full jitter,
 *     at most `attempts` creates per call.
 *   - The provider's pace and the calling window: a call's first create
 *     waits for its slot (`not_before_ms`), every retried create takes a new
 *     slot from the pacer, and no create, first or retried, is sent after
 *     the call's `send_by_ms`: such a call ends PROVIDER_NOT_SENT (certainly
 *     not placed; the caller queues it for its next window).
 *   - Machine detection waits for the end of a greeting (DetectMessageEnd,
 *     MachineDetectionTimeout 45 s), so a message starts after the beep.
 *   - A create whose outcome is unknown (a timeout or dropped connection
 *     after the request went out, a 5xx) is reconciled before anything else:
 *     the calls to that number since the attempt began are listed once the
 *     request timeout has passed, and, when the call is not there, once
 *     more after `settle_ms` from the moment the create was sent; a call
 *     found is taken as placed. Only a second list that starts after the
 *     settle time and still shows nothing lets the call be created again.
 *     The one assumption: a create the provider has not acted on within
 *     `settle_ms` of being sent never will be (a request held in the
 *     provider's queue longer than that could ring the customer twice).
 *     When even reconciliation cannot tell, the call is reported
 *     PROVIDER_UNKNOWN and must not be dialled again (its status callbacks,
 *     which carry kept's call id in their URL, settle it).
 *   - provider_signature_valid() checks X-Twilio-Signature: HMAC-SHA1 over
 *     the URL and the sorted parameters, constant-time compare, with and
 *     without the default port.
 *
 * A `struct provider` is used by one thread at a time.
 */
#ifndef KEPT_PROVIDER_H
#define KEPT_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include "err/err.h"
#include "form/form.h"

struct provider;

struct provider_config {
	const char *base_url;    /* e.g. https://api.twilio.com (no trailing slash) */
	const char *account_sid; /* AC + 32 hex */
	const char *auth_token;
	int timeout_ms;         /* total per request; connecting gets at most 3 s of it */
	int attempts;           /* creates per call, at least 1 */
	int concurrency;        /* requests in flight */
	int backoff_base_ms;    /* first backoff (doubles each time, with jitter) */
	int max_retry_after_ms; /* cap on a provider's Retry-After */
	int settle_ms;          /* after an unknown outcome, how long from sending a create until a
	                           list that does not show it proves it was never made (at least
	                           timeout_ms) */
};

kept_err provider_new(const struct provider_config *cfg, struct provider **out,
                      struct kept_error *err) KEPT_MUST_CHECK;
void provider_free(struct provider *p);

struct provider_call_request {
	const char *to;
	const char *from;
	const char *url;             /* TwiML, fetched with POST when answered */
	const char *status_callback; /* POSTed for initiated, ringing, answered, completed */
	int ring_timeout_s;          /* Timeout: seconds to let it ring */
	bool machine_detection;      /* MachineDetection=DetectMessageEnd */
	long long not_before_ms;     /* clock_monotonic_ms(): the first create waits for this slot (0: now) */
	long long send_by_ms;        /* clock_monotonic_ms(): no create is sent after it (0: no limit) */
};

enum provider_outcome {
	PROVIDER_PLACED,   /* the provider took the call: sid is set */
	PROVIDER_FAILED,   /* certainly not placed: refused, or every attempt failed before sending */
	PROVIDER_UNKNOWN,  /* maybe placed, reconciliation could not tell: never dial it again */
	PROVIDER_NOT_SENT, /* certainly not placed: its send_by passed before a create could go */
};

/* The provider's pace. slot_ms reserves a slot for a retried create and
 * answers when it is (clock_monotonic_ms()), or -1 when it cannot.
 * gap_ms: two creates of this process never start closer than this, so
 * that creates whose slots passed while the process was held up (a busy
 * machine) do not go in a burst. */
struct provider_pacer {
	long long (*slot_ms)(void *arg);
	void *arg;
	int gap_ms;
};

struct provider_call_result {
	enum provider_outcome outcome;
	char sid[40];
	long long sent_at_us;  /* keptd's clock (clock_now_us) when the first create went out; 0: none did */
	long long retry_at_us; /* PROVIDER_NOT_SENT: keptd's clock when a create could go again (after the
	                          provider's Retry-After or backoff), for the caller to queue the call */
	int attempts;          /* create requests sent */
	bool reconciled;       /* the sid came from listing calls after an ambiguous create */
	int http_status;       /* of the last create (0: no response) */
	int provider_code;     /* Twilio's error code, when one came back */
	char error[200];       /* why it failed, for the record; no phone numbers */
};

/* Places `n` calls; results[i] answers requests[i]. `pacer` (may be NULL:
 * retries go at once) gives retried creates their slots. */
void provider_place_calls(struct provider *p, const struct provider_call_request *requests, size_t n,
                          struct provider_call_result *results, const struct provider_pacer *pacer);

/* ---- text messages (Messages.json) -------------------------------------------- */

struct provider_message_request {
	const char *to;
	const char *from;
	const char *body;            /* at most 1,600 characters */
	const char *status_callback; /* POSTed as the message moves on (sent, delivered, ...) */
	int validity_s;              /* ValidityPeriod: dropped at the provider after this (0: its default) */
	long long send_by_ms;        /* clock_monotonic_ms(): no create is sent after it (0: no limit) */
};

/*
 * Sends `n` texts; results[i] answers requests[i] (sid SM... or MM...), with
 * the same promises as provider_place_calls: only 429, 5xx and connection
 * failures are retried, an unknown outcome is reconciled by listing the
 * messages to the number (a message found created since the attempt began is
 * taken as sent), never sent twice. A refusal carries the provider's code
 * (21610: the number opted out) in provider_code.
 */
void provider_send_messages(struct provider *p, const struct provider_message_request *requests, size_t n,
                            struct provider_call_result *results);

/* What the provider says of a call it placed (GET Calls/{Sid}.json). */
struct provider_call_status {
	bool found;      /* false: the provider does not know the sid, or could not be asked */
	char status[16]; /* queued, initiated, ringing, in-progress, completed, busy, failed, no-answer,
	                    canceled */
	char answered_by[24];
	int duration; /* seconds; -1 when not given */
	char error[200];
};

/* True when the provider is kept-telsim (GET {base}/_telsim/hello names
 * it): simulated time may dial only the simulator. */
bool provider_is_simulator(struct provider *p);

/* Fetches `n` calls by sid, with the same concurrency, retries and timeouts. */
void provider_fetch_calls(struct provider *p, const char *const *sids, size_t n,
                          struct provider_call_status *out);

/* ---- webhook signatures ------------------------------------------------------ */

#define PROVIDER_SIGNATURE_LEN 28 /* base64 of 20 bytes */

/* The signature of a form POST to `url` with `params` (out: 29 bytes); fails
 * only when memory or OpenSSL does. */
kept_err provider_sign(const char *auth_token, const char *url, const struct form *params,
                       char out[PROVIDER_SIGNATURE_LEN + 1]) KEPT_MUST_CHECK;

/* True when `signature` signs `url` (as is, with the scheme's default port
 * added, or with its port removed) and `params` under `auth_token`. */
bool provider_signature_valid(const char *auth_token, const char *url, const struct form *params,
                              const char *signature);

#endif
