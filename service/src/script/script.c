#include "script.h"

#include <ctype.h>
#include <string.h>

static kept_err add_escaped(struct buf *out, const char *s)
{
	kept_err r = KEPT_OK;
	for (; s && *s && !r; s++) {
		switch (*s) {
		case '&': r = buf_adds(out, "&amp;"); break;
		case '<': r = buf_adds(out, "&lt;"); break;
		case '>': r = buf_adds(out, "&gt;"); break;
		case '"': r = buf_adds(out, "&quot;"); break;
		case '\'': r = buf_adds(out, "&apos;"); break;
		default: r = buf_addc(out, *s);
		}
	}
	return r;
}

/* <Say>a b c</Say>, the texts escaped (NULL parts are left out). */
static kept_err say(struct buf *out, const char *a, const char *b, const char *c)
{
	kept_err r = buf_adds(out, "<Say>");
	if (!r)
		r = add_escaped(out, a);
	if (!r)
		r = add_escaped(out, b);
	if (!r)
		r = add_escaped(out, c);
	return r ? r : buf_adds(out, "</Say>");
}

static kept_err gather_open(struct buf *out, const struct script_call *c)
{
	kept_err r = buf_adds(
	        out, "<Gather input=\"dtmf\" numDigits=\"1\" timeout=\"6\" method=\"POST\" action=\"");
	if (!r)
		r = add_escaped(out, c->gather_url);
	return r ? r : buf_adds(out, "\">");
}

/* 12 CFR 1006.2(j): a salutation, the natural person and the business name,
 * a request to reply and the number to reply on, and no other content. */
static kept_err limited_message(struct buf *out, const struct script_call *c)
{
	kept_err r = say(out, "Hello, ", c->customer_name, ". ");
	if (!r)
		r = say(out, "This is ", c->contact_name, " calling from ");
	if (!r)
		r = say(out, c->business, ". ", NULL);
	return r ? r : say(out, "Please call me back at ", c->callback_number, ".");
}

static kept_err limited(struct buf *out, const struct script_call *c)
{
	kept_err r = limited_message(out, c);
	return r ? r : buf_adds(out, "<Hangup/>");
}

/* The closing words of a step: `text`, the callback number, goodbye. */
static kept_err closing(struct buf *out, const struct script_call *c, const char *text, const char *lead_in)
{
	kept_err r = say(out, text, NULL, NULL);
	if (!r)
		r = say(out, lead_in, c->callback_number, ". Goodbye.");
	return r ? r : buf_adds(out, "<Hangup/>");
}

static kept_err document(struct buf *out,
                         kept_err (*body)(struct buf *, const struct script_call *, const char *),
                         const struct script_call *c, const char *arg)
{
	kept_err r = buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>");
	if (!r)
		r = body(out, c, arg);
	return r ? r : buf_adds(out, "</Response>\n");
}

enum script_answer script_answer_of(const char *answered_by)
{
	if (!answered_by)
		return SCRIPT_UNKNOWN;
	if (strcmp(answered_by, "human") == 0)
		return SCRIPT_HUMAN;
	if (strncmp(answered_by, "machine", 7) == 0 || strcmp(answered_by, "fax") == 0)
		return SCRIPT_MACHINE;
	return SCRIPT_UNKNOWN;
}

static kept_err opening_human(struct buf *out, const struct script_call *c, const char *unused)
{
	(void)unused;
	kept_err r = gather_open(out, c);
	if (!r)
		r = say(out, "Hello, this is ", c->contact_name, " calling from ");
	if (!r)
		r = say(out, c->business, ". ", NULL);
	if (!r)
		r = say(out, "If you are ", c->customer_name, ", please press 1. ");
	if (!r)
		r = say(out, "If you are not ", c->customer_name, ", please press 2. ");
	if (!r)
		r = say(out, "To stop automated calls to this number, press 9.", NULL, NULL);
	if (!r)
		r = buf_adds(out, "</Gather>");
	return r ? r : limited(out, c);
}

static kept_err opening_machine(struct buf *out, const struct script_call *c, const char *unused)
{
	(void)unused;
	return limited(out, c);
}

/* Detection could not tell (a greeting longer than its timeout, silence):
 * the message twice, so that one whole copy follows a greeting still playing. */
static kept_err opening_unknown(struct buf *out, const struct script_call *c, const char *unused)
{
	(void)unused;
	kept_err r = limited_message(out, c);
	return r ? r : limited(out, c);
}

