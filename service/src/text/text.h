/*
 * text — checks on untrusted text: UTF-8, and the formats kept's values
 * arrive in. Each check here mirrors a SQL predicate of the same rule, named
 * beside it; where keptd checks a value before it reaches the database (the
 * CSV imports, which must not make COPY fail on a single bad value), both
 * must agree, and tests/integration/test_payments.py holds them to it.
 *
 * All functions take a length and never read past it; none allocates.
 */
#ifndef KEPT_TEXT_H
#define KEPT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
bool text_utf8_valid(const char *s, size_t n);

/* The number of characters (code points) in valid UTF-8. */
size_t text_utf8_length(const char *s, size_t n);

/* "YYYY-MM-DD" naming a real day from 1900 to 9999. */
bool text_is_date(const char *s, size_t n);

/*
 * An RFC 3339 / ISO 8601 instant PostgreSQL accepts as timestamptz
 * (kept.is_timestamp): YYYY-MM-DD, then T or a space, HH:MM, optional :SS
 * and up to six fraction digits, then Z or an offset of +-HH, +-HHMM or
 * +-HH:MM up to 15:59. Years 0001-9999; the day must exist in its month.
 */
bool text_is_timestamp(const char *s, size_t n);

/* A positive whole number of cents: 1 to 15 digits, not all zeros. */
bool text_is_cents(const char *s, size_t n);

/* A phone number in E.164 (kept.is_e164): ^\+[1-9][0-9]{6,14}$ */
bool text_is_e164(const char *s, size_t n);

/* A payment source (payments_source_check): ^[a-z0-9][a-z0-9_.:-]{0,39}$ */
bool text_is_source(const char *s, size_t n);

/* A source_ref (payments_source_ref_check): 1 to 128 characters of valid
 * UTF-8, none of them an ASCII control character (what [[:cntrl:]] means to
 * PostgreSQL in kept's C-collation database). */
bool text_is_source_ref(const char *s, size_t n);

#endif
