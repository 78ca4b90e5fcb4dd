/*
 * clock — keptd's one clock: the time every job, rule and record reads.
 *
 * In the default mode (KEPT_CLOCK=wall) it is the wall clock. In simulated
 * mode (KEPT_CLOCK=simulated: tests, the demo, replays; configuration allows
 * it only when keptd talks to the telephony simulator) it is the wall clock
 * moved by an offset that an admin sets (PUT /v1/admin/clock), so simulated
 * time flows at the wall clock's rate from the moment it is set. The
 * database reads the same clock: db sends the offset to each session
 * (kept.clock_offset, which kept.now() adds to the transaction's start)
 * before its next statement whenever it has changed.
 *
 * The state is process-wide and safe to read and set from any thread.
 */
#ifndef KEPT_CLOCK_H
#define KEPT_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets the mode once at start (before any thread reads the clock). */
void clock_configure(bool simulated);

bool clock_is_simulated(void);

/* Microseconds since the Unix epoch on keptd's clock. */
int64_t clock_now_us(void);

/* Simulated mode only: makes the clock read `now_us` at this moment (it then
 * flows on); false in wall mode. */
bool clock_set_us(int64_t now_us);

/* Simulated mode only: back to the wall clock (offset 0); false in wall mode. */
bool clock_reset(void);

/* The offset from the wall clock in microseconds, and a generation number
 * that changes every time the offset does (1 before the first change). */
int64_t clock_offset_us(unsigned *generation);

/* keptd's clock as RFC 3339 UTC with microseconds (out: at least 28 bytes). */
void clock_format_us(int64_t us, char *out, size_t size);

/* Parses RFC 3339 ("2026-03-08T10:00:00Z", "...T10:00:00.5+01:00") to
 * microseconds since the epoch; false when it is not one. */
bool clock_parse_rfc3339(const char *text, int64_t *out_us);

/* A monotonic clock in milliseconds, for waits and deadlines inside keptd. */
long long clock_monotonic_ms(void);

#endif
