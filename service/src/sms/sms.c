#include "sms.h"

#include <stdio.h>
#include <string.h>

struct sms_words {
	const char *hello;       /* "Hello" */
	const char *link;        /* ", here is your personal page: " */
	const char *until;       /* " It works until " */
	const char *code;        /* ": your code is " */
	const char *code_expiry; /* ". It works for {n} minutes. Do not share it." (split around n) */
	const char *code_minutes;
	const char *agreed;  /* ": thank you. Your weekly plan of " */
	const char *from;    /* " from " */
	const char *is_set;  /* " is agreed." */
	const char *pending; /* ": thank you. An associate will confirm your proposal by " */
	const char *help;    /* ": for help, call " */
	const char *start;   /* ": you will receive texts from us again." */
	const char *help_stop;
	const char *stop; /* " Reply STOP to opt out." */
};

static const struct sms_words words[] = {
        [LANG_EN] = {.hello = "Hello",
                     .link = ", here is your personal page: ",
                     .until = " It works until ",
                     .code = ": your code is ",
                     .code_expiry = ". It works for ",
                     .code_minutes = " minutes. Do not share it.",
                     .agreed = ": thank you. Your weekly plan of ",
                     .from = " from ",
                     .is_set = " is agreed.",
                     .pending = ": thank you. An associate will confirm your proposal by ",
                     .help = ": for help, call ",
                     .start = ": you will receive texts from us again.",
                     .help_stop = " Reply HELP for help.",
                     .stop = " Reply STOP to opt out."},
        [LANG_ES] = {.hello = "Hola",
                     .link = ", esta es su página personal: ",
                     .until = " Funciona hasta el ",
                     .code = ": su código es ",
                     .code_expiry = ". Es válido durante ",
                     .code_minutes = " minutos. No lo comparta.",
                     .agreed = ": gracias. Su plan semanal de ",
                     .from = " a partir del ",
                     .is_set = " está acordado.",
                     .pending = ": gracias. Un asociado confirmará su propuesta antes del ",
                     .help = ": para obtener ayuda, llame al ",
                     .start = ": volverá a recibir nuestros mensajes.",
                     .help_stop = " Responda HELP para obtener ayuda.",
                     .stop = " Responda STOP para no recibir más mensajes."},
};

static const struct sms_words *w(enum lang l)
{
	return &words[l == LANG_ES ? LANG_ES : LANG_EN];
}

/* Appends the parts (NULL ends them); too long is KEPT_ERR_TOO_LARGE. */
static kept_err parts(struct buf *out, const char *const *p)
{
	kept_err r = KEPT_OK;
	for (; *p && !r; p++)
		r = buf_adds(out, *p);
	if (!r &&
	    buf_len(out) > (size_t)SMS_MAX_CHARS * 4) /* bytes; the characters are counted by the provider */
		r = KEPT_ERR_TOO_LARGE;
	return r;
}

kept_err sms_link_text(struct buf *out, enum lang l, const char *business, const char *first_name,
                       const char *url, const char *expires_on)
{
	char day[LANG_DATE_MAX] = "";
	if (!lang_date(l, expires_on, false, day, sizeof day))
		return KEPT_ERR_INVALID;
	const char *p[] = {business,
	                   ": ",
	                   w(l)->hello,
	                   first_name && *first_name ? " " : "",
	                   first_name ? first_name : "",
	                   w(l)->link,
	                   url,
	                   ".",
	                   w(l)->until,
	                   day,
	                   ".",
	                   w(l)->help_stop,
	                   w(l)->stop,
	                   NULL};
	return parts(out, p);
}

kept_err sms_code_text(struct buf *out, enum lang l, const char *business, const char *code, int minutes)
{
	char n[16];
	snprintf(n, sizeof n, "%d", minutes);
	const char *p[] = {business, w(l)->code,         code,       w(l)->code_expiry,
	                   n,        w(l)->code_minutes, w(l)->stop, NULL};
	return parts(out, p);
}

kept_err sms_plan_text(struct buf *out, enum lang l, const char *business, bool active, const char *weekly,
                       const char *first_due, const char *hear_back_by)
{
	char day[LANG_DATE_MAX] = "";
	if (!lang_date(l, active ? first_due : hear_back_by, false, day, sizeof day))
		return KEPT_ERR_INVALID;
	if (!active) {
		const char *p[] = {business, w(l)->pending, day, ".", w(l)->help_stop, w(l)->stop, NULL};
		return parts(out, p);
	}
	const char *p[] = {business,     w(l)->agreed,    weekly,     w(l)->from, day,
	                   w(l)->is_set, w(l)->help_stop, w(l)->stop, NULL};
	return parts(out, p);
}

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

kept_err sms_reply_twiml(struct buf *out, enum lang l, const char *keyword, const char *business,
                         const char *callback_number)
{
	kept_err r = buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	bool help = keyword && strcmp(keyword, "help") == 0, start = keyword && strcmp(keyword, "start") == 0;
	if (r || (!help && !start))
		return r ? r : buf_adds(out, "<Response/>\n");
	struct buf text;
	buf_init(&text, 4096);
	const char *hp[] = {business, w(l)->help, callback_number ? callback_number : "",
	                    ".",      w(l)->stop, NULL};
	const char *sp[] = {business, w(l)->start, w(l)->help_stop, w(l)->stop, NULL};
	r = parts(&text, help ? hp : sp);
	if (!r)
		r = buf_adds(out, "<Response><Message>");
	if (!r)
		r = add_escaped(out, buf_str(&text));
	if (!r)
		r = buf_adds(out, "</Message></Response>\n");
	buf_free(&text);
	return r;
}
