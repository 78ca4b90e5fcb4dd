/*
 * log — one logfmt line per event on stderr.
 *
 *     ts=2026-11-22T10:18:00.123Z level=info event=request req=4f1c... status=200
 *
 * A line is built in a fixed buffer on the caller's stack (struct log_line)
 * and written with a single write(2), so lines from different threads never
 * interleave. Lines longer than the buffer are cut and marked `truncated=1`.
 * Values are quoted and escaped as logfmt requires; bytes outside printable
 * ASCII are written as \xNN, so hostile input cannot forge lines.
 *
 * The request id of the work the current thread is doing (set with
 * log_set_request_id) is added to every line automatically.
 *
 * Never pass secrets here. Phone numbers go through log_phone(), which masks
 * all but the last two digits.
 */
#ifndef KEPT_LOG_H
#define KEPT_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "err/err.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOG_LINE_MAX 2048

struct log_line {
	enum log_level level;
	size_t len;
	bool truncated;
	char buf[LOG_LINE_MAX];
};

/* Lines below `level` are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);

/* Parses "debug", "info", "warn", "error". Returns false for anything else. */
bool log_level_parse(const char *name, enum log_level *out);

/* True when a line at `level` would be written. */
bool log_enabled(enum log_level level);

/* The request id for lines written by this thread; NULL clears it. The string
 * must outlive its use (the http module keeps it in the request). */
void log_set_request_id(const char *request_id);

/* Starts a line: ts, level, event and the thread's request id. */
void log_begin(struct log_line *l, enum log_level level, const char *event);

/* Appends key=value; a NULL value is written as an empty string. */
void log_str(struct log_line *l, const char *key, const char *value);
void log_int(struct log_line *l, const char *key, long long value);
void log_ms(struct log_line *l, const char *key, double milliseconds);

/* Appends key=<phone with all but the last two digits masked>. */
void log_phone(struct log_line *l, const char *key, const char *e164);

/* Writes the line (if its level is enabled). */
void log_end(struct log_line *l);

/* One-call form for a line with a message: event=<event> msg="<printf>". */
void log_msg(enum log_level level, const char *event, const char *fmt, ...) KEPT_PRINTF(3, 4);

/* Masks a phone number into `out` ("+*********23"); exposed for tests. */
void log_mask_phone(const char *e164, char *out, size_t out_size);

#endif
