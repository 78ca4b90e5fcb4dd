#include "form.h"

#include <stdbool.h>
#include <string.h>

#include "text/text.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into a new arena string; NULL when malformed. */
static char *decode(struct arena *arena, const char *s, size_t n)
{
	char *out = arena_alloc(arena, n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '\0') {
			return NULL;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return text_utf8_valid(out, o) ? out : NULL;
}

kept_err form_decode(struct arena *arena, const char *body, size_t len, struct form *out,
                     struct kept_error *err)
{
	out->fields = NULL;
	out->count = 0;
	size_t max = 1;
	for (size_t i = 0; i < len; i++)
		max += body[i] == '&';
	out->fields = arena_alloc(arena, max * sizeof *out->fields);
	if (!out->fields)
		return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
	size_t start = 0;
	while (start < len) {
		size_t end = start;
		while (end < len && body[end] != '&')
			end++;
		if (end > start) {
			const char *eq = memchr(body + start, '=', end - start);
			size_t name_len = eq ? (size_t)(eq - (body + start)) : end - start;
			const char *name = decode(arena, body + start, name_len);
			const char *value = eq ? decode(arena, eq + 1, (size_t)(body + end - (eq + 1))) : "";
			if (!name || !value || !name[0])
				return kept_fail(err, KEPT_ERR_INVALID, "invalid_form", "",
				                 "the form body is malformed near byte %zu", start);
			out->fields[out->count].name = name;
			out->fields[out->count].value = value;
			out->count++;
		}
		start = end + 1;
	}
	return KEPT_OK;
}

const char *form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return f->fields[i].value;
	return NULL;
}

kept_err form_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		             (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
		kept_err r =
		        plain ? buf_addc(b, (char)*p) : buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
		if (r)
			return r;
	}
	return KEPT_OK;
}

kept_err form_append(struct buf *b, const char *name, const char *value)
{
	kept_err r = buf_len(b) ? buf_addc(b, '&') : KEPT_OK;
	if (!r)
		r = form_escape(b, name);
	if (!r)
		r = buf_addc(b, '=');
	return r ? r : form_escape(b, value);
}
