/*
 * page — the customer's self-service page as HTML: mobile first, in English
 * or Spanish, with no script at all (forms posted to keptd, each carrying its
 * form token) and one stylesheet served by keptd, so the strictest CSP holds.
 *
 * page_render() draws the view kept.page_* answered (a JSON object whose
 * "view" names it: identity, account, proposal, plan_made, settlement,
 * budget, and the views that say the link cannot be used: invalid, expired,
 * revoked, ended, locked, rate_limited, signed_out, cross_site). `show`
 * draws another form for an "account" view: "budget" or "settlement".
 *
 * What it promises:
 *   - Every text from the view is HTML-escaped; nothing from outside is markup.
 *   - Before the visitor has proved who they are (identity and every view
 *     that says the link cannot be used) the page names no creditor, amount,
 *     account or date of the debt.
 *   - Each form field has a label, errors are announced (role="alert") and
 *     tied to the fields, tables have captions and header cells, the page
 *     declares its language and the language switch its own (WCAG 2.1 AA).
 *   - *status is the HTTP status the view goes with (200; 404 for an invalid
 *     link, 410 expired or revoked, 403 locked or a form from elsewhere, 429
 *     too many attempts).
 */
#ifndef KEPT_PAGE_H
#define KEPT_PAGE_H

#include <cjson/cJSON.h>

#include "buf/buf.h"
#include "err/err.h"
#include "lang/lang.h"

struct page_ctx {
	enum lang lang;
	const char *base;            /* "/s/<token>": forms post under it; NULL when the link is unknown */
	const char *csrf;            /* the form token every form carries */
	const char *business;        /* KEPT_BUSINESS_NAME */
	const char *callback_number; /* the number to call */
	const char *contact_name;    /* the person to ask for (may be NULL) */
};

kept_err page_render(struct buf *out, const struct page_ctx *c, const cJSON *view, const char *show,
                     int *status) KEPT_MUST_CHECK;

/* The stylesheet's path (served by keptd). */
#define PAGE_STYLESHEET "/self-service/style.css"

#endif
