/* libFuzzer: the RFC 4180 reader behind the account and payment imports. */
#include <stddef.h>
#include <stdint.h>

#include "csv/csv.h"

static kept_err on_record(void *ctx, const struct csv_record *rec, struct kept_error *err)
{
	(void)err;
	size_t *total = ctx;
	for (size_t i = 0; i < rec->count; i++)
		*total += rec->lengths[i] + (rec->fields[i][rec->lengths[i]] == '\0' ? 0 : 1);
	return KEPT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t total = 0;
	struct kept_error err;
	(void)csv_read((const char *)data, size, on_record, &total, &err);
	return 0;
}
