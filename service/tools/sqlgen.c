/*
 * sqlgen — build-time generator that embeds kept's SQL into keptd.
 *
 *   sqlgen OUTDIR --migrations FILE... --functions FILE... --queries FILE... [--reports FILE...]
 *
 * writes OUTDIR/sql_bundle.h and OUTDIR/sql_bundle.c. Migrations and
 * function files are embedded whole, in the order given (the Makefile sorts
 * them). Query files are split on lines of the form
 *
 *   -- name: customer_get
 *
 * and each named query becomes an enumerator SQL_Q_CUSTOMER_GET, so a typo in
 * a query name is a compile error rather than a runtime failure. Names must be
 * [a-z0-9_] and unique across all query files. Report files (sql/reports/)
 * are embedded whole, named by their base name without ".sql".
 *
 * Typed queries: OUTDIR/db_queries.h and db_queries.c hold, for each named
 * query, a C function whose parameters are the query's, read from its text:
 *
 *   -- name: payment_reverse
 *   SELECT kept.payment_reverse(ROW($1::bigint, $2::text, $3::text)::kept.actor, $4::bigint,
 *                               ($5::jsonb)->>'reason')
 *
 * becomes
 *
 *   kept_err q_payment_reverse(struct db_conn *c, struct arena *arena, int64_t p1,
 *                              const char *p2, const char *p3, int64_t p4, const char *p5,
 *                              struct db_result **out, struct kept_error *err);
 *   kept_err q_payment_reverse_value(..., const char **value, struct kept_error *err);
 *
 * The count is the highest $N (every $1..$N must occur); a parameter's C type
 * comes from the cast written right after it anywhere in the query:
 * ::bigint/::int8 -> int64_t, ::integer/::int/::int4/::smallint -> int,
 * ::boolean/::bool -> bool, anything else (text, jsonb, dates, arrays, no
 * cast) -> const char *. Two different casts of one parameter are an error.
 * Comments, '...' literals and "..." identifiers are not searched. A name
 * line may name the parameters, in order, instead of p1..pN:
 *
 *   -- name: payment_get(payment_id)
 *
 * (the count must match the query's). db/db.h says how SQL NULL is passed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct file_text {
	char *name;
	char *text;
	struct query_params *params; /* named queries only */
};

/* The parameters of one named query, as read from its text. */
enum param_type { PARAM_TEXT, PARAM_BIGINT, PARAM_INTEGER, PARAM_BOOLEAN };
#define MAX_PARAMS     32
#define MAX_PARAM_NAME 48

struct query_params {
	int count;
	enum param_type type[MAX_PARAMS];
	bool cast[MAX_PARAMS]; /* an explicit cast was seen */
	bool seen[MAX_PARAMS];
	char name[MAX_PARAMS][MAX_PARAM_NAME];
};

struct list {
	struct file_text *items;
	size_t len, cap;
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "sqlgen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void list_push(struct list *l, char *name, char *text)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->items = realloc(l->items, l->cap * sizeof *l->items);
		if (!l->items)
			die("out of memory", NULL);
	}
	l->items[l->len].name = name;
	l->items[l->len].text = text;
	l->items[l->len].params = NULL;
	l->len++;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die(strerror(errno), path);
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	size_t n;
	while (s && (n = fread(s + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			s = realloc(s, cap);
		}
	}
	if (!s)
		die("out of memory", NULL);
	s[len] = '\0';
	fclose(f);
	if (strlen(s) != len)
		die("file contains a NUL byte", path);
	return s;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static void check_query_name(const char *name, const char *path)
{
	if (!*name)
		die("empty query name", path);
	for (const char *p = name; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			die("query names are [a-z0-9_]", name);
}

/* ---- a query's parameters ---------------------------------------------------------------- */

static enum param_type type_of_cast(const char *word, size_t len, bool array)
{
	static const struct {
		const char *word;
		enum param_type type;
	} types[] = {
	        {"bigint", PARAM_BIGINT}, {"int8", PARAM_BIGINT},     {"integer", PARAM_INTEGER},
	        {"int", PARAM_INTEGER},   {"int4", PARAM_INTEGER},    {"smallint", PARAM_INTEGER},
	        {"int2", PARAM_INTEGER},  {"boolean", PARAM_BOOLEAN}, {"bool", PARAM_BOOLEAN},
	};
	if (array)
		return PARAM_TEXT;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].word) == len && strncasecmp(types[i].word, word, len) == 0)
			return types[i].type;
	return PARAM_TEXT;
}

/* Skips a -- comment, a '...' literal or a "..." identifier starting at `p`;
 * returns `p` itself when none starts there. */