kept_err script_opening(struct buf *out, const struct script_call *c, enum script_answer answer)
{
	if (answer == SCRIPT_HUMAN)
		return document(out, opening_human, c, NULL);
	return document(out, answer == SCRIPT_MACHINE ? opening_machine : opening_unknown, c, NULL);
}

static kept_err menu(struct buf *out, const struct script_call *c)
{
	kept_err r = gather_open(out, c);
	if (!r)
		r = say(out, "Thank you. This is ", c->contact_name, " from ");
	if (!r)
		r = say(out, c->business, ", a debt collector. ", NULL);
	if (!r) /* 12 CFR 1006.18(e) */
		r = say(out, "This is an attempt to collect a debt, ",
		        "and any information obtained will be used for that purpose. ", NULL);
	if (!r)
		r = c->missed ? say(out, "We have not received your payment of ", c->amount, ", ")
		              : say(out, "Your next payment of ", c->amount, " ");
	if (!r)
		r = say(out, c->missed ? "which was due on " : "is due on ", c->due_date, ". ");
	if (!r)
		r = say(out, "Press 1 to confirm you will make this payment. ",
		        "Press 2 to speak to an agent. ", "Press 3 if you cannot pay this amount. ");
	if (!r)
		r = say(out, "Press 9 to stop automated calls to this number.", NULL, NULL);
	if (!r)
		r = buf_adds(out, "</Gather>");
	return r ? r : closing(out, c, "We did not receive a choice. ", "Please call us back at ");
}

/* "Key in the weekly amount you can afford, then #": a <Gather> that ends on
 * the hash key, posted to amount_url. `sorry`: the last one could not be used. */
static kept_err ask_amount(struct buf *out, const struct script_call *c, bool sorry)
{
	const char *units = c->currency_name ? c->currency_name : "units of your account's currency";
	kept_err r = buf_adds(
	        out, "<Gather input=\"dtmf\" finishOnKey=\"#\" timeout=\"10\" method=\"POST\" action=\"");
	if (!r)
		r = add_escaped(out, c->amount_url);
	if (!r)
		r = buf_adds(out, "\">");
	if (!r && sorry)
		r = say(out, "Sorry, we could not use that amount. ", NULL, NULL);
	if (!r)
		r = say(out, "Please key in the whole number of ", units,
		        " you can afford to pay each week, then press the hash key. ");
	if (!r)
		r = say(out, "For example, for 25 ", units, ", press 2, 5, then hash.");
	if (!r)
		r = buf_adds(out, "</Gather>");
	return r ? r : closing(out, c, "We did not receive an amount. ", "To agree a plan with us, call ");
}

/* The amount the customer keyed in, read back: in policy, 1 agrees the new plan. */
static kept_err offer(struct buf *out, const struct script_call *c)
{
	kept_err r = gather_open(out, c);
	if (!r)
		r = say(out, "You offered ", c->offer_amount, " a week. ");
	if (!r)
		r = say(out, "That would clear your balance in ", c->offer_weeks, " weeks, ");
	if (!r)
		r = say(out, "with the first payment on ", c->offer_first_date, ". ");
	if (!r)
		r = say(out, "Press 1 to agree to this new plan, which replaces your current one. ",
		        "Press 2 to key in a different amount.", NULL);
	if (!r)
		r = buf_adds(out, "</Gather>");
	return r ? r
	         : closing(out, c, "We did not receive a choice, so your plan stays as it is. ",
	                   "To agree a new plan, call us at ");
}

static kept_err referred(struct buf *out, const struct script_call *c)
{
	kept_err r = say(out, "You offered ", c->offer_amount, " a week. ");
	if (!r)
		r = say(out,
		        "We cannot agree that amount on this call, so two members of our team will review "
		        "it. ",
		        NULL, NULL);
	if (!r)
		r = say(out, "You will hear from us by ", c->hear_back_by, ". ");
	return r ? r
	         : closing(out, c, "Until then, your current plan stays as it is. ",
	                   "If you have questions, call us at ");
}

static kept_err plan_agreed(struct buf *out, const struct script_call *c)
{
	kept_err r = say(out, "Thank you. Your new plan of ", c->offer_amount, " a week is agreed, ");
	if (!r)
		r = say(out, "with the first payment on ", c->offer_first_date, ". ");
	return r ? r : closing(out, c, "", "If you have any questions, call us at ");
}

