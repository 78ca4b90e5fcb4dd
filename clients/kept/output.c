#include "output.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void table_init(struct table *t, size_t ncols, const char *const *headers)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	for (size_t i = 0; i < t->ncols; i++)
		t->headers[i] = headers[i];
}

bool table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
		if (!grown)
			return false;
		t->cells = grown;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char *copy = strdup(cells[i] ? cells[i] : "-");
		if (!copy)
			return false;
		t->cells[t->nrows * t->ncols + i] = copy;
	}
	t->nrows++;
	return true;
}

/* Characters in a UTF-8 string (continuation bytes do not count). */
static size_t width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void print_row(const struct table *t, const char *const *row, const size_t *widths, FILE *out)
{
	for (size_t c = 0; c < t->ncols; c++) {
		bool last = c + 1 == t->ncols;
		fputs(row[c], out);
		for (size_t pad = width(row[c]); !last && pad < widths[c] + 2; pad++)
			fputc(' ', out);
	}
	fputc('\n', out);
}

void table_print(const struct table *t, FILE *out)
{
	size_t widths[TABLE_MAX_COLS];
	for (size_t c = 0; c < t->ncols; c++) {
		widths[c] = width(t->headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = width(t->cells[r * t->ncols + c]);
			widths[c] = w > widths[c] ? w : widths[c];
		}
	}
	print_row(t, t->headers, widths, out);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(t, (const char *const *)&t->cells[r * t->ncols], widths, out);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

int money_digits(const char *currency)
{
	static const char *const zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
	                                   "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"};
	static const char *const three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
	static const char *const four[] = {"CLF", "UYW"};
	for (size_t i = 0; currency && i < sizeof zero / sizeof zero[0]; i++)
		if (strcmp(currency, zero[i]) == 0)
			return 0;
	for (size_t i = 0; currency && i < sizeof three / sizeof three[0]; i++)
		if (strcmp(currency, three[i]) == 0)
			return 3;
	for (size_t i = 0; currency && i < sizeof four / sizeof four[0]; i++)
		if (strcmp(currency, four[i]) == 0)
			return 4;
	return 2;
}

const char *money_example(const char *currency)
{
	static const char *const examples[] = {"1250", "1250.0", "1250.00", "1250.000", "1250.0000"};
	int digits = money_digits(currency);
	return examples[digits < 0 || digits > 4 ? 2 : digits];
}

bool money_parse(const char *text, const char *currency, long long *minor)
{
	int digits = money_digits(currency), decimals = -1;
	long long v = 0;
	if (!text || !*text)
		return false;
	for (const char *p = text; *p; p++) {
		if (*p == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*p < '0' || *p > '9' || decimals >= digits || v > (LLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
		if (decimals >= 0)
			decimals++;
	}
	for (int d = decimals < 0 ? 0 : decimals; d < digits; d++) {
		if (v > LLONG_MAX / 10)
			return false;
		v *= 10;
	}
	*minor = v;
	return true;
}

void money_format(long long minor, const char *currency, char *out, size_t size)
{
	int digits = money_digits(currency);
	unsigned long long v = minor < 0 ? 0ULL - (unsigned long long)minor : (unsigned long long)minor;
	unsigned long long scale = 1;
	for (int d = 0; d < digits; d++)
		scale *= 10;
	char whole[40], grouped[56];
	snprintf(whole, sizeof whole, "%llu", v / scale);
	size_t n = strlen(whole), g = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			grouped[g++] = ',';
		grouped[g++] = whole[i];
	}
	grouped[g] = '\0';
	const char *cur = currency && *currency ? currency : "";
	const char *sep = *cur ? " " : "";
	if (digits)
		snprintf(out, size, "%s%s.%0*llu%s%s", minor < 0 ? "-" : "", grouped, digits, v % scale, sep,
		         cur);
	else
		snprintf(out, size, "%s%s%s%s", minor < 0 ? "-" : "", grouped, sep, cur);
}

/* Sets TZ to `zone` (NULL: unset) and returns what it was, malloc'd or NULL. */
static char *swap_zone(const char *zone)
{
	const char *was = getenv("TZ");
	char *saved = was ? strdup(was) : NULL;
	if (zone)
		setenv("TZ", zone, 1);
	else
		unsetenv("TZ");
	tzset();
	return saved;
}

/* The n digits at p as a number; -1 when they are not all digits. */
static int number_at(const char *p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

void time_format(const char *utc, const char *zone, char *out, size_t size)
{
	snprintf(out, size, "%s", utc ? utc : "");
	/* 2026-12-02T14:30:05[.123456]Z */
	if (!utc || strlen(utc) < 20 || utc[4] != '-' || utc[7] != '-' || utc[10] != 'T' || utc[13] != ':' ||
	    utc[16] != ':')
		return;
	struct tm tm = {.tm_year = number_at(utc, 4) - 1900,
	                .tm_mon = number_at(utc + 5, 2) - 1,
	                .tm_mday = number_at(utc + 8, 2),
	                .tm_hour = number_at(utc + 11, 2),
	                .tm_min = number_at(utc + 14, 2),
	                .tm_sec = number_at(utc + 17, 2)};
	const char *rest = utc + 19;
	if (*rest == '.')
		rest += 1 + strspn(rest + 1, "0123456789");
	if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 0 || tm.tm_hour < 0 || tm.tm_min < 0 ||
	    tm.tm_sec < 0 || strcmp(rest, "Z") != 0)
		return;
	time_t t = timegm(&tm);
	bool own = !zone || !*zone;
	char *saved = own ? NULL : swap_zone(zone);
	struct tm local;
	if (localtime_r(&t, &local))
		strftime(out, size, "%Y-%m-%d %H:%M:%S %Z", &local);
	if (!own) {
		char *restored = swap_zone(saved);
		free(restored);
		free(saved);
	}
}
