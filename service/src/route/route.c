#include "route.h"

#include <string.h>

/* Length of the segment starting at s (up to '/' or the end). */
static size_t segment_len(const char *s)
{
	return strcspn(s, "/");
}

static bool bind_param(struct route_params *out, const char *name, size_t name_len, const char *value,
                       size_t value_len)
{
	if (value_len == 0 || value_len >= ROUTE_MAX_VALUE || name_len >= ROUTE_MAX_NAME)
		return false;
	if (!out)
		return true;
	if (out->count >= ROUTE_MAX_PARAMS)
		return false;
	memcpy(out->names[out->count], name, name_len);
	out->names[out->count][name_len] = '\0';
	memcpy(out->values[out->count], value, value_len);
	out->values[out->count][value_len] = '\0';
	out->count++;
	return true;
}

bool route_match(const char *pattern, const char *path, struct route_params *out)
{
	if (out)
		out->count = 0;
	if (*pattern != '/' || *path != '/')
		return false;
	while (*pattern == '/' && *path == '/') {
		pattern++;
		path++;
		size_t plen = segment_len(pattern);
		size_t slen = segment_len(path);
		if (plen >= 2 && pattern[0] == '{' && pattern[plen - 1] == '}') {
			if (!bind_param(out, pattern + 1, plen - 2, path, slen))
				return false;
		} else if (plen != slen || memcmp(pattern, path, plen) != 0) {
			return false;
		}
		pattern += plen;
		path += slen;
	}
	return *pattern == '\0' && *path == '\0';
}

const char *route_param(const struct route_params *p, const char *name)
{
	for (size_t i = 0; i < p->count; i++)
		if (strcmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}
