/*
 * script — the reminder call's words, as TwiML, and the rules on the names
 * a call says.
 *
 * What it promises:
 *   - Until the right party has confirmed with a key press nothing is said
 *     about a debt, an amount or a date. An answering machine, and an
 *     answer the provider could not classify (`unknown`), get only the
 *     limited-content message of 12 CFR 1006.2(j): a salutation with the
 *     consumer's name, the natural person to reply to and the business
 *     name, a request to reply, the callback number, and nothing else.
 *   - The live opening names the caller (a natural person) and the
 *     business (47 CFR 64.1200(b)(1)) and asks the right party to press 1,
 *     or 2 if they are not that person; 9 stops automated calls.
 *   - After confirmation, the 12 CFR 1006.18(e) disclosure, then the amount
 *     and due date.
 *   - A callback number is said on every path (47 CFR 64.1200(b)(2)).
 *   - Every text is XML-escaped; a URL in an attribute too.
 *
 *   opening, human           the live opening in a <Gather>; silence falls through to the
 *                            limited-content message
 *   opening, machine         the limited-content message (detection waited for the greeting's end)
 *   opening, unknown         the limited-content message, said twice: a greeting may still be playing
 *   step "disclose"/"menu"   the disclosure, amount and due date, then 1 confirm, 2 agent,
 *                            3 "I cannot pay this amount", 9 stop
 *   step "ask_amount"        "key in the weekly amount you can afford, then #" (<Gather finishOnKey="#">
 *                            to amount_url); "amount_invalid" says sorry and asks again
 *   step "offer"             the keyed-in amount read back (in policy): 1 agrees a new plan, 2 keys
 *                            in another
 *   step "referred"          out of policy: two of the team will review it, and when they will answer
 *   step "plan_agreed", "plan_failed", "confirmed", "agent", "opted_out", "wrong_party", "limited"
 *                            the closing words
 */
#ifndef KEPT_SCRIPT_H
#define KEPT_SCRIPT_H

#include <stdbool.h>

#include "buf/buf.h"
#include "err/err.h"

struct script_call {
	const char *business;        /* said in every call; no debt word (script_debt_word) */
	const char *contact_name;    /* the natural person the customer can reply to */
	const char *callback_number; /* E.164, said on every path */
	const char *customer_name;
	const char *amount;     /* as said: "$25.00" */
	const char *due_date;   /* as said: "Friday, 27 November 2026" */
	bool missed;            /* a missed-payment call rather than a pre-due one */
	const char *gather_url; /* where key presses go */
	const char *agent_line; /* NULL: an agent calls back */
	/* the customer's own amount (key 3) */
	const char *amount_url;       /* where a keyed-in amount goes */
	const char *currency_name;    /* the units it is keyed in: "US Dollar" */
	const char *offer_amount;     /* the weekly amount keyed in, as said */
	const char *offer_weeks;      /* the weeks it takes to clear the balance */
	const char *offer_first_date; /* the new plan's first payment, as said */
	const char *hear_back_by;     /* when an associate will have answered, as said */
};

/* Who answered, as far as the provider could tell. */
enum script_answer { SCRIPT_HUMAN, SCRIPT_MACHINE, SCRIPT_UNKNOWN };

/* The provider's AnsweredBy: human; machine_* and fax; anything else
 * (unknown, missing) is unknown. */
enum script_answer script_answer_of(const char *answered_by);

/* The TwiML answered when the call is picked up. */
kept_err script_opening(struct buf *out, const struct script_call *c,
                        enum script_answer answer) KEPT_MUST_CHECK;

/* The TwiML for a step named by kept.call_gather(); an unknown step is the
 * limited-content message. */
kept_err script_step(struct buf *out, const struct script_call *c, const char *step) KEPT_MUST_CHECK;

/* The first word of `name` that would tell a listener the caller collects
 * debts (debt, collection, recovery, arrears, owe, ...), or NULL when there
 * is none. The returned text is static. */
const char *script_debt_word(const char *name);

/* True when `name` reads as a natural person's name: two to four words of
 * letters (apostrophes, hyphens and full stops inside), at most 60 bytes. */
bool script_is_person_name(const char *name);

#endif
