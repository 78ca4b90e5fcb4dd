-- 0031 each field rule declared once: keptd's table of them
-- (service/src/rules/rules.c), written here by every `keptd migrate`, so
-- that SQL's own checks answer the same code and message as the API
-- (kept.rule_message, kept.fail_rule).

CREATE TABLE kept.field_rules (
    name        text PRIMARY KEY,
    code        text NOT NULL,
    field       text NOT NULL,
    property    text NOT NULL,
    message     text NOT NULL,
    pattern     text,
    vals        text[],
    max_chars   integer,
    minimum     bigint,
    maximum     bigint,
    predicate   text,
    constraints text[] NOT NULL DEFAULT '{}'
);
