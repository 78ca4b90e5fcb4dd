/*
 * form — application/x-www-form-urlencoded bodies, both ways.
 *
 * Decoding turns "+" into a space and %XX into its byte; a malformed escape,
 * an escaped NUL or invalid UTF-8 makes the whole body invalid (the provider
 * only ever sends UTF-8 text). Fields keep their order; a name may repeat.
 * Encoding escapes every byte outside RFC 3986's unreserved set, so "+"
 * travels as %2B and a space as %20.
 */
#ifndef KEPT_FORM_H
#define KEPT_FORM_H

#include <stddef.h>

#include "arena/arena.h"
#include "buf/buf.h"
#include "err/err.h"

struct form_field {
	const char *name;
	const char *value;
};

struct form {
	struct form_field *fields;
	size_t count;
};

/* Decodes `len` bytes of `body` into `out` (arena-owned). KEPT_ERR_INVALID
 * with code invalid_form for a malformed body. */
kept_err form_decode(struct arena *arena, const char *body, size_t len, struct form *out,
                     struct kept_error *err) KEPT_MUST_CHECK;

/* The first value of `name`, or NULL. */
const char *form_get(const struct form *f, const char *name);

/* Appends "name=value" (with a leading "&" unless `b` is empty), both escaped. */
kept_err form_append(struct buf *b, const char *name, const char *value) KEPT_MUST_CHECK;

/* Appends `s` percent-escaped (everything but A-Z a-z 0-9 - . _ ~). */
kept_err form_escape(struct buf *b, const char *s) KEPT_MUST_CHECK;

#endif
