/*
 * kept-telsim — a stand-in for a Twilio-style telephony provider, for
 * `make run`, the tests and the benchmarks. It speaks the provider's real
 * protocol (see ../shared/telephony/README.md):
 *
 *   POST/GET /2010-04-01/Accounts/{AccountSid}/Calls.json   create, list (To, StartTime>, PageSize)
 *   GET      /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json
 *   POST/GET /2010-04-01/Accounts/{AccountSid}/Messages.json   create (21610 to a number that texted STOP),
 *                                                             list (To, PageSize)
 *   GET      /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json
 *
 * with HTTP Basic auth, form bodies and Twilio's JSON shapes and error
 * bodies. Each created call then lives on its own (life.c): signed status
 * callbacks for the requested events with increasing SequenceNumber, the
 * TwiML fetched from Url when a callee answers, <Gather> answered with the
 * callee's keys, as a callee chosen by rules on the dialled number.
 *
 * Calls per second: with KEPT_TELSIM_CPS set, calls beyond that rate queue
 * as at Twilio: a call starts 1/CPS seconds after the one before at the
 * earliest, and its resource's queue_time says how long it waited (ms).
 *
 * Control endpoints for tests (no auth; loopback only):
 *   GET  /_telsim/hello    {"simulator": "kept-telsim"}: keptd in simulated time dials only this
 *   POST /_telsim/faults   {"create": ["429", "503", "503_created", "slow_created", "drop", "drop_created",
 *                                      "held"],
 *                           "to": "+15550001234", "clear": true, "slow_ms": 3000, "retry_after_s": 1,
 *                           "duplicate_callbacks": true, "reverse_callbacks": true}
 *                          create faults are a queue, one used per create request (with "to": only
 *                          by a create to that number; "clear": the queue is emptied first);
 *                          slow_created answers slow_ms after making the call, held makes it (and
 *                          answers) only after slow_ms, as a request queued at the provider; a 429
 *                          says Retry-After: retry_after_s
 *   POST /_telsim/callees  {"+15550001234": {"behaviour": "human|silent|machine|busy|no-answer|failed",
 *                                            "keys": "12", "greeting_ms": 4000}}
 *                          human: answers and presses `keys`, one per prompt (AnsweredBy human);
 *                          with commas, one entry per prompt: "1,3,25#,1" keys in 25 and the hash
 *                          key at the third (Digits=25, FinishedOnKey=#);
 *                          silent: answers and says and presses nothing (AnsweredBy unknown);
 *                          machine: a greeting of greeting_ms (default 4000), then the beep. With
 *                          MachineDetection=Enable it is reported at once (machine_start) and the
 *                          message starts over the greeting; with DetectMessageEnd it is reported at
 *                          the beep (machine_end_beep) and the message starts after it, unless the
 *                          greeting outlasts MachineDetectionTimeout (default 30 s): then unknown,
 *                          at the timeout. The call's events say when the message started and
 *                          whether the machine recorded it whole ("machine" event).
 *   GET  /_telsim/requests every request received (method, path, to: the To query parameter,
 *                          body, auth_ok, at_ms: when it arrived)
 *   GET  /_telsim/calls    every call with its events (callbacks sent, kept's answers, TwiML seen),
 *                          arrived_ms and started_ms
 *   POST /_telsim/inbound  {"from": "+1555...", "to": "+1555...", "body": "STOP", "url": "..."}: a
 *                          customer texts `to`: STOP (and its words) opts `from` out at the provider,
 *                          START back in; then the signed webhook to `url` (default
 *                          KEPT_TELSIM_SMS_WEBHOOK); answers {sid, status, twiml, reply}, the reply
 *                          (a TwiML <Message>) recorded as a text to `from`
 *   POST /_telsim/recipients {"+1555...": {"behaviour": "delivered|undelivered|failed"}}: how a text
 *                          to the number ends (status callbacks sent, then delivered by default)
 *   GET  /_telsim/messages every text, in and out, with its status callbacks
 *   POST /_telsim/reset    forget calls, requests, faults, callees, recipients and opt-outs
 *
 * Default callee by the number's last digit: 1 busy, 2 no-answer, 3 machine,
 * 4 failed, anything else a human who presses 1 at every prompt.
 */
