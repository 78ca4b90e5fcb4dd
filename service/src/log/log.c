#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int min_level = LOG_INFO;
static _Thread_local const char *thread_request_id;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
	atomic_store(&min_level, (int)level);
}

bool log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (name && strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

bool log_enabled(enum log_level level)
{
	return (int)level >= atomic_load(&min_level);
}

void log_set_request_id(const char *request_id)
{
	thread_request_id = request_id;
}

static void put(struct log_line *l, const char *s, size_t n)
{
	/* keep one byte for the newline */
	size_t room = sizeof l->buf - 1 - l->len;
	if (n > room) {
		n = room;
		l->truncated = true;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static bool needs_quotes(const char *v)
{
	if (!*v)
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p >= 0x7f)
			return true;
	return false;
}

static void put_value(struct log_line *l, const char *v)
{
	if (!needs_quotes(v)) {
		put(l, v, strlen(v));
		return;
	}
	put(l, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(l, esc, 2);
		} else if (*p < ' ' || *p >= 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			put(l, esc, 4);
		} else {
			put(l, (const char *)p, 1);
		}
	}
	put(l, "\"", 1);
}

static void put_key(struct log_line *l, const char *key)
{
	put(l, " ", 1);
	put(l, key, strlen(key));
	put(l, "=", 1);
}

void log_begin(struct log_line *l, enum log_level level, const char *event)
{
	struct timespec ts;
	struct tm tm;
	char stamp[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", ts.tv_nsec / 1000000);
	l->level = level;
	l->len = 0;
	l->truncated = false;
	put(l, "ts=", 3);
	put(l, stamp, strlen(stamp));
	put_key(l, "level");
	put_value(l, level_names[level]);
	put_key(l, "event");
	put_value(l, event);
	if (thread_request_id) {
		put_key(l, "req");
		put_value(l, thread_request_id);
	}
}

void log_str(struct log_line *l, const char *key, const char *value)
{
	put_key(l, key);
	put_value(l, value ? value : "");
}

void log_int(struct log_line *l, const char *key, long long value)
{
	char num[32];
	snprintf(num, sizeof num, "%lld", value);
	put_key(l, key);
	put(l, num, strlen(num));
}

void log_ms(struct log_line *l, const char *key, double milliseconds)
{
	char num[32];
	snprintf(num, sizeof num, "%.3f", milliseconds);
	put_key(l, key);
	put(l, num, strlen(num));
}

void log_mask_phone(const char *e164, char *out, size_t out_size)
{
	size_t n = e164 ? strlen(e164) : 0;
	size_t o = 0;
	if (out_size == 0)
		return;
	for (size_t i = 0; i < n && o + 1 < out_size; i++) {
		char c = e164[i];
		if (c != '+' && i + 2 < n)
			c = '*';
		out[o++] = c;
	}
	out[o] = '\0';
}

void log_phone(struct log_line *l, const char *key, const char *e164)
{
	char masked[40];
	log_mask_phone(e164, masked, sizeof masked);
	log_str(l, key, masked);
}

void log_end(struct log_line *l)
{
	if (!log_enabled(l->level))
		return;
	if (l->truncated) {
		static const char mark[] = " truncated=1";
		size_t keep = sizeof l->buf - 1 - (sizeof mark - 1);
		if (l->len > keep)
			l->len = keep;
		memcpy(l->buf + l->len, mark, sizeof mark - 1);
		l->len += sizeof mark - 1;
	}
	l->buf[l->len++] = '\n';
	const char *p = l->buf;
	size_t left = l->len;
	while (left > 0) {
		ssize_t w = write(STDERR_FILENO, p, left);
		if (w <= 0)
			return;
		p += w;
		left -= (size_t)w;
	}
}

void log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct log_line l;
	log_begin(&l, level, event);
	log_str(&l, "msg", msg);
	log_end(&l);
}
