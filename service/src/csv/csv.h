/*
 * csv — an RFC 4180 reader for untrusted files (bulk imports).
 *
 * csv_read() walks a whole buffer and calls `on_record` once per record, in
 * order, with the record's fields unquoted. Fields are comma-separated;
 * records end with LF or CRLF; a field in double quotes may hold commas,
 * line breaks and doubled quotes (""). A UTF-8 byte-order mark at the start
 * is skipped, and so are empty lines.
 *
 * A record that breaks the format is still reported, with `problem` set
 * (stray_quote, unterminated_quote, too_many_fields, field_too_long,
 * nul_byte) and no fields, and reading resumes at the next line; so a caller
 * can list every bad line of a file, not only the first.
 *
 * `line` is the physical line the record starts on (1 = the first line), so a
 * quoted field spanning lines does not shift later line numbers. The field
 * pointers are valid only during the callback.
 *
 * csv_put_field() writes one field of a file kept hands out (the reports):
 * quoted when it must be, and never a live spreadsheet formula.
 */
#ifndef KEPT_CSV_H
#define KEPT_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "buf/buf.h"
#include "err/err.h"

#define CSV_MAX_FIELDS    32
#define CSV_MAX_FIELD_LEN 4096

struct csv_record {
	long line;
	const char *problem; /* NULL for a well-formed record */
	size_t count;
	const char *fields[CSV_MAX_FIELDS];
	size_t lengths[CSV_MAX_FIELDS];
};

/* Returning an error from the callback stops the read with that error. */
typedef kept_err (*csv_record_fn)(void *ctx, const struct csv_record *rec, struct kept_error *err);

/* Reads `len` bytes of `data`. Fails only when the callback fails or memory runs out. */
kept_err csv_read(const char *data, size_t len, csv_record_fn on_record, void *ctx,
                  struct kept_error *err) KEPT_MUST_CHECK;

/* True when a spreadsheet would take `v` as a formula: it starts with =, +,
 * -, @, a tab or a carriage return, and is not a plain number (-12, -3.5). */
bool csv_is_formula(const char *v);

/* Appends `v` as one RFC 4180 field (NULL: empty): a formula gets a leading
 * apostrophe, so it is shown as text (OWASP's CSV injection advice), and a
 * field holding a comma, a quote or a line break is quoted. */
kept_err csv_put_field(struct buf *b, const char *v) KEPT_MUST_CHECK;

#endif
