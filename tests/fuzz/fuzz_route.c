/* libFuzzer: the router — every pattern of keptd's routing table against a fuzzed path. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1);
	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	struct route_params params;
	for (size_t i = 0; i < api_routes_count; i++)
		if (route_match(api_routes[i].pattern, path, &params))
			(void)route_param(&params, "id");
	free(path);
	return 0;
}