static const char *skip_non_code(const char *p)
{
	if (p[0] == '-' && p[1] == '-') {
		const char *eol = strchr(p, '\n');
		return eol ? eol : p + strlen(p);
	}
	if (*p == '\'' || *p == '"') {
		char quote = *p;
		for (p++; *p; p++)
			if (*p == quote && p[1] == quote)
				p++;
			else if (*p == quote)
				return p + 1;
		return p;
	}
	return p;
}

/* Records one occurrence of $n at `p` (just after the digits); NULL or why not. */
static const char *note_param(struct query_params *qp, long n, const char *p)
{
	if (n < 1 || n > MAX_PARAMS)
		return "parameter number out of range";
	int i = (int)n - 1;
	qp->seen[i] = true;
	if (qp->count < n)
		qp->count = (int)n;
	if (p[0] != ':' || p[1] != ':')
		return NULL;
	const char *word = p + 2, *end = word;
	while (isalnum((unsigned char)*end) || *end == '_')
		end++;
	enum param_type t = type_of_cast(word, (size_t)(end - word), end[0] == '[');
	if (qp->cast[i] && qp->type[i] != t)
		return "a parameter is cast to two different types";
	qp->cast[i] = true;
	qp->type[i] = t;
	return NULL;
}

/* Reads the parameters of `sql` into `qp` (zeroed first). Returns NULL, or
 * what is wrong with the query's parameters. */
static const char *parse_params(const char *sql, struct query_params *qp)
{
	memset(qp, 0, sizeof *qp);
	for (const char *p = sql; *p;) {
		const char *after = skip_non_code(p);
		if (after != p) {
			p = after;
			continue;
		}
		if (*p != '$' || !isdigit((unsigned char)p[1])) {
			p++;
			continue;
		}
		char *end;
		long n = strtol(p + 1, &end, 10);
		const char *why = note_param(qp, n, end);
		if (why)
			return why;
		p = end;
	}
	for (int i = 0; i < qp->count; i++) {
		if (!qp->seen[i])
			return "parameters must be numbered $1..$N without a gap";
		snprintf(qp->name[i], sizeof qp->name[i], "p%d", i + 1);
	}
	return NULL;
}

/* Reads "(a, b, c)" after a query's name into qp's names; NULL or why not. */
static const char *parse_names(const char *list, struct query_params *qp)
{
	int n = 0;
	const char *p = list + 1;
	while (*p && *p != ')') {
		while (*p == ' ' || *p == ',')
			p++;
		const char *start = p;
		while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')
			p++;
		size_t len = (size_t)(p - start);
		while (*p == ' ')
			p++;
		if (len == 0 || len >= MAX_PARAM_NAME || n >= MAX_PARAMS || (*p != ',' && *p != ')'))
			return "parameter names are a list of [a-z0-9_] words: (a, b)";
		snprintf(qp->name[n++], sizeof qp->name[0], "%.*s", (int)len, start);
	}
	if (*p != ')' || p[1] != '\0')
		return "parameter names end with ')' and nothing after it";
	if (n != qp->count)
		return "the names are not as many as the query's parameters";
	return NULL;
}

/* Whether `name` is `other` + "_value", whose function q_other_value would be. */
static bool is_value_of(const char *name, const char *other)
{
	size_t n = strlen(other);
	return strncmp(name, other, n) == 0 && strcmp(name + n, "_value") == 0;
}

/* Splits one query file into named queries appended to `out`. */
static void split_queries(const char *path, struct list *out)
{
	static const char marker[] = "-- name:";
	char *text = read_all(path);
	char *cur = strstr(text, marker);
	if (!cur)
		die("no '-- name:' marker", path);
	while (cur) {
		char *name = cur + sizeof marker - 1;
		while (*name == ' ')
			name++;
		char *eol = strchr(name, '\n');
		if (!eol)
			die("query without a body", path);
		*eol = '\0';
		char *end = name + strlen(name);
		while (end > name && isspace((unsigned char)end[-1]))
			*--end = '\0';
		char *names = strchr(name, '(');
		if (names)
			*names = '\0';
		check_query_name(name, path);
		char *body = eol + 1;
		char *next = strstr(body, marker);
		size_t body_len = next ? (size_t)(next - body) : strlen(body);
		char *copy = strndup(body, body_len);
		struct query_params *qp = malloc(sizeof *qp);
		if (!copy || !qp)
			die("out of memory", NULL);
		for (size_t i = 0; i < out->len; i++)
			if (strcmp(out->items[i].name, name) == 0 || is_value_of(out->items[i].name, name) ||
			    is_value_of(name, out->items[i].name))
				die("duplicate query name (q_x_value is x's second function)", name);
		const char *why = parse_params(copy, qp);
		if (!why && names) {
			*names = '(';
			why = parse_names(names, qp);
			*names = '\0';
		}
		if (why)
			die(why, name);
		list_push(out, strdup(name), copy);
		out->items[out->len - 1].params = qp;
		cur = next;
	}
}

