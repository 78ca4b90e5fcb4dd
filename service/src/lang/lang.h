/*
 * lang — the languages the customer's page and texts speak: English and
 * Spanish. A language comes from a BCP 47 tag ("es-US" is Spanish), or from
 * an Accept-Language header (the highest q among the two, the first listed
 * on a tie; none of them: no answer). Pure functions.
 */
#ifndef KEPT_LANG_H
#define KEPT_LANG_H

#include <stdbool.h>
#include <stddef.h>

enum lang { LANG_EN, LANG_ES };

/* The language a tag names ("en", "en-GB", "es", "es-419"); false for any other. */
bool lang_of_tag(const char *tag, enum lang *out);

/* The language an Accept-Language header prefers among ours; false when it names neither. */
bool lang_of_accept(const char *header, enum lang *out);

/* "en" or "es". */
const char *lang_code(enum lang l);

/* A date "YYYY-MM-DD" as people read it: "Friday 4 December 2026" /
 * "viernes, 4 de diciembre de 2026" (without the weekday when `weekday` is
 * false). False (out unchanged) when `iso` is not a date; `out` of at least
 * LANG_DATE_MAX bytes. */
#define LANG_DATE_MAX 64
bool lang_date(enum lang l, const char *iso, bool weekday, char *out, size_t n);

/* An amount in minor units, in its currency's units with the language's
 * marks, then the code: "1,250.00 USD" / "1.250,00 USD", "1,500 JPY". */
#define LANG_MONEY_MAX 48
void lang_money(enum lang l, long long minor, int minor_units, const char *currency, char *out, size_t n);

#endif
