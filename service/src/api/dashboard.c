/* GET /dashboard and its files: the reports as charts (assets.h). The page
 * itself is open; it asks for an API key and every report it fetches needs one. */
#include <string.h>

#include "assets.h"
#include "internal.h"

kept_err api_dashboard(struct api_ctx *ctx, struct kept_error *err)
{
	const char *path = http_path(ctx->req);
	for (size_t i = 0; i < assets_count; i++) {
		if (strcmp(assets[i].path, path) != 0)
			continue;
		kept_err r = http_add_header(
		        ctx->req, "Content-Security-Policy",
		        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
		if (!r)
			r = http_add_header(ctx->req, "Cache-Control", "no-cache");
		if (r)
			return kept_fail(err, KEPT_ERR_NOMEM, "no_memory", "", "out of memory");
		http_reply(ctx->req, 200, assets[i].content_type, (const char *)assets[i].data,
		           assets[i].size);
		return KEPT_OK;
	}
	return kept_fail(err, KEPT_ERR_NOT_FOUND, "route_not_found", "", "no such file: %s", path);
}
