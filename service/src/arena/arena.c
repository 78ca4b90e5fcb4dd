#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN       16
#define ARENA_FIRST_CHUNK 4096
#define ARENA_MAX_CHUNK   (1u << 20)

struct chunk {
	struct chunk *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct deferred {
	struct deferred *next;
	void (*release)(void *);
	void *object;
};

struct arena {
	struct chunk *chunks; /* newest first */
	struct deferred *deferred;
	size_t cap;
	size_t used;
	size_t next_chunk_size;
};

struct arena *arena_new(size_t cap_bytes)
{
	struct arena *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->cap = cap_bytes;
	a->next_chunk_size = ARENA_FIRST_CHUNK;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	struct deferred *d = a->deferred;
	while (d) {
		struct deferred *next = d->next;
		d->release(d->object);
		free(d);
		d = next;
	}
	struct chunk *c = a->chunks;
	while (c) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}

static size_t round_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static struct chunk *chunk_new(struct arena *a, size_t need)
{
	size_t size = a->next_chunk_size;
	while (size < need)
		size *= 2;
	if (a->next_chunk_size < ARENA_MAX_CHUNK)
		a->next_chunk_size *= 2;
	struct chunk *c = malloc(sizeof *c + size);
	if (!c)
		return NULL;
	c->size = size;
	c->used = 0;
	c->next = a->chunks;
	a->chunks = c;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	if (!a || n > SIZE_MAX / 2)
		return NULL;
	size_t need = round_up(n ? n : 1);
	if (a->cap && (need > a->cap || a->used > a->cap - need))
		return NULL;
	struct chunk *c = a->chunks;
	if (!c || c->size - c->used < need) {
		c = chunk_new(a, need);
		if (!c)
			return NULL;
	}
	void *p = c->data + c->used;
	c->used += need;
	a->used += need;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *p = arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_sprintf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

kept_err arena_defer(struct arena *a, void (*release)(void *), void *object)
{
	/* Bookkeeping is malloc'd, not arena memory: a full arena must still
	 * be able to take ownership of what it has to release. */
	struct deferred *d = malloc(sizeof *d);
	if (!d) {
		release(object);
		return KEPT_ERR_NOMEM;
	}
	d->release = release;
	d->object = object;
	d->next = a->deferred;
	a->deferred = d;
	return KEPT_OK;
}

size_t arena_used(const struct arena *a)
{
	return a ? a->used : 0;
}
