/*
 * arena — a memory pool owned by one unit of work (an HTTP request, a job
 * pass, a CLI command) and released as a whole when that work ends.
 *
 * Allocations are bump-allocated from chunks and never freed one by one.
 * Objects that own memory elsewhere (a parsed JSON tree, a database result,
 * a malloc'd buffer) are handed to the arena with arena_defer(); their
 * release functions run in reverse order of registration when the arena is
 * freed. An arena has a hard cap on the bytes it will hand out; past the cap
 * every allocation returns NULL, so a hostile request cannot grow one
 * without bound.
 *
 * An arena is not thread-safe: one thread uses it at a time.
 */
#ifndef KEPT_ARENA_H
#define KEPT_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "err/err.h"

struct arena;

/*
 * Makes an arena that hands out at most `cap_bytes` in all (0: no cap beyond
 * available memory). Returns NULL when out of memory. Free with arena_free().
 */
struct arena *arena_new(size_t cap_bytes);

/* Runs the deferred releases (last registered first), then frees every chunk.
 * arena_free(NULL) does nothing. */
void arena_free(struct arena *a);

/* `n` bytes aligned for any type, uninitialised; NULL when over the cap or out
 * of memory. The memory lives until arena_free(). */
void *arena_alloc(struct arena *a, size_t n);

/* As arena_alloc, zeroed. */
void *arena_zalloc(struct arena *a, size_t n);

/* A NUL-terminated copy of `s` (NULL gives NULL). */
char *arena_strdup(struct arena *a, const char *s);

/* A NUL-terminated copy of the first `n` bytes of `s`. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into the arena; NULL on failure. */
char *arena_sprintf(struct arena *a, const char *fmt, ...) KEPT_PRINTF(2, 3);

/*
 * Registers `release(object)` to run when the arena is freed. Returns
 * KEPT_ERR_NOMEM (and runs `release(object)` at once) when the registration
 * itself cannot be stored, so the object is never leaked.
 */
kept_err arena_defer(struct arena *a, void (*release)(void *), void *object) KEPT_MUST_CHECK;

/* Bytes handed out so far (for tests and metrics). */
size_t arena_used(const struct arena *a);

#endif
