#include "lang.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool primary_is(const char *tag, size_t n, const char *code)
{
	size_t c = strlen(code);
	return n >= c && strncasecmp(tag, code, c) == 0 && (n == c || tag[c] == '-' || tag[c] == '_');
}

static bool of_tag(const char *tag, size_t n, enum lang *out)
{
	if (primary_is(tag, n, "en")) {
		*out = LANG_EN;
		return true;
	}
	if (primary_is(tag, n, "es")) {
		*out = LANG_ES;
		return true;
	}
	return false;
}

bool lang_of_tag(const char *tag, enum lang *out)
{
	return tag && of_tag(tag, strlen(tag), out);
}

/* q=0.7 as thousandths; 1000 when absent or malformed upward; 0 for q=0. */
static int quality(const char *params, size_t n)
{
	const char *q = NULL;
	for (size_t i = 0; i + 1 < n; i++)
		if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=' &&
		    (i == 0 || params[i - 1] == ';' || params[i - 1] == ' '))
			q = params + i + 2;
	if (!q)
		return 1000;
	char buf[8] = "";
	size_t k = 0;
	while (q < params + n && k + 1 < sizeof buf && (isdigit((unsigned char)*q) || *q == '.'))
		buf[k++] = *q++;
	buf[k] = '\0';
	double v = strtod(buf, NULL);
	return v <= 0 ? 0 : v >= 1 ? 1000 : (int)(v * 1000 + 0.5);
}

bool lang_of_accept(const char *header, enum lang *out)
{
	int best = 0;
	for (const char *p = header; p && *p;) {
		size_t item = strcspn(p, ",");
		while (item && *p == ' ') {
			p++;
			item--;
		}
		size_t tag = strcspn(p, ";,");
		if (tag > item)
			tag = item;
		while (tag && p[tag - 1] == ' ')
			tag--;
		enum lang l;
		int q = quality(p + tag, item - tag);
		if (of_tag(p, tag, &l) && q > best) {
			best = q;
			*out = l;
		}
		p += item;
		if (*p == ',')
			p++;
	}
	return best > 0;
}

const char *lang_code(enum lang l)
{
	return l == LANG_ES ? "es" : "en";
}

static const char *const month_names[2][12] = {
        {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
         "November", "December"},
        {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"},
};
static const char *const day_names[2][7] = {
        {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
        {"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
};

/* The `len` digits of `iso` from `at` as a number, or -1. */
static int iso_part(const char *iso, size_t at, size_t len)
{
	int v = 0;
	for (size_t i = 0; i < len; i++) {
		char c = iso[at + i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	return v;
}

bool lang_date(enum lang l, const char *iso, bool weekday, char *out, size_t n)
{
	if (!iso || strlen(iso) != 10 || iso[4] != '-' || iso[7] != '-')
		return false;
	int y = iso_part(iso, 0, 4), m = iso_part(iso, 5, 2), d = iso_part(iso, 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
	time_t t = timegm(&tm);
	struct tm back;
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d)
		return false;
	int k = l == LANG_ES ? 1 : 0;
	if (l == LANG_ES)
		snprintf(out, n, "%s%s%d de %s de %d", weekday ? day_names[k][back.tm_wday] : "",
		         weekday ? ", " : "", d, month_names[k][m - 1], y);
	else
		snprintf(out, n, "%s%s%d %s %d", weekday ? day_names[k][back.tm_wday] : "",
		         weekday ? " " : "", d, month_names[k][m - 1], y);
	return true;
}

void lang_money(enum lang l, long long minor, int minor_units, const char *currency, char *out, size_t n)
{
	char group = l == LANG_ES ? '.' : ',', point = l == LANG_ES ? ',' : '.';
	unsigned long long v = minor < 0 ? (unsigned long long)(-(minor + 1)) + 1 : (unsigned long long)minor;
	int digits = minor_units < 0 ? 0 : minor_units > 4 ? 4 : minor_units; /* ISO 4217 has at most 4 */
	unsigned long long scale = 1;
	for (int i = 0; i < digits; i++)
		scale *= 10;
	char whole[32], grouped[48];
	snprintf(whole, sizeof whole, "%llu", v / scale);
	size_t w = strlen(whole), g = 0;
	for (size_t i = 0; i < w && g + 2 < sizeof grouped; i++) {
		if (i && (w - i) % 3 == 0)
			grouped[g++] = group;
		grouped[g++] = whole[i];
	}
	grouped[g] = '\0';
	if (digits > 0)
		snprintf(out, n, "%s%s%c%0*llu %s", minor < 0 ? "-" : "", grouped, point, digits, v % scale,
		         currency ? currency : "");
	else
		snprintf(out, n, "%s%s %s", minor < 0 ? "-" : "", grouped, currency ? currency : "");
}
