-- Bench data for finding a customer: customers up to :customers in all,
-- named from some 240 given names and 240 family names (accents among them, so
-- most full names are shared by a dozen people and a family name by
-- thousands, as in a real book), each with a mobile number and an account.
-- The search lines (tokens: the blind index) are written by kept's own
-- kept.customer_search_refresh, as the API's triggers write them, once per
-- customer after the three tables are loaded (the triggers are off for the
-- load: each of the three would write every new line again); names and
-- numbers sealed under each customer's data key, as keptd stores them (the
-- session has the data key: PGOPTIONS, common.sh).
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE given (n int, name text);
CREATE TEMP TABLE family (n int, name text);
INSERT INTO given SELECT row_number() OVER () - 1, g FROM unnest(string_to_array(
    'James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan Joseph '
    'Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew Betty Anthony Margaret Mark Sandra '
    'Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Dorothy Kevin Carol Brian Amanda '
    'George Melissa Edward Deborah Ronald Stephanie Timothy Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob '
    'Kathleen Gary Amy Nicholas Shirley Eric Angela Jonathan Helen Stephen Anna Larry Brenda Justin Pamela Scott '
    'Nicole Brandon Emma Benjamin Samantha Samuel Katherine Gregory Christine Frank Debra Alexander Rachel Raymond '
    'Catherine Patrick Carolyn Jack Janet Dennis Ruth Jerry Maria Tyler Heather Aaron Diane José Virginia Adam '
    'Julie Henry Joyce Nathan Victoria Douglas Olivia Zachary Kelly Peter Christina Kyle Lauren Walter Joan Ethan '
    'Evelyn Jeremy Judith Harold Megan Keith Cheryl Christian Andrea Roger Hannah Noah Martha Gerald Jacqueline '
    'Carl Frances Terry Gloria Sean Ann Austin Teresa Arthur Kathryn Lawrence Sara Jesse Janice Dylan Jean Bryan '
    'Alice Joe Madison Jordan Doris Billy Abigail Bruce Julia Albert Judy Willie Grace Gabriel Denise Logan Amber '
    'Alan Marilyn Juan Beverly Wayne Danielle Roy Theresa Ralph Sophia Randy Marie Eugene Diana Vincent Brittany '
    'Russell Natalie Elijah Isabella Louis Charlotte Bobby Rose Philip Alexis Johnny Kayla Zoë Chloé Renée Noémie '
    'Søren Björn Jürgen Dagný Łukasz Małgorzata François Inès Ángel Begoña Joaquín Mónica Siobhán Seán Aoife '
    'Oisín Ayşe Çağrı Émile Hélène', ' ')) g;
INSERT INTO family SELECT row_number() OVER () - 1, f FROM unnest(string_to_array(
    'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson '
    'Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis '
    'Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera '
    'Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart '
    'Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim '
    'Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo '
    'Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler '
    'Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds '
    'Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford '
    'Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman '
    'Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon '
    'Muñoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice '
    'Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer '
    'Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong '
    'Hudson Carroll Lane Riley Andrews Álvarez Müller Schäfer Ångström Øvergård Þórsdóttir Nowak Wiśniewski '
    'Dąbrowski Lefèvre Dupré Gonçalves Peña Ibáñez Ó_Súilleabháin Yılmaz Öztürk Şahin Çelik Koç Doğan Kılıç '
    'Nuñez Sørensen Jørgensen Lindqvist Åberg', ' ')) f;
SELECT count(*) AS have FROM kept.customers \gset
SELECT coalesce(max(id), 0) AS last_id FROM kept.customers \gset
ALTER TABLE kept.customers DISABLE TRIGGER customers_search_insert;
ALTER TABLE kept.customer_phones DISABLE TRIGGER customer_phones_search_insert;
ALTER TABLE kept.accounts DISABLE TRIGGER accounts_search_insert;
SELECT count(*) AS ng FROM given \gset
SELECT count(*) AS nf FROM family \gset
INSERT INTO kept.customers (id, external_ref, name_enc, time_zone, jurisdiction)
OVERRIDING SYSTEM VALUE
SELECT x.id, 'FC-' || x.g, kept.pii_seal(x.id, replace(gv.name || ' ' || fm.name, '_', ' ')), 'Europe/London', 'GB'
FROM (SELECT g, nextval(pg_get_serial_sequence('kept.customers', 'id')) AS id
      FROM generate_series(:have::bigint, :customers - 1) g) x
JOIN given gv ON gv.n = (x.g * 7919) % :ng
JOIN family fm ON fm.n = (x.g * 104729 / :ng) % :nf;
INSERT INTO kept.customer_phones (customer_id, number_enc, number_digest, number_gdigest, position, consent_automated)
SELECT id, kept.pii_seal(id, n), kept.pii_digest(id, n), kept.number_gdigest(n), 1, false
FROM (SELECT id, '+1' || (2010000000 + (id * 2654435761) % 7989999999)::text AS n
      FROM kept.customers WHERE external_ref LIKE 'FC-%'
        AND NOT EXISTS (SELECT 1 FROM kept.customer_phones p WHERE p.customer_id = kept.customers.id)) x;
INSERT INTO kept.accounts (customer_id, external_ref, creditor, original_balance_cents, balance_cents, currency,
                           placed_on)
SELECT id, 'FA-' || substr(external_ref, 4), 'Bench Bank', 10000, 10000, 'GBP', current_date - 30
FROM kept.customers c WHERE external_ref LIKE 'FC-%'
  AND NOT EXISTS (SELECT 1 FROM kept.accounts a WHERE a.customer_id = c.id);
ALTER TABLE kept.customers ENABLE TRIGGER customers_search_insert;
ALTER TABLE kept.customer_phones ENABLE TRIGGER customer_phones_search_insert;
ALTER TABLE kept.accounts ENABLE TRIGGER accounts_search_insert;
SELECT kept.customer_search_refresh(ARRAY(SELECT id FROM kept.customers WHERE id > :last_id));
COMMIT;
VACUUM (ANALYZE) kept.customers, kept.customer_phones, kept.accounts, kept.customer_search;
