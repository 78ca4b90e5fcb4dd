/*
 * rules — every field rule of kept's API, declared once.
 *
 * A rule is what a field must look like (its pattern, length, range or
 * values), the stable error code and field a client is told when it does
 * not, and the message. This table is the one place those are written:
 *
 *   - the http side maps a database constraint that failed to its rule
 *     (rules_for_constraint), so the answer is the rule's code and message;
 *   - `keptd migrate` writes the table into kept.field_rules, and SQL's own
 *     checks (the imports' problem lists, kept.fail_rule) take their codes
 *     and messages from there (kept.rule_message);
 *   - tests hold the rest to it and fail on any drift:
 *     tests/integration/test_field_rules.py, every OpenAPI property the rule
 *     governs (carries the same pattern, maxLength, minimum, maximum and
 *     enum) and every constraint it names (exists, and its definition or the
 *     predicate it calls states the same pattern or bounds);
 *     tests/unit/test_api.c, every request spec of the routing table
 *     (api/specs.c) that names a governed field (the same longest text and
 *     bounds); tests/unit/test_rules.c, the imports' C checks.
 *
 * The constraints and predicates stay in the schema, where the database
 * enforces them on every write; the C checks of the CSV imports
 * (text_is_source, ...) are held to the same rules by tests.
 */
#ifndef KEPT_RULES_H
#define KEPT_RULES_H

#include <stddef.h>

enum { RULE_MIN = 1u << 0, RULE_MAX = 1u << 1 };

struct field_rule {
	const char *name;        /* unique: how SQL (kept.rule_message) and tests name it */
	const char *code;        /* the stable error code, e.g. "invalid_source" */
	const char *field;       /* the field an error names */
	const char *property;    /* the JSON property it governs, when not `field` (NULL) */
	const char *message;     /* what a client reads */
	const char *pattern;     /* the regular expression of its check (PostgreSQL's syntax), or NULL */
	const char *values;      /* the allowed values, space-separated, or NULL */
	int max_chars;           /* the longest text allowed, 0 when the rule sets none */
	unsigned bounds;         /* RULE_MIN, RULE_MAX: which of min and max an integer has */
	long long min, max;      /* an integer's inclusive bounds */
	const char *predicate;   /* the SQL function that checks it (kept.is_...), or NULL */
	const char *constraints; /* the database constraints that enforce it, space-separated; NULL
	                          * for a sealed value (its SQL checks it before sealing, and
	                          * raises the rule with kept.fail_rule) */
};

extern const struct field_rule field_rules[];
extern const size_t field_rules_count;

/* The rule named `name`; NULL when there is none. */
const struct field_rule *rules_find(const char *name);

/* The rule a failed database constraint enforces; NULL when it enforces none. */
const struct field_rule *rules_for_constraint(const char *constraint);

#endif