#ifndef KEPT_TELSIM_H
#define KEPT_TELSIM_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "buf/buf.h"
#include "form/form.h"
#include "http/http.h"
#include "json/json.h"

struct telsim_config {
	const char *account_sid;
	const char *auth_token;
	int callback_delay_ms; /* pause before each step of a call's life */
	bool life;             /* false: calls are only recorded (ceiling benchmarks) */
	bool record;           /* keep every request (off for benchmarks) */
	int cps;               /* calls started per second (0: no limit) */
};

extern struct telsim_config telsim_cfg;

struct tcall {
	char sid[35];
	char to[32];
	char from[32];
	char *url;
	char *status_callback;
	unsigned events; /* bit 0 initiated, 1 ringing, 2 answered, 3 completed */
	bool machine_detection;
	bool detect_message_end; /* MachineDetection=DetectMessageEnd rather than Enable */
	int amd_timeout_s;       /* MachineDetectionTimeout */
	long long arrived_ms;    /* when the create arrived (epoch ms) */
	long long started_ms;    /* when the call starts, after queueing for the CPS limit */
	char status[16];
	time_t created;
	int duration;
	char answered_by[24];
	struct buf log; /* JSON array body of events, comma separated */
};

/* The shared state, behind one mutex. */
extern pthread_mutex_t telsim_lock;

/* Machine detection as the create asked for it. */
struct telsim_amd {
	bool on;
	bool detect_message_end;
	int timeout_s;
};

/* Creates a call from a validated request (takes the strings); NULL when out of memory. */
struct tcall *telsim_call_add(const char *to, const char *from, const char *url, const char *status_callback,
                              unsigned events, const struct telsim_amd *amd);
/* Appends a JSON object to the call's event log (locks). */
void telsim_call_event(struct tcall *c, const char *json);
/* Writes a call resource as JSON (lock held). */
kept_err telsim_call_json(struct buf *out, const struct tcall *c);
size_t telsim_call_count(void);
struct tcall *telsim_call_at(size_t i);

/* Starts the life of a call (queued to the life threads). */
void telsim_life_start(struct tcall *c);
kept_err telsim_life_init(int n);
void telsim_life_stop(void);

/* The callee for a number: behaviour, keys and, for a machine, its greeting's length. */
struct telsim_callee {
	char behaviour[16];
	char keys[64];
	int greeting_ms;
};
void telsim_callee(const char *number, struct telsim_callee *out);

/* Milliseconds since the epoch. */
long long telsim_now_ms(void);

/* `t` as RFC 2822 in UTC, as the provider writes times ("Sat, 22 Nov 2026 13:22:15 +0000"). */
void telsim_rfc2822(time_t t, char *out, size_t n);

/* Twilio's error shape: {code, message, more_info, status}. */
void telsim_error(struct http_request *req, int status, int code, const char *message);

/* The first queued create fault for a create to `to`, copied into `out`; NULL when none. */
const char *telsim_next_fault(const char *to, char out[16]);
/* Acts out a fault before the create is made (429, 503, drop, held); true when it answered. */
bool telsim_fault_before(struct http_request *req, const char *fault);
/* ... and after it was made (503_created, drop_created, slow_created); true when it answered. */
bool telsim_fault_after(struct http_request *req, const char *fault);

/* The start of every create (a call, a message): the body must be a form
 * (else 415 or 400), and a fault queued for its To is acted out before
 * anything is made. True when the create may go on, with the form in *f and
 * the fault still to act out after the create (or NULL) in fault_name;
 * false when an answer was given. */
bool telsim_create_begin(struct http_request *req, struct form *f, char fault_name[16], const char **fault);

/* The Messages API (messages.c): Messages.json (`list`) or Messages/{sid}.json. */
void telsim_messages_api(struct http_request *req, bool list, const char *sid);
void telsim_control_inbound(struct http_request *req, const cJSON *doc);
void telsim_control_recipients(struct http_request *req, const cJSON *doc);
void telsim_control_messages(struct http_request *req);
void telsim_messages_reset(void);

/* Callback faults. */
bool telsim_duplicate_callbacks(void);
bool telsim_reverse_callbacks(void);

#endif
