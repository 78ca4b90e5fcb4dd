/*
 * route — matching request paths against route patterns.
 *
 * A pattern is a path whose segments are literals or `{name}` parameters:
 * "/v1/customers/{id}". A path matches when it has the same number of
 * segments, every literal is equal and every parameter segment is non-empty.
 * Parameter values are copied into the caller's `struct route_params`
 * (bounded: at most ROUTE_MAX_PARAMS values of ROUTE_MAX_VALUE - 1 bytes;
 * longer segments do not match). Pure functions, no allocation.
 */
#ifndef KEPT_ROUTE_H
#define KEPT_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_MAX_PARAMS 4
#define ROUTE_MAX_NAME   24
#define ROUTE_MAX_VALUE  128

struct route_params {
	size_t count;
	char names[ROUTE_MAX_PARAMS][ROUTE_MAX_NAME];
	char values[ROUTE_MAX_PARAMS][ROUTE_MAX_VALUE];
};

/* True when `path` matches `pattern`; `out` (may be NULL) gets the parameters. */
bool route_match(const char *pattern, const char *path, struct route_params *out);

/* The value of parameter `name`, or NULL. */
const char *route_param(const struct route_params *p, const char *name);

#endif
