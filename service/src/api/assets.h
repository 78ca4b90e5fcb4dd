/*
 * assets — the dashboard's files, embedded into keptd at build time by
 * service/tools/assetgen (clients/dashboard/: the page and its script; the
 * charting library from Debian's libjs-chart.js). Served as they are; no CDN is involved.
 */
#ifndef KEPT_API_ASSETS_H
#define KEPT_API_ASSETS_H

#include <stddef.h>

struct asset {
	const char *path; /* the URL path it is served at */
	const char *content_type;
	const unsigned char *data;
	size_t size;
};

extern const struct asset assets[];
extern const size_t assets_count;

#endif
