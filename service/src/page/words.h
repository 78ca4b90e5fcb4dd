/*
 * page/words.h — the self-service page's words, one table per language
 * (words.c). Inside the page module only. A "{1}", "{2}" ... in a text is
 * filled (and escaped) by page_fill; nothing else in a text is markup.
 */
#ifndef KEPT_PAGE_WORDS_H
#define KEPT_PAGE_WORDS_H

#include "lang/lang.h"

struct page_words {
	const char *other_language; /* the switch's label, in the other language */
	const char *other_code;
	const char *footer; /* {1} contact, {2} number */
	/* identity */
	const char *identity_title, *identity_intro, *dob_legend, *dob_hint, *day, *month, *year, *postcode,
	        *continue_, *or_code, *send_code, *code_sent, *code_label, *no_method, *err_mismatch,
	        *err_incomplete, *err_session_over, *err_code_unavailable;
	/* the account */
	const char *hello, *account_with, *balance, *reference, *plan_now, *pending_now, *question, *cant_pay,
	        *amount_label, *minimum_hint, *first_date_label, *first_date_hint, *see_plan, *budget_link,
	        *budget_result, *settle_link, *signout;
	/* a proposal */
	const char *proposal_title, *offered, *clears, *schedule_caption, *col_payment, *col_date,
	        *col_amount, *more_payments, *in_policy, *replaces, *agree, *out_policy, *reason_minimum,
	        *reason_weeks, *reason_budget, *send_for_approval_text, *send_for_approval, *change_amount;
	/* a plan made */
	const char *agreed_title, *agreed_text, *texted, *pending_title, *pending_text, *back;
	/* the budget helper */
	const char *budget_title, *budget_intro, *section_income, *section_fixed, *section_flexible,
	        *work_it_out;
	const char *categories[16]; /* in the order of kept.sfs_categories, income, fixed, flexible */
	/* settling */
	const char *settle_title, *settle_question, *offer_label, *make_offer, *offer_ok, *offer_low,
	        *take_counter, *take_offer, *low_note, *installments_label, *one_payment, *weekly_n, *accept;
	/* the link cannot be used */
	const char *invalid_title, *invalid_text, *expired_title, *expired_text, *revoked_title,
	        *revoked_text, *locked_title, *locked_text, *rate_title, *rate_text, *signed_out_title,
	        *signed_out_text, *cross_title, *cross_text;
	/* refusals */
	const char *err_invalid_amount, *err_invalid_date, *err_date_past, *err_date_far, *err_too_long,
	        *err_changed, *err_above_balance, *err_not_open, *err_generic;
};

const struct page_words *page_words_for(enum lang l);

#endif
