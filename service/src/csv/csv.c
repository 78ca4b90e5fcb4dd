#include "csv.h"

#include <stdbool.h>
#include <string.h>

#include "buf/buf.h"

struct reader {
	const char *p;
	const char *end;
	long line;
	struct buf scratch; /* the current record's unquoted fields, NUL-separated */
	size_t offsets[CSV_MAX_FIELDS];
};

static bool at_eol(const struct reader *r)
{
	return r->p < r->end && (*r->p == '\n' || (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n'));
}

static void skip_eol(struct reader *r)
{
	if (r->p < r->end && *r->p == '\r')
		r->p++;
	if (r->p < r->end && *r->p == '\n') {
		r->p++;
		r->line++;
	}
}

/* After a bad record: drop the rest of its physical line. */
static void skip_line(struct reader *r)
{
	const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	r->p = nl ? nl + 1 : r->end;
	if (nl)
		r->line++;
}

static const char *put(struct reader *r, char c)
{
	if (c == '\0')
		return "nul_byte";
	return buf_addc(&r->scratch, c) ? "field_too_long" : NULL;
}

static const char *read_quoted(struct reader *r)
{
	r->p++; /* the opening quote */
	for (;;) {
		if (r->p >= r->end)
			return "unterminated_quote";
		char c = *r->p;
		if (c == '"') {
			if (r->p + 1 < r->end && r->p[1] == '"') {
				r->p += 2;
				if (put(r, '"'))
					return "field_too_long";
				continue;
			}
			r->p++;
			break;
		}
		if (c == '\n')
			r->line++;
		const char *problem = put(r, c);
		if (problem)
			return problem;
		r->p++;
	}
	if (r->p < r->end && *r->p != ',' && !at_eol(r))
		return "stray_quote";
	return NULL;
}

static const char *read_plain(struct reader *r)
{
	while (r->p < r->end && *r->p != ',' && !at_eol(r)) {
		if (*r->p == '"')
			return "stray_quote";
		const char *problem = put(r, *r->p);
		if (problem)
			return problem;
		r->p++;
	}
	return NULL;
}

/* Reads one record into r->scratch; returns its problem or NULL. */
static const char *read_record(struct reader *r, size_t *count)
{
	*count = 0;
	buf_reset(&r->scratch);
	for (;;) {
		if (*count == CSV_MAX_FIELDS)
			return "too_many_fields";
		size_t start = buf_len(&r->scratch);
		r->offsets[(*count)++] = start;
		const char *problem = (r->p < r->end && *r->p == '"') ? read_quoted(r) : read_plain(r);
		if (problem)
			return problem;
		if (buf_len(&r->scratch) - start > CSV_MAX_FIELD_LEN)
			return "field_too_long";
		if (buf_addc(&r->scratch, '\0'))
			return "field_too_long";
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		skip_eol(r);
		return NULL;
	}
}

static void fill_fields(const struct reader *r, struct csv_record *rec, size_t count)
{
	const char *base = buf_str(&r->scratch);
	rec->count = count;
	for (size_t i = 0; i < count; i++) {
		rec->fields[i] = base + r->offsets[i];
		rec->lengths[i] = strlen(rec->fields[i]);
	}
}

kept_err csv_read(const char *data, size_t len, csv_record_fn on_record, void *ctx, struct kept_error *err)
{
	struct reader r = {.p = data, .end = data + len, .line = 1};
	buf_init(&r.scratch, (size_t)CSV_MAX_FIELDS * (CSV_MAX_FIELD_LEN + 2));
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		r.p += 3;
	kept_err result = KEPT_OK;
	while (!result && r.p < r.end) {
		if (at_eol(&r)) {
			skip_eol(&r);
			continue;
		}
		struct csv_record rec = {.line = r.line};
		size_t count;
		rec.problem = read_record(&r, &count);
		if (rec.problem)
			skip_line(&r);
		else
			fill_fields(&r, &rec, count);
		result = on_record(ctx, &rec, err);
	}
	buf_free(&r.scratch);
	return result;
}

/* -12, 3.5, -0.0042: what a report's numeric columns hold. */
static bool is_plain_number(const char *v)
{
	const char *p = v + (*v == '-');
	size_t digits = strspn(p, "0123456789");
	if (!digits)
		return false;
	p += digits;
	if (*p == '.') {
		size_t fraction = strspn(p + 1, "0123456789");
		if (!fraction)
			return false;
		p += 1 + fraction;
	}
	return *p == '\0';
}

bool csv_is_formula(const char *v)
{
	return v && *v && strchr("=+-@\t\r", *v) && !is_plain_number(v);
}

kept_err csv_put_field(struct buf *b, const char *v)
{
	if (!v)
		return KEPT_OK; /* NULL: empty */
	bool quote = strpbrk(v, ",\"\r\n") != NULL;
	kept_err r = quote ? buf_addc(b, '"') : KEPT_OK;
	if (!r && csv_is_formula(v))
		r = buf_addc(b, '\'');
	for (const char *p = v; *p && !r; p++)
		r = *p == '"' ? buf_adds(b, "\"\"") : buf_addc(b, *p);
	return r || !quote ? r : buf_addc(b, '"');
}
