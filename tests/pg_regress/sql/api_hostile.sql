-- A hostile corpus against gn_export.api(): quotes, semicolons, comment markers, dollar quotes,
-- huge strings, unicode, keys that look like SQL. Nothing executes, nothing changes, every
-- call returns a clean error (never XX000) or a (possibly empty) page.
CREATE DATABASE gn_t_hostile;
\c gn_t_hostile
\set demo_rows 30
\i demo_db.sql
CREATE TABLE public.canary (id int);
INSERT INTO public.canary VALUES (1);
CREATE TEMP TABLE before AS
SELECT (SELECT md5(string_agg(x::text, '' ORDER BY x::text)) FROM gn_exports.t_exports x) AS exports,
       (SELECT md5(string_agg(x::text, '' ORDER BY x::text)) FROM gn_synthese.synthese x) AS synthese;
CREATE TEMP TABLE corpus (k text, v jsonb);
INSERT INTO corpus
SELECT k, to_jsonb(v) FROM unnest(ARRAY['nom_cite', 'ilike_nom_cite', 'filter_d_up_date_debut', 'filter_n_up_cd_nom',
                                        'geometry', 'orderby', 'limit', 'offset', 'cd_nom', 'id_synthese']) k,
    unnest(ARRAY[
        $$'; DROP TABLE public.canary; --$$,
        $$" OR 1=1 --$$,
        $$1; DELETE FROM gn_synthese.synthese$$,
        '$$x$$ $q$ ; SELECT pg_sleep(10); $q$',
        $$/* */ UNION SELECT token FROM gn_exports.cor_exports_roles --$$,
        $$\\x00\\\\'$$,
        repeat('é', 100000),
        '漢字🦅' || E'\t\n\r',
        'POINT(1 2)); DROP TABLE public.canary; --',
        'id_synthese; DROP TABLE public.canary',
        '1e400', '-0', 'NaN', '', ' '
    ]) v
UNION ALL
SELECT k, '1'::jsonb FROM unnest(ARRAY[
        $$nom_cite"; DROP TABLE public.canary; --$$, $$ilike_x' OR '1'='1$$, 'filter_d_up_(SELECT 1)',
        $$orderby; DROP TABLE public.canary$$, 'geometry"', repeat('k', 10000), '', '🦅', '$$x$$']) k;
CREATE TEMP TABLE outcome (k text, sqlstate text, page boolean);
DO $$
DECLARE
    c record;
    st text;
BEGIN
    FOR c IN SELECT * FROM corpus LOOP
        BEGIN
            PERFORM gn_export.api(1, jsonb_build_object(c.k, c.v), 3);
            INSERT INTO outcome VALUES (c.k, NULL, true);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            INSERT INTO outcome VALUES (c.k, st, false);
        END;
    END LOOP;
END
$$;
SELECT count(*) AS calls FROM corpus;
SELECT coalesce(sqlstate, 'page') AS outcome, count(*) FROM outcome GROUP BY 1 ORDER BY 1;
SELECT count(*) FILTER (WHERE sqlstate = 'XX000' OR sqlstate LIKE '58%' OR sqlstate IS NULL AND NOT page) AS internal_errors FROM outcome;
SELECT count(*) AS canary_alive FROM public.canary;
SELECT b.exports = (SELECT md5(string_agg(x::text, '' ORDER BY x::text)) FROM gn_exports.t_exports x) AS exports_unchanged,
       b.synthese = (SELECT md5(string_agg(x::text, '' ORDER BY x::text)) FROM gn_synthese.synthese x) AS synthese_unchanged
FROM before b;
-- NUL bytes cannot even enter jsonb: PostgreSQL refuses them before api() runs
SELECT gn_export.api(1, '{"nom_cite": "a\u0000b"}', 3);
\echo :LAST_ERROR_SQLSTATE
\c gn_export_regress
DROP DATABASE gn_t_hostile;
