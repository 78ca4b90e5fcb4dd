-- What agents type to find the person on the telephone, :n lines of URL
-- paths for wrk (tests/bench/find.lua): whole names as written (accents and
-- all) or without accents in lower case, parts of both names in either
-- order, a family name alone (thousands share it: the answer is the first
-- page of the closest), the last digits of a number or the whole number
-- written nationally, a customer's or an account's reference, and names
-- nobody has. Customers picked evenly over the bench's book.
\set ON_ERROR_STOP on
CREATE TEMP TABLE picked AS
SELECT row_number() OVER () AS k, kept.customer_name(c.id) AS name, c.external_ref,
       kept.pii_open(p.customer_id, p.number_enc) AS number,
       (SELECT a.external_ref FROM kept.accounts a WHERE a.customer_id = c.id LIMIT 1) AS account_ref
FROM kept.customers c JOIN kept.customer_phones p ON p.customer_id = c.id
WHERE c.external_ref LIKE 'FC-%' AND c.id % 997 = 0
LIMIT :n;
CREATE TEMP TABLE typed AS
SELECT k, CASE k % 9
    WHEN 0 THEN name
    WHEN 1 THEN kept.search_fold(name)
    WHEN 2 THEN left(split_part(name, ' ', 1), 4) || ' ' || left(split_part(name, ' ', 2), 4)
    WHEN 3 THEN lower(split_part(name, ' ', 2)) || ' ' || left(lower(split_part(name, ' ', 1)), 3)
    WHEN 4 THEN split_part(name, ' ', 2)
    WHEN 5 THEN right(number, 7)
    WHEN 6 THEN format('(%s) %s-%s', substr(number, 3, 3), substr(number, 6, 3), substr(number, 9))
    WHEN 7 THEN CASE WHEN k % 2 = 0 THEN external_ref ELSE account_ref END
    ELSE 'Nobody Atall ' || k END AS q
FROM picked;
SELECT '/v1/customers?q=' || string_agg(CASE WHEN ch ~ '^[A-Za-z0-9._~-]$' THEN ch
                                             ELSE regexp_replace(upper(encode(convert_to(ch, 'UTF8'), 'hex')),
                                                                 '(..)', '%\1', 'g') END, '' ORDER BY i)
FROM typed, LATERAL regexp_split_to_table(q, '') WITH ORDINALITY AS x(ch, i)
WHERE length(btrim(q)) >= 3 -- "Ó", of "Ó Súilleabháin", is refused as too short
GROUP BY k ORDER BY k;