static kept_err agent(struct buf *out, const struct script_call *c)
{
	if (!c->agent_line)
		return closing(out, c, "An agent will call you back shortly. ", "You can also call us at ");
	kept_err r = say(out, "Connecting you to an agent. ", "If we are cut off, call us at ",
	                 c->callback_number);
	if (!r)
		r = buf_adds(out, "<Dial><Number>");
	if (!r)
		r = add_escaped(out, c->agent_line);
	return r ? r : buf_adds(out, "</Number></Dial>");
}

static kept_err step_body(struct buf *out, const struct script_call *c, const char *step)
{
	if (strcmp(step, "disclose") == 0 || strcmp(step, "menu") == 0)
		return menu(out, c);
	if (strcmp(step, "confirmed") == 0)
		return closing(out, c, "Thank you for confirming your payment. ",
		               "If you have any questions, call us at ");
	if (strcmp(step, "ask_amount") == 0 || strcmp(step, "amount_invalid") == 0)
		return ask_amount(out, c, strcmp(step, "amount_invalid") == 0);
	if (strcmp(step, "offer") == 0)
		return offer(out, c);
	if (strcmp(step, "referred") == 0)
		return referred(out, c);
	if (strcmp(step, "plan_agreed") == 0)
		return plan_agreed(out, c);
	if (strcmp(step, "plan_failed") == 0)
		return closing(
		        out, c,
		        "Sorry, we could not change your plan on this call. An agent will call you back. ",
		        "You can also call us at ");
	if (strcmp(step, "agent") == 0)
		return agent(out, c);
	if (strcmp(step, "opted_out") == 0)
		return closing(out, c, "You will receive no more automated calls on this number. ",
		               "To reach us, call ");
	if (strcmp(step, "wrong_party") == 0)
		return closing(
		        out, c,
		        "Thank you, and sorry to have troubled you. We will make no more automated calls "
		        "to this number. ",
		        "If you need to reach us, call ");
	return limited(out, c);
}

kept_err script_step(struct buf *out, const struct script_call *c, const char *step)
{
	return document(out, step_body, c, step ? step : "limited");
}

/* ---- names ----------------------------------------------------------------------- */

/* Words that begin like these tell a listener the caller collects debts. */
static const char *const debt_stems[] = {
        "debt",    "collect",  "recover",   "arrear",  "delinquen", "overdue", "repossess", "bailiff",
        "enforce", "judgment", "judgement", "garnish", "owing",     "payment", "credit",    "loan"};
/* ... and these whole words. */
static const char *const debt_words[] = {"owe",     "owed",      "owes", "due",
                                         "default", "defaulted", "lien", "liens"};

static bool is_word_byte(unsigned char ch)
{
	return isalnum(ch) || ch >= 0x80;
}

/* The token at `s` of length `n`, lowercased, against the lists. */
static const char *debt_token(const char *s, size_t n)
{
	char word[64];
	if (n >= sizeof word)
		n = sizeof word - 1;
	for (size_t i = 0; i < n; i++)
		word[i] = (char)tolower((unsigned char)s[i]);
	word[n] = '\0';
	for (size_t i = 0; i < sizeof debt_stems / sizeof debt_stems[0]; i++)
		if (strncmp(word, debt_stems[i], strlen(debt_stems[i])) == 0)
			return debt_stems[i];
	for (size_t i = 0; i < sizeof debt_words / sizeof debt_words[0]; i++)
		if (strcmp(word, debt_words[i]) == 0)
			return debt_words[i];
	return NULL;
}

const char *script_debt_word(const char *name)
{
	const char *p = name ? name : "";
	while (*p) {
		while (*p && !is_word_byte((unsigned char)*p))
			p++;
		const char *start = p;
		while (*p && is_word_byte((unsigned char)*p))
			p++;
		const char *hit = p > start ? debt_token(start, (size_t)(p - start)) : NULL;
		if (hit)
			return hit;
	}
	return NULL;
}

/* One word of a name: a letter first, then letters, ' - . */
static bool name_word(const char *s, size_t n)
{
	unsigned char first = (unsigned char)s[0];
	if (!(isalpha(first) || first >= 0x80))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!(isalpha(ch) || ch >= 0x80 || ch == '\'' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

bool script_is_person_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > 60)
		return false;
	int words = 0;
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, " ");
		if (n == 0 || !name_word(p, n))
			return false;
		words++;
		p += n;
		if (*p == ' ' && *++p == '\0')
			return false;
	}
	return words >= 2 && words <= 4;
}
