#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for `n` more bytes plus the terminating NUL. */
static kept_err buf_grow(struct buf *b, size_t n)
{
	if (n > b->cap || b->len > b->cap - n)
		return KEPT_ERR_TOO_LARGE;
	size_t need = b->len + n + 1;
	if (need <= b->alloc)
		return KEPT_OK;
	size_t limit = b->cap < SIZE_MAX ? b->cap + 1 : SIZE_MAX;
	size_t alloc = b->alloc ? b->alloc : 64;
	while (alloc < need)
		alloc = alloc > limit / 2 ? limit : alloc * 2;
	char *p = realloc(b->data, alloc);
	if (!p)
		return KEPT_ERR_NOMEM;
	b->data = p;
	b->alloc = alloc;
	return KEPT_OK;
}

kept_err buf_add(struct buf *b, const void *data, size_t n)
{
	kept_err r = buf_grow(b, n);
	if (r)
		return r;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return KEPT_OK;
}

kept_err buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

kept_err buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

kept_err buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return KEPT_ERR_INTERNAL;
	kept_err r = buf_grow(b, (size_t)n);
	if (r)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return KEPT_OK;
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

size_t buf_len(const struct buf *b)
{
	return b->len;
}

char *buf_take(struct buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
