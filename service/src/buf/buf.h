/*
 * buf — a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * A buf is a struct the caller owns (usually on the stack or inside another
 * struct); its storage is malloc'd and released by buf_free(). The contents
 * are always NUL-terminated so they can be used as a C string, but may also
 * hold binary data (use buf_len). Growing past `cap` fails with
 * KEPT_ERR_TOO_LARGE and leaves the buffer unchanged.
 */
#ifndef KEPT_BUF_H
#define KEPT_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "err/err.h"

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;
};

/* Initialises an empty buffer that will never hold more than `cap` bytes. */
void buf_init(struct buf *b, size_t cap);

/* Releases the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

/* Empties the buffer, keeping its storage. */
void buf_reset(struct buf *b);

/* Appends `n` bytes. KEPT_ERR_TOO_LARGE past the cap, KEPT_ERR_NOMEM when out of memory. */
kept_err buf_add(struct buf *b, const void *data, size_t n) KEPT_MUST_CHECK;

/* Appends a C string. */
kept_err buf_adds(struct buf *b, const char *s) KEPT_MUST_CHECK;

/* Appends one byte. */
kept_err buf_addc(struct buf *b, char c) KEPT_MUST_CHECK;

/* Appends printf output. */
kept_err buf_printf(struct buf *b, const char *fmt, ...) KEPT_PRINTF(2, 3) KEPT_MUST_CHECK;

/* The contents ("" for an empty buffer, never NULL) and their length. */
const char *buf_str(const struct buf *b);
size_t buf_len(const struct buf *b);

/*
 * Hands the storage to the caller (who frees it with free()) and empties the
 * buffer. Returns a malloc'd "" for an empty buffer; NULL only when out of memory.
 */
char *buf_take(struct buf *b);

#endif
