/* libFuzzer: JSON request decoding and validation (json_parse_body, json_check,
 * json_print) against a nested spec shaped like the customer body. */
#include <stddef.h>
#include <stdint.h>

#include "json/json.h"

static const struct json_field phone_item[] = {
        {"", JSON_OBJECT, 0,
         .members =
                 (const struct json_field[]){
                         {"number", JSON_STRING, JSON_REQUIRED, .max = 16},
                         {"consent_automated", JSON_BOOL, 0},
                         {0},
                 }},
        {0},
};

static const struct json_field spec[] = {
        {"external_ref", JSON_STRING, JSON_REQUIRED, .max = 64},
        {"amount_cents", JSON_INT, 0, .min = 1, .max_int = 1000000000},
        {"due", JSON_DATE, JSON_NULLABLE},
        {"phones", JSON_ARRAY, 0, .max = 10, .items = phone_item},
        {"restrictions", JSON_OBJECT, 0,
         .members =
                 (const struct json_field[]){
                         {"dispute_open", JSON_BOOL, 0},
                         {"moratorium_until", JSON_DATE, JSON_NULLABLE},
                         {0},
                 }},
        {0},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return 0;
	cJSON *root = NULL;
	struct kept_error err;
	if (json_parse_body(arena, (const char *)data, size, &root, &err) == KEPT_OK &&
	    json_check(root, spec, &err) == KEPT_OK)
		(void)json_print(arena, root);
	arena_free(arena);
	return 0;
}
