-- Every known location: the time zones kept knows for a customer, the
-- address's and each number's. A North American number's zones come from
-- libphonenumber's data as Debian packages it, loaded into
-- kept.phone_zone_prefixes by every `keptd migrate` (service/tools/phonezones.py);
-- no zone is typed by hand. Customers' JSON shows them; the contact rules
-- (81_contact_rules.sql) judge the calling window in every one.

-- The zones libphonenumber's data gives a number: its longest prefix of four
-- digits or more in kept.phone_zone_prefixes; none when no such prefix matches.
CREATE OR REPLACE FUNCTION kept.phone_time_zones(p_number text) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT z.zones FROM kept.phone_zone_prefixes z
                     WHERE z.prefix = ANY (ARRAY(SELECT left(substr(p_number, 2), n) FROM generate_series(4, 15) n))
                     ORDER BY length(z.prefix) DESC LIMIT 1), '{}');
$$;

-- Every zone kept knows for a customer: the address's and each number's,
-- sorted. (Both are zones the server knows: the address's by its foreign
-- key, the numbers' because the loader keeps only those.)
CREATE OR REPLACE FUNCTION kept.customer_zones(p_customer_id bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(DISTINCT s.z ORDER BY s.z) FROM (
        SELECT c.time_zone AS z FROM kept.customers c WHERE c.id = p_customer_id
        UNION ALL
        SELECT unnest(kept.phone_time_zones(kept.pii_open(p.customer_id, p.number_enc))) FROM kept.customer_phones p WHERE p.customer_id = p_customer_id
    ) s;
$$;
