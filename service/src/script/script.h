/*
 * script — the reminder call's words, as TwiML.
 *
 * What it promises: until the right party has confirmed with a key press,
 * and always for an answering machine, a call says only the limited-content
 * message (the business name and a callback number: nothing about a debt,
 * an amount or a date). Every text is XML-escaped; a URL in an attribute too.
 *
 *   opening (human or unknown)   ask the right party to press 1; silence or
 *                                anything else falls through to the limited message
 *   opening (machine)            the limited message only
 *   step "disclose" / "menu"     amount and due date, then 1 confirm, 2 agent, 9 stop
 *   step "confirmed", "agent", "opted_out", "limited"   the closing words
 */
#ifndef KEPT_SCRIPT_H
#define KEPT_SCRIPT_H

#include <stdbool.h>

#include "buf/buf.h"
#include "err/err.h"

struct script_call {
	const char *business;        /* said in every call */
	const char *callback_number; /* E.164 */
	const char *customer_name;
	const char *amount;     /* as said: "$25.00" */
	const char *due_date;   /* as said: "Friday, 27 November 2026" */
	bool missed;            /* a missed-payment call rather than a pre-due one */
	const char *gather_url; /* where key presses go */
	const char *agent_line; /* NULL: an agent calls back */
};

/* True for the provider's AnsweredBy values that mean a machine or a fax. */
bool script_is_machine(const char *answered_by);

/* The TwiML answered when the call is picked up. */
kept_err script_opening(struct buf *out, const struct script_call *c, bool machine) KEPT_MUST_CHECK;

/* The TwiML for a step named by kept.call_gather(); an unknown step is the limited message. */
kept_err script_step(struct buf *out, const struct script_call *c, const char *step) KEPT_MUST_CHECK;

#endif
