/*
 * ratelimit — how fast one API key may make requests, per keptd instance.
 *
 * Each key has a token bucket: it holds at most `burst` tokens, gains `rate`
 * tokens a second, and every request takes one. A request that finds no
 * token is refused, and the caller learns how long until the next token.
 * Buckets live in a fixed table (RATELIMIT_SLOTS, no allocation after
 * ratelimit_new); a key whose bucket has been idle long enough to be full
 * again may have its slot given to another key, which changes nothing for
 * it. Thread-safe: one mutex around a few arithmetic operations.
 *
 * Several keptd behind a load balancer each count on their own: a key gets
 * up to (instances x rate). The table is the instance's, not shared state.
 */
#ifndef KEPT_RATELIMIT_H
#define KEPT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_SLOTS 8192

struct ratelimit;

/* A limiter of `rate` requests a second with bursts of `burst` (both > 0);
 * NULL when out of memory. Free with ratelimit_free (NULL: no-op). */
struct ratelimit *ratelimit_new(double rate, double burst);
void ratelimit_free(struct ratelimit *rl);

/* Takes a token for `key` at `now_ns` (a monotonic clock). True when the
 * request may go ahead; false with *retry_after_s (whole seconds, at least 1)
 * until a token will be there. */
bool ratelimit_take(struct ratelimit *rl, long long key, uint64_t now_ns, int *retry_after_s);

#endif
