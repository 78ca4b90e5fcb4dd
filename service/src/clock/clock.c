#include "clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool simulated;
static _Atomic int64_t offset_us;
static atomic_uint generation = 1;

void clock_configure(bool sim)
{
	simulated = sim;
}

bool clock_is_simulated(void)
{
	return simulated;
}

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_now_us(void)
{
	return wall_us() + (simulated ? atomic_load(&offset_us) : 0);
}

bool clock_set_us(int64_t now_us)
{
	if (!simulated)
		return false;
	atomic_store(&offset_us, now_us - wall_us());
	atomic_fetch_add(&generation, 1);
	return true;
}

bool clock_reset(void)
{
	if (!simulated)
		return false;
	atomic_store(&offset_us, 0);
	atomic_fetch_add(&generation, 1);
	return true;
}

int64_t clock_offset_us(unsigned *gen)
{
	/* generation first: a change racing with this read is seen at the next statement */
	if (gen)
		*gen = atomic_load(&generation);
	return simulated ? atomic_load(&offset_us) : 0;
}

void clock_format_us(int64_t us, char *out, size_t size)
{
	time_t s = (time_t)(us / 1000000);
	long frac = (long)(us % 1000000);
	if (frac < 0) {
		frac += 1000000;
		s--;
	}
	struct tm tm;
	gmtime_r(&s, &tm);
	char date[24];
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%06ldZ", date, frac);
}

/* `n` digits at *p as a number, advancing *p; -1 when they are not digits. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	return v;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* The fraction of a second after the '.', in microseconds (extra digits dropped). */
static long fraction_us(const char **p)
{
	long us = 0, scale = 100000;
	if (**p < '0' || **p > '9')
		return -1;
	for (; **p >= '0' && **p <= '9'; (*p)++, scale /= 10)
		us += scale > 0 ? (**p - '0') * scale : 0;
	return us;
}

/* "Z", "z" or "+HH:MM"/"-HH:MM" as seconds east of UTC; false otherwise. */
static bool zone_offset(const char *p, long *out)
{
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		*out = 0;
		return true;
	}
	if ((p[0] != '+' && p[0] != '-') || strlen(p) != 6 || p[3] != ':')
		return false;
	const char *q = p + 1;
	int h = digits(&q, 2);
	q++;
	int m = digits(&q, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return false;
	*out = (p[0] == '-' ? -1 : 1) * (h * 3600L + m * 60L);
	return true;
}

bool clock_parse_rfc3339(const char *text, int64_t *out_us)
{
	const char *p = text;
	int y = digits(&p, 4);
	int mo = expect(&p, '-') ? digits(&p, 2) : -1;
	int d = expect(&p, '-') ? digits(&p, 2) : -1;
	int h = (expect(&p, 'T') || expect(&p, 't')) ? digits(&p, 2) : -1;
	int mi = expect(&p, ':') ? digits(&p, 2) : -1;
	int s = expect(&p, ':') ? digits(&p, 2) : -1;
	long frac = 0, zone = 0;
	if (*p == '.')
		p++, frac = fraction_us(&p);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    s < 0 || s > 59 || frac < 0 || !zone_offset(p, &zone))
		return false;
	struct tm tm = {
	        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
	time_t t = timegm(&tm);
	struct tm back;
	gmtime_r(&t, &back);
	if (back.tm_mday != d) /* 31 February and the like */
		return false;
	*out_us = ((int64_t)t - zone) * 1000000 + frac;
	return true;
}

long long clock_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
