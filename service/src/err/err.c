#include "err.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[KEPT_ERR__COUNT] = {
        [KEPT_OK] = "ok",
        [KEPT_ERR_INVALID] = "invalid",
        [KEPT_ERR_UNAUTHENTICATED] = "unauthenticated",
        [KEPT_ERR_FORBIDDEN] = "forbidden",
        [KEPT_ERR_NOT_FOUND] = "not_found",
        [KEPT_ERR_METHOD] = "method_not_allowed",
        [KEPT_ERR_CONFLICT] = "conflict",
        [KEPT_ERR_PRECONDITION] = "precondition_failed",
        [KEPT_ERR_TOO_LARGE] = "too_large",
        [KEPT_ERR_MEDIA_TYPE] = "unsupported_media_type",
        [KEPT_ERR_RULE] = "rule_violation",
        [KEPT_ERR_UNAVAILABLE] = "unavailable",
        [KEPT_ERR_RATE_LIMITED] = "rate_limited",
        [KEPT_ERR_RETRY] = "retry",
        [KEPT_ERR_NOMEM] = "no_memory",
        [KEPT_ERR_INTERNAL] = "internal",
};

void kept_error_clear(struct kept_error *e)
{
	memset(e, 0, sizeof *e);
}

kept_err kept_failv(struct kept_error *e, kept_err kind, const char *code, const char *field, const char *fmt,
                    va_list ap)
{
	if (!e)
		return kind;
	e->kind = kind;
	snprintf(e->code, sizeof e->code, "%s", code ? code : "");
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	e->constraint[0] = '\0';
	e->details_json = NULL;
	return kind;
}

kept_err kept_fail(struct kept_error *e, kept_err kind, const char *code, const char *field, const char *fmt,
                   ...)
{
	va_list ap;
	va_start(ap, fmt);
	kept_failv(e, kind, code, field, fmt, ap);
	va_end(ap);
	return kind;
}

const char *kept_err_name(kept_err kind)
{
	if ((unsigned)kind >= KEPT_ERR__COUNT || !kind_names[kind])
		return "unknown";
	return kind_names[kind];
}