static void emit_c_string(FILE *f, const char *s)
{
	fputs("\t\t\"", f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '\\': fputs("\\\\", f); break;
		case '"': fputs("\\\"", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': break;
		case '\n':
			if (p[1])
				fputs("\\n\"\n\t\t\"", f);
			else
				fputs("\\n", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\%03o", *p);
			else if (*p == '?' && p[1] == '?')
				fputs("\\?", f); /* no trigraphs */
			else
				fputc(*p, f);
		}
	}
	fputs("\"", f);
}

static void emit_table(FILE *f, const char *var, const struct list *l)
{
	fprintf(f, "const struct sql_file %s[] = {\n", var);
	for (size_t i = 0; i < l->len; i++) {
		fprintf(f, "\t{\"%s\",\n", l->items[i].name);
		emit_c_string(f, l->items[i].text);
		fputs("},\n", f);
	}
	if (l->len == 0)
		fputs("\t{0, 0},\n", f);
	fprintf(f, "};\nconst size_t %s_count = %zu;\n\n", var, l->len);
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		die(strerror(errno), path);
	return f;
}

static void emit_header(const char *dir, const struct list *queries)
{
	FILE *h = open_out(dir, "sql_bundle.h");
	fputs("/* Generated by service/tools/sqlgen from schema/ and sql/. Do not edit. */\n"
	      "#ifndef KEPT_SQL_BUNDLE_H\n#define KEPT_SQL_BUNDLE_H\n#include <stddef.h>\n\n"
	      "/* One embedded SQL file: its base name and its full text. */\n"
	      "struct sql_file {\n\tconst char *name;\n\tconst char *text;\n};\n\n"
	      "/* Named queries from sql/queries/, prepared once per connection. */\n"
	      "enum sql_query {\n",
	      h);
	for (size_t i = 0; i < queries->len; i++) {
		fputs("\tSQL_Q_", h);
		for (const char *p = queries->items[i].name; *p; p++)
			fputc(toupper((unsigned char)*p), h);
		fputs(",\n", h);
	}
	fputs("\tSQL_Q__COUNT\n};\n\n"
	      "extern const struct sql_file sql_migrations[];\nextern const size_t sql_migrations_count;\n"
	      "extern const struct sql_file sql_functions[];\nextern const size_t sql_functions_count;\n"
	      "extern const struct sql_file sql_queries[];\nextern const size_t sql_queries_count;\n"
	      "/* Finance reports from sql/reports/, psql scripts with :'from' and :'to'. */\n"
	      "extern const struct sql_file sql_reports[];\nextern const size_t sql_reports_count;\n\n"
	      "#endif\n",
	      h);
	if (fclose(h) != 0)
		die("write failed", "sql_bundle.h");
}

/* ---- typed query functions ---------------------------------------------------------------- */

static const char *c_type(enum param_type t)
{
	switch (t) {
	case PARAM_BIGINT: return "int64_t ";
	case PARAM_INTEGER: return "int ";
	case PARAM_BOOLEAN: return "bool ";
	case PARAM_TEXT: break;
	}
	return "const char *";
}

/* "kept_err q_NAME[suffix](struct db_conn *c, struct arena *arena, <params>, <last>)" */
static void emit_signature(FILE *f, const struct file_text *q, const char *suffix, const char *last)
{
	const struct query_params *qp = q->params;
	fprintf(f, "kept_err q_%s%s(struct db_conn *c, struct arena *arena", q->name, suffix);
	for (int i = 0; i < qp->count; i++)
		fprintf(f, ", %s%s", c_type(qp->type[i]), qp->name[i]);
	fprintf(f, ", %s, struct kept_error *err)", last);
}

static void emit_query_header(const char *dir, const struct list *queries)
{
	FILE *h = open_out(dir, "db_queries.h");
	fputs("/* Generated by service/tools/sqlgen from sql/queries/. Do not edit.\n"
	      " *\n"
	      " * One function per named query; its parameters are the query's $1..$N with\n"
	      " * the C types of their casts (see sqlgen.c). q_x runs the query (prepared once\n"
	      " * per connection) and hands *out (may be NULL: no rows wanted), owned by\n"
	      " * `arena`; q_x_value hands the first column of the first row (arena-owned\n"
	      " * text, a JSON document for most queries), NULL when no row or SQL NULL came back.\n"
	      " * row came back. SQL NULL: NULL for text, DB_NULL_BIGINT / DB_NULL_INT for\n"
	      " * numbers (db/db.h). Errors are classified as db/db.h says. */\n"
	      "#ifndef KEPT_DB_QUERIES_H\n#define KEPT_DB_QUERIES_H\n"
	      "#include <stdbool.h>\n#include <stdint.h>\n\n#include \"err/err.h\"\n\n"
	      "struct arena;\nstruct db_conn;\nstruct db_result;\n\n",
	      h);
	for (size_t i = 0; i < queries->len; i++) {
		emit_signature(h, &queries->items[i], "", "struct db_result **out");
		fputs(" KEPT_MUST_CHECK;\n", h);
		emit_signature(h, &queries->items[i], "_value", "const char **value");
		fputs(" KEPT_MUST_CHECK;\n", h);
	}
	fputs("\n#endif\n", h);
	if (fclose(h) != 0)
		die("write failed", "db_queries.h");
}

/* The body of one query's functions: its parameters as text, then the run. */
static void emit_query_body(FILE *f, const struct file_text *q, const char *run, const char *last)
{
	const struct query_params *qp = q->params;
	fputs("\n{\n", f);
	for (int i = 0; i < qp->count; i++)
		if (qp->type[i] == PARAM_BIGINT || qp->type[i] == PARAM_INTEGER)
			fprintf(f, "\tchar t%d[DB_PARAM_TEXT_MAX];\n", i + 1);
	if (qp->count)
		fprintf(f, "\tconst char *params[%d] = {", qp->count);
	for (int i = 0; i < qp->count; i++) {
		const char *sep = i ? ", " : "";
		switch (qp->type[i]) {
		case PARAM_BIGINT: fprintf(f, "%sdb_param_int64(t%d, %s)", sep, i + 1, qp->name[i]); break;
		case PARAM_INTEGER: fprintf(f, "%sdb_param_int(t%d, %s)", sep, i + 1, qp->name[i]); break;
		case PARAM_BOOLEAN: fprintf(f, "%sdb_param_bool(%s)", sep, qp->name[i]); break;
		case PARAM_TEXT: fprintf(f, "%s%s", sep, qp->name[i]); break;
		}
	}
	if (qp->count)
		fputs("};\n", f);
	fputs("\treturn ", f);
	fprintf(f, "%s(c, arena, SQL_Q_", run);
	for (const char *p = q->name; *p; p++)
		fputc(toupper((unsigned char)*p), f);
	fprintf(f, ", %d, %s, %s, err);\n}\n\n", qp->count, qp->count ? "params" : "NULL", last);
}

static void emit_query_functions(const char *dir, const struct list *queries)
{
	FILE *f = open_out(dir, "db_queries.c");
	fputs("/* Generated by service/tools/sqlgen from sql/queries/. Do not edit. */\n"
	      "#include \"db_queries.h\"\n\n#include \"db/db_gen.h\"\n\n",
	      f);
	for (size_t i = 0; i < queries->len; i++) {
		const struct file_text *q = &queries->items[i];
		emit_signature(f, q, "", "struct db_result **out");
		emit_query_body(f, q, "db_query_run", "out");
		emit_signature(f, q, "_value", "const char **value");
		emit_query_body(f, q, "db_query_value", "value");
	}
	if (fclose(f) != 0)
		die("write failed", "db_queries.c");
}

#ifndef SQLGEN_NO_MAIN
int main(int argc, char **argv)
{
	struct list migrations = {0}, functions = {0}, queries = {0}, reports = {0};
	struct list *into = NULL;
	int split = 0;
	if (argc < 2)
		die("usage: sqlgen OUTDIR --migrations F... --functions F... --queries F...", NULL);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--migrations") == 0) {
			into = &migrations, split = 0;
		} else if (strcmp(argv[i], "--functions") == 0) {
			into = &functions, split = 0;
		} else if (strcmp(argv[i], "--queries") == 0) {
			into = &queries, split = 1;
		} else if (strcmp(argv[i], "--reports") == 0) {
			into = &reports, split = 0;
		} else if (!into) {
			die("file before a section flag", argv[i]);
		} else if (split) {
			split_queries(argv[i], into);
		} else {
			char *name = strdup(base_name(argv[i]));
			size_t n = name ? strlen(name) : 0;
			if (into == &reports && n > 4 && strcmp(name + n - 4, ".sql") == 0)
				name[n - 4] = '\0';
			list_push(into, name, read_all(argv[i]));
		}
	}
	emit_header(argv[1], &queries);
	FILE *c = open_out(argv[1], "sql_bundle.c");
	fputs("/* Generated by service/tools/sqlgen from schema/ and sql/. Do not edit. */\n"
	      "#include \"sql_bundle.h\"\n\n",
	      c);
	emit_table(c, "sql_migrations", &migrations);
	emit_table(c, "sql_functions", &functions);
	emit_table(c, "sql_queries", &queries);
	emit_table(c, "sql_reports", &reports);
	if (fclose(c) != 0)
		die("write failed", "sql_bundle.c");
	emit_query_header(argv[1], &queries);
	emit_query_functions(argv[1], &queries);
	return 0;
}
#endif
