/* libFuzzer: provider webhooks — form decoding and the signature check.
 * The input is "URL\nSIGNATURE\nBODY". */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena/arena.h"
#include "form/form.h"
#include "provider/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *arena = arena_new(0);
	if (!arena)
		return 0;
	const char *p = (const char *)data, *end = p + size;
	const char *nl1 = memchr(p, '\n', size);
	const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
	char *url = arena_strndup(arena, p, nl1 ? (size_t)(nl1 - p) : size);
	char *signature = nl2 ? arena_strndup(arena, nl1 + 1, (size_t)(nl2 - nl1 - 1)) : NULL;
	const char *body = nl2 ? nl2 + 1 : end;
	struct form f;
	struct kept_error err;
	if (url && form_decode(arena, body, (size_t)(end - body), &f, &err) == KEPT_OK) {
		(void)form_get(&f, "CallSid");
		(void)provider_signature_valid("fuzz-token", url, &f, signature);
		struct buf b;
		buf_init(&b, 1u << 20);
		for (size_t i = 0; i < f.count; i++)
			if (form_append(&b, f.fields[i].name, f.fields[i].value))
				break;
		buf_free(&b);
	}
	arena_free(arena);
	return 0;
}
