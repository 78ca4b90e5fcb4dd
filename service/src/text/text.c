#include "text/text.h"

/* ---- UTF-8 ----------------------------------------------------------------------------- */

/* Decodes the sequence at p[0..n) into *cp; returns its length, 0 when malformed. */
static size_t utf8_next(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0];
	size_t len;
	unsigned min, v;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, min = 0x80, v = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		len = 3, min = 0x800, v = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		len = 4, min = 0x10000, v = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

bool text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned cp;
		if (p[i] < 0x80) { /* the common case, without the call */
			i++;
			continue;
		}
		size_t len = utf8_next(p + i, n - i, &cp);
		if (!len)
			return false;
		i += len;
	}
	return true;
}

size_t text_utf8_length(const char *s, size_t n)
{
	size_t chars = 0;
	for (size_t i = 0; i < n; i++)
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	return chars;
}

/* ---- dates and times --------------------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The value of n digits at s, or -1 when one is not a digit. */
static int digits(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool real_day(int y, int m, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m < 1 || m > 12 || d < 1)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap ? 1 : 0);
}

/* "YYYY-MM-DD" at s (10 bytes available); the year must be at least min_year. */
static bool date_at(const char *s, int min_year)
{
	if (s[4] != '-' || s[7] != '-')
		return false;
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	return y >= min_year && real_day(y, m, d);
}

bool text_is_date(const char *s, size_t n)
{
	return n == 10 && date_at(s, 1900);
}

/* Two digits at s forming a number no greater than max. */
static bool two_digits(const char *s, int max)
{
	int v = digits(s, 2);
	return v >= 0 && v <= max;
}

bool text_is_timestamp(const char *s, size_t n)
{
	/* YYYY-MM-DDTHH:MM is the shortest body; Z the shortest zone */
	if (n < 17 || !date_at(s, 1) || (s[10] != 'T' && s[10] != ' '))
		return false;
	if (!two_digits(s + 11, 23) || s[13] != ':' || !two_digits(s + 14, 59))
		return false;
	size_t i = 16;
	if (i < n && s[i] == ':') {
		if (n - i < 3 || !two_digits(s + i + 1, 59))
			return false;
		i += 3;
		if (i < n && s[i] == '.') {
			size_t f = 0;
			for (i++; i < n && is_digit(s[i]); i++)
				f++;
			if (f < 1 || f > 6)
				return false;
		}
	}
	if (i == n)
		return false; /* no zone */
	if (s[i] == 'Z')
		return i + 1 == n;
	if (s[i] != '+' && s[i] != '-')
		return false;
	i++;
	if (n - i < 2 || !two_digits(s + i, 15))
		return false;
	i += 2;
	if (i == n)
		return true;
	if (s[i] == ':')
		i++;
	return n - i == 2 && two_digits(s + i, 59);
}

/* ---- payment values ------------------------------------------------------------------------ */

bool text_is_cents(const char *s, size_t n)
{
	if (n < 1 || n > 15)
		return false;
	bool nonzero = false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		nonzero |= s[i] != '0';
	}
	return nonzero;
}

bool text_is_source(const char *s, size_t n)
{
	if (n < 1 || n > 40)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || is_digit(c) ||
		          (i > 0 && (c == '_' || c == '.' || c == ':' || c == '-'));
		if (!ok)
			return false;
	}
	return true;
}

bool text_is_source_ref(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;
	for (size_t i = 0; i < n; chars++) {
		unsigned cp;
		size_t len = utf8_next(p + i, n - i, &cp);
		if (!len || cp < 0x20 || cp == 0x7f)
			return false;
		i += len;
	}
	return chars >= 1 && chars <= 128;
}

bool text_is_e164(const char *s, size_t n)
{
	if (n < 8 || n > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	for (size_t i = 2; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}
