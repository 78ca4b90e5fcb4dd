/*
 * sms — the words of kept's text messages, in English and Spanish, and the
 * TwiML that answers a text a customer sent.
 *
 * What it promises:
 *   - Every text names the business (KEPT_BUSINESS_NAME: no debt word) and
 *     ends with how to opt out ("Reply STOP to opt out").
 *   - A text sent before the customer has proved who they are (the personal
 *     link, the one-time code) says nothing about a debt, an amount or a
 *     creditor: a greeting, the link or the code, when it stops working.
 *   - A text is at most 1,600 characters (the provider's limit); the answer
 *     to STOP is an empty <Response/> (the provider confirms opt-outs
 *     itself), to START a confirmation, to HELP the business and the
 *     callback number, to anything else nothing.
 *   - TwiML text is XML-escaped.
 */
#ifndef KEPT_SMS_H
#define KEPT_SMS_H

#include <stdbool.h>

#include "buf/buf.h"
#include "err/err.h"
#include "lang/lang.h"

#define SMS_MAX_CHARS 1600

/* The personal link: a greeting, the link, the day it stops working (a local date YYYY-MM-DD). */
kept_err sms_link_text(struct buf *out, enum lang l, const char *business, const char *first_name,
                       const char *url, const char *expires_on) KEPT_MUST_CHECK;

/* A one-time code for the page, valid `minutes`. */
kept_err sms_code_text(struct buf *out, enum lang l, const char *business, const char *code,
                       int minutes) KEPT_MUST_CHECK;

/* After a plan the customer made themselves: agreed (`active`), or sent to an
 * associate who will confirm by `hear_back_by` (YYYY-MM-DD). `weekly` is the
 * amount as lang_money writes it, `first_due` a date YYYY-MM-DD. */
kept_err sms_plan_text(struct buf *out, enum lang l, const char *business, bool active, const char *weekly,
                       const char *first_due, const char *hear_back_by) KEPT_MUST_CHECK;

/* The TwiML answer to a text the customer sent whose keyword (kept.text_keyword)
 * is `keyword` ("stop", "start", "help" or NULL). */
kept_err sms_reply_twiml(struct buf *out, enum lang l, const char *keyword, const char *business,
                         const char *callback_number) KEPT_MUST_CHECK;

#endif
