#include "script.h"

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

/* <Say>text</Say>, the text escaped. */
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

static kept_err limited(struct buf *out, const struct script_call *c)
{
	kept_err r = say(out, "This is a message from ", c->business, ". ");
	if (!r)
		r = say(out, "Please call us back on ", c->callback_number, ". Thank you. Goodbye.");
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

bool script_is_machine(const char *answered_by)
{
	return answered_by && (strncmp(answered_by, "machine", 7) == 0 || strcmp(answered_by, "fax") == 0);
}

static kept_err opening_human(struct buf *out, const struct script_call *c, const char *unused)
{
	(void)unused;
	kept_err r = gather_open(out, c);
	if (!r)
		r = say(out, "Hello, this is ", c->business, ". ");
	if (!r)
		r = say(out, "If you are ", c->customer_name, ", please press 1 now.");
	if (!r)
		r = buf_adds(out, "</Gather>");
	return r ? r : limited(out, c);
}

static kept_err opening_machine(struct buf *out, const struct script_call *c, const char *unused)
{
	(void)unused;
	return limited(out, c);
}

kept_err script_opening(struct buf *out, const struct script_call *c, bool machine)
{
	return document(out, machine ? opening_machine : opening_human, c, NULL);
}

static kept_err menu(struct buf *out, const struct script_call *c)
{
	kept_err r = gather_open(out, c);
	if (!r)
		r = say(out, "Thank you. This is ", c->business, ", a debt collector. ");
	if (!r)
		r = c->missed ? say(out, "We have not received your payment of ", c->amount, ", ")
		              : say(out, "Your next payment of ", c->amount, " ");
	if (!r)
		r = say(out, c->missed ? "which was due on " : "is due on ", c->due_date, ". ");
	if (!r)
		r = say(out, "Press 1 to confirm you will make this payment. ",
		        "Press 2 to speak to an agent. ", "Press 9 to stop automated calls to this number.");
	if (!r)
		r = buf_adds(out, "</Gather>");
	if (!r)
		r = say(out, "We did not receive a choice. ", "Please call us on ", c->callback_number);
	return r ? r : buf_adds(out, "<Hangup/>");
}

static kept_err step_body(struct buf *out, const struct script_call *c, const char *step)
{
	kept_err r;
	if (strcmp(step, "disclose") == 0 || strcmp(step, "menu") == 0)
		return menu(out, c);
	if (strcmp(step, "confirmed") == 0) {
		r = say(out, "Thank you for confirming your payment. ", "Goodbye.", NULL);
	} else if (strcmp(step, "agent") == 0) {
		if (c->agent_line) {
			r = say(out, "Connecting you to an agent.", NULL, NULL);
			if (!r)
				r = buf_adds(out, "<Dial><Number>");
			if (!r)
				r = add_escaped(out, c->agent_line);
			return r ? r : buf_adds(out, "</Number></Dial>");
		}
		r = say(out, "An agent will call you back shortly. ", "Goodbye.", NULL);
	} else if (strcmp(step, "opted_out") == 0) {
		r = say(out, "You will receive no more automated calls on this number. ", "Goodbye.", NULL);
	} else {
		return limited(out, c);
	}
	return r ? r : buf_adds(out, "<Hangup/>");
}

kept_err script_step(struct buf *out, const struct script_call *c, const char *step)
{
	return document(out, step_body, c, step ? step : "limited");
}
