/*
 * output — how the kept CLI shows things to people: aligned tables and money.
 *
 * A table copies every cell it is given and prints columns padded to their
 * widest cell (counted in characters, not bytes, so names in any script line
 * up). Money is integer minor units; the number of decimals follows the
 * currency (ISO 4217: JPY 0, USD 2, KWD 3, ...). No floating point.
 */
#ifndef KEPT_CLI_OUTPUT_H
#define KEPT_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 24

struct table {
	size_t ncols;
	const char *headers[TABLE_MAX_COLS];
	char **cells; /* nrows * ncols, malloc'd copies */
	size_t nrows;
	size_t cap;
};

void table_init(struct table *t, size_t ncols, const char *const *headers);
/* Appends a row of `ncols` cells (NULL prints as "-"); false when out of memory. */
bool table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

/* Decimal places of `currency`'s minor unit, as kept.currencies has them
 * (schema/0025_desk.sql; tests/unit/test_cli_output.c holds the two equal). */
int money_digits(const char *currency);

/* "1234.5" in `currency` -> minor units; false for anything that is not a
 * plain non-negative decimal with at most the currency's decimals. */
bool money_parse(const char *text, const char *currency, long long *minor);

/* An amount as `currency` writes it, for messages: "1250.00", "1250", "1250.000". */
const char *money_example(const char *currency);

/* Minor units -> "1,234.50 GBP". */
void money_format(long long minor, const char *currency, char *out, size_t size);

/* A time as kept writes it (RFC 3339 in UTC, "2026-12-02T14:30:05.123456Z")
 * in `zone` (an IANA name; NULL or "" for this machine's own zone), to the
 * second with the zone's abbreviation: "2026-12-02 09:30:05 EST". Anything
 * else ("", a date) is copied unchanged. */
void time_format(const char *utc, const char *zone, char *out, size_t size);

#endif
