/*
 * kept-telsim — a stand-in for a Twilio-style telephony provider, for
 * `make run`, the tests and the benchmarks. It speaks the provider's real
 * protocol (see ../shared/telephony/README.md):
 *
 *   POST/GET /2010-04-01/Accounts/{AccountSid}/Calls.json   create, list (To, StartTime>, PageSize)
 *   GET      /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json
 *
 * with HTTP Basic auth, form bodies and Twilio's JSON shapes and error
 * bodies. Each created call then lives on its own (life.c): signed status
 * callbacks for the requested events with increasing SequenceNumber, the
 * TwiML fetched from Url when a callee answers, <Gather> answered with the
 * callee's keys, as a callee chosen by rules on the dialled number.
 *
 * Control endpoints for tests (no auth; loopback only):
 *   POST /_telsim/faults   {"create": ["429", "503", "503_created", "slow_created", "drop", "drop_created",
 *                                      "held"],
 *                           "slow_ms": 3000, "duplicate_callbacks": true, "reverse_callbacks": true}
 *                          create faults are a queue, one used per create request; slow_created
 *                          answers slow_ms after making the call, held makes it (and answers)
 *                          only after slow_ms, as a request queued at the provider
 *   POST /_telsim/callees  {"+15550001234": {"behaviour": "human|machine|busy|no-answer|failed",
 *                                            "keys": "12"}}
 *   GET  /_telsim/requests every request received (method, path, to: the To query parameter,
 *                          body, auth_ok)
 *   GET  /_telsim/calls    every call with its events (callbacks sent, kept's answers, TwiML seen)
 *   POST /_telsim/reset    forget calls, requests, faults and callees
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

struct telsim_config {
	const char *account_sid;
	const char *auth_token;
	int callback_delay_ms; /* pause before each step of a call's life */
	bool life;             /* false: calls are only recorded (ceiling benchmarks) */
	bool record;           /* keep every request (off for benchmarks) */
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
	char status[16];
	time_t created;
	int duration;
	char answered_by[24];
	struct buf log; /* JSON array body of events, comma separated */
};

/* The shared state, behind one mutex. */
extern pthread_mutex_t telsim_lock;

/* Creates a call from a validated request (takes the strings); NULL when out of memory. */
struct tcall *telsim_call_add(const char *to, const char *from, const char *url, const char *status_callback,
                              unsigned events, bool machine_detection);
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

/* The callee for a number: behaviour and keys. */
void telsim_callee(const char *number, char *behaviour, size_t bsize, char *keys, size_t ksize);

/* `t` as RFC 2822 in UTC, as the provider writes times ("Sat, 22 Nov 2026 13:22:15 +0000"). */
void telsim_rfc2822(time_t t, char *out, size_t n);

/* Callback faults. */
bool telsim_duplicate_callbacks(void);
bool telsim_reverse_callbacks(void);

#endif
