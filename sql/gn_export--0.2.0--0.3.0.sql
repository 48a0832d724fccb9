-- gn_export 0.2.0 -> 0.3.0 (ALTER EXTENSION gn_export UPDATE)
--
-- 0.3.0 runs every statement on a table it does not own as that table's owner, once checked
-- (gn_export.check_catalog() for the catalog), adopts only plain tables, recognises its
-- triggers by their function, and binds every name of its SQL to pg_catalog or its own schema.
\echo Use "ALTER EXTENSION gn_export UPDATE" to load this file. \quit

-- names below bind to gn_export or pg_catalog, whatever is planted on the installer's path
SET LOCAL search_path = gn_export, pg_catalog, pg_temp;

CREATE FUNCTION gn_export.check_catalog() RETURNS void
STRICT STABLE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'check_catalog_wrapper';

-- GeoNature's semantic export is off until a superuser turns it on (gn_export.dsw_enabled),
-- and only for the roles granted it
REVOKE EXECUTE ON FUNCTION gn_export.dsw(jsonb) FROM PUBLIC;

-- the view is made again: a 0.2.0 installed over planted operators had bound them
CREATE OR REPLACE VIEW gn_export.v_runs AS
SELECT r.id_run, r.id_export, r.label, r.format,
       CASE WHEN r.id_export_schedule IS NOT NULL
                 THEN 'schedule ' OPERATOR(pg_catalog.||) r.id_export_schedule::text
            WHEN r.id_role IS NOT NULL THEN 'user ' OPERATOR(pg_catalog.||) r.id_role::text
            ELSE 'admin (' OPERATOR(pg_catalog.||) r.requested_by::text OPERATOR(pg_catalog.||) ')'
       END AS requested_for,
       r.status, r.rows, r.bytes, pg_catalog.pg_size_pretty(r.bytes) AS size,
       r.started_at, r.finished_at, r.finished_at OPERATOR(pg_catalog.-) r.started_at AS duration,
       r.path, r.url, r.error, r.sqlstate
FROM gn_export.t_runs r;

-- as sql/catalog.sql has it
CREATE OR REPLACE FUNCTION gn_export.install_catalog() RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $catalog$
DECLARE
    has_roles boolean := to_regclass('utilisateurs.t_roles') IS NOT NULL;
    member record;
    new_schedules boolean := false;
    formats text[];
    checked text[];
    safeguard record;
    trigger_name name;
BEGIN
    IF to_regnamespace('gn_exports') IS NULL THEN
        CREATE SCHEMA gn_exports;
        COMMENT ON SCHEMA gn_exports IS 'GeoNature EXPORT module catalog (shared with GeoNature)';
    END IF;

    IF to_regclass('gn_exports.t_licences') IS NULL THEN
        CREATE TABLE gn_exports.t_licences (
            id_licence   serial PRIMARY KEY,
            name_licence varchar(100) NOT NULL,
            url_licence  varchar(500) NOT NULL
        );
        INSERT INTO gn_exports.t_licences (name_licence, url_licence) VALUES
            ('Creative Commons Attribution 1.0 Generic (CC-BY-1.0)', 'https://spdx.org/licenses/CC-BY-1.0.html'),
            ('Open Data Commons Open Database License v1.0 (ODbL-1.0)', 'https://spdx.org/licenses/ODbL-1.0.html'),
            ('Licence Ouverte / Open Licence Version 2.0', 'https://spdx.org/licenses/etalab-2.0.html');
    END IF;

    IF to_regclass('gn_exports.t_exports') IS NULL THEN
        CREATE TABLE gn_exports.t_exports (
            id             serial PRIMARY KEY,
            label          text NOT NULL CONSTRAINT uniq_label UNIQUE,
            schema_name    text NOT NULL,
            view_name      text NOT NULL,
            "desc"         text,
            geometry_field varchar(255),
            geometry_srid  integer,
            public         boolean NOT NULL DEFAULT false,
            id_licence     integer NOT NULL
                           REFERENCES gn_exports.t_licences (id_licence),
            view_pk_column varchar NOT NULL
        );
    END IF;

    IF to_regclass('gn_exports.cor_exports_roles') IS NULL THEN
        CREATE TABLE gn_exports.cor_exports_roles (
            id_export integer NOT NULL
                      REFERENCES gn_exports.t_exports (id) ON DELETE CASCADE,
            id_role   integer NOT NULL,
            token     varchar NOT NULL,
            PRIMARY KEY (id_export, id_role)
        );
        IF has_roles THEN
            ALTER TABLE gn_exports.cor_exports_roles
                ADD CONSTRAINT fk_cor_exports_roles_id_role FOREIGN KEY (id_role)
                REFERENCES utilisateurs.t_roles (id_role) ON UPDATE CASCADE;
        END IF;
    END IF;

    IF to_regclass('gn_exports.t_export_schedules') IS NULL THEN
        CREATE TABLE gn_exports.t_export_schedules (
            id_export_schedule serial PRIMARY KEY,
            id_export  integer NOT NULL
                       REFERENCES gn_exports.t_exports (id) ON DELETE CASCADE,
            frequency  integer NOT NULL
                       CONSTRAINT t_export_schedules_frequency_check CHECK (frequency BETWEEN 1 AND 365),
            format     varchar(10) NOT NULL,
            in_process boolean NOT NULL DEFAULT false
        );
        new_schedules := true;
    END IF;

    -- Adopted tables must be what GeoNature made (42501 otherwise): nothing below may touch a
    -- view, a rule or a foreign table that stands in a table's place.
    PERFORM gn_export.check_catalog();

    -- The formats a schedule may name are those of gn_export.formats(), written out as literals:
    -- the table is the database's, not the extension's, so its CHECK calls nothing of ours.
    -- Rewritten whenever that list has changed (rows already there are not re-checked: NOT
    -- VALID). GeoNature's own table has no such CHECK (its admin form checks) and gets none.
    -- A name longer than the column (geojsonseq.gz) cannot be scheduled: the column is
    -- GeoNature's varchar(10).
    SELECT pg_catalog.array_agg(f.name ORDER BY f.ord) INTO formats
      FROM gn_export.formats() WITH ORDINALITY
           AS f(name, aliases, extension, media_type, streams, needs_geometry, copy_format,
                needs_columns, ord)
     WHERE pg_catalog.length(f.name) <= 10;
    SELECT ARRAY(SELECT m[1] FROM pg_catalog.regexp_matches(pg_catalog.pg_get_constraintdef(c.oid),
                                                            '''([^'']*)''', 'g') AS m)
      INTO checked
      FROM pg_catalog.pg_constraint c
     WHERE c.conrelid = 'gn_exports.t_export_schedules'::regclass
       AND c.conname = 't_export_schedules_format_check';
    IF new_schedules OR (checked IS NOT NULL AND checked IS DISTINCT FROM formats) THEN
        IF checked IS NOT NULL THEN
            ALTER TABLE gn_exports.t_export_schedules DROP CONSTRAINT t_export_schedules_format_check;
        END IF;
        EXECUTE pg_catalog.format(
            'ALTER TABLE gn_exports.t_export_schedules ADD CONSTRAINT t_export_schedules_format_check CHECK (format IN (%s))%s',
            (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(x), ', ') FROM pg_catalog.unnest(formats) AS x),
            CASE WHEN new_schedules THEN '' ELSE ' NOT VALID' END);
    END IF;

    -- A fresh random token per association. md5 over a v4 UUID keeps the 32-hex shape GeoNature
    -- uses (token_hex(16)) with 122 bits from the server's strong random source. The expression
    -- uses only core functions, so the default survives DROP EXTENSION harmlessly.
    ALTER TABLE gn_exports.cor_exports_roles
        ALTER COLUMN token SET DEFAULT pg_catalog.md5(pg_catalog.gen_random_uuid()::text);

    -- Tokens unique per export. On an adopted GeoNature catalog the shared-token defect may
    -- already be in the rows; those rows are not rewritten, so the index is then skipped with a
    -- warning (new rows are still healed by the trigger below). The rows are never read here:
    -- the index build reads them as the table's owner (PostgreSQL's own rule), over columns
    -- whose types check_catalog() has checked.
    IF to_regclass('gn_exports.cor_exports_roles_token_key') IS NULL THEN
        BEGIN
            CREATE UNIQUE INDEX cor_exports_roles_token_key
                ON gn_exports.cor_exports_roles (id_export, token);
        EXCEPTION WHEN unique_violation THEN
            RAISE WARNING 'gn_export: some exports share one token between several roles (GeoNature defect); tokens are not unique per export'
                USING HINT = 'Give each association its own token with gn_export.rotate_token(id_export, id_role), then run CREATE UNIQUE INDEX cor_exports_roles_token_key ON gn_exports.cor_exports_roles (id_export, token).';
        END;
    END IF;

    -- The catalog belongs to the database, not to the extension: whatever this script created
    -- in gn_exports (schema, tables, serial sequences) leaves the extension's membership.
    FOR member IN
        SELECT c.oid, CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
               format('%I.%I', n.nspname, c.relname) AS name
        FROM pg_depend d
        JOIN pg_class c ON c.oid = d.objid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE d.classid = 'pg_class'::regclass
          AND d.refclassid = 'pg_extension'::regclass
          AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'gn_export')
          AND d.deptype = 'e'
          AND n.nspname = 'gn_exports'
        ORDER BY c.relkind DESC  -- tables ('r') before sequences ('S')
    LOOP
        -- re-checked: releasing a table may already have released what it owns
        IF EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = member.oid
                     AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e') THEN
            EXECUTE format('ALTER EXTENSION gn_export DROP %s %s', member.kind, member.name);
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_depend d
               WHERE d.classid = 'pg_namespace'::regclass
                 AND d.objid = 'gn_exports'::regnamespace
                 AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e') THEN
        ALTER EXTENSION gn_export DROP SCHEMA gn_exports;
    END IF;

    -- Safeguard triggers. DEPENDS ON EXTENSION makes DROP EXTENSION remove them (and only
    -- them). Ours are recognised by their function, never by their name: a trigger of someone
    -- else's under our name is left alone, and ours gets a free name beside it.
    --   heal tokens;
    --   check a definition, only when a column the check reads is written: renaming a label or
    --   flipping `public` on an old row whose view has gone stays possible, and existing rows
    --   are never re-checked;
    --   refuse a label whose safe form is another's: two labels whose safe forms are equal
    --   would share one file (GeoNature keeps only [0-9A-Za-z_-] of a label).
    FOR safeguard IN
        SELECT * FROM (VALUES
            ('gn_exports.cor_exports_roles'::regclass, 'gn_export_heal_token',
             'gn_export.tg_heal_token()'::regprocedure, 'BEFORE INSERT OR UPDATE OF token'),
            ('gn_exports.t_exports'::regclass, 'gn_export_check_definition',
             'gn_export.tg_check_definition()'::regprocedure,
             'BEFORE INSERT OR UPDATE OF schema_name, view_name, view_pk_column, geometry_field, geometry_srid'),
            ('gn_exports.t_exports'::regclass, 'gn_export_check_file_name',
             'gn_export.tg_check_file_name()'::regprocedure, 'BEFORE INSERT OR UPDATE OF label'))
            AS s(rel, name, fn, timing)
    LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                              WHERE t.tgrelid OPERATOR(pg_catalog.=) safeguard.rel
                                AND t.tgfoid OPERATOR(pg_catalog.=) safeguard.fn);
        trigger_name := safeguard.name;
        WHILE EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                      WHERE t.tgrelid OPERATOR(pg_catalog.=) safeguard.rel
                        AND t.tgname OPERATOR(pg_catalog.=) trigger_name) LOOP
            trigger_name := safeguard.name OPERATOR(pg_catalog.||) '_'
                            OPERATOR(pg_catalog.||) pg_catalog.substr(pg_catalog.md5(pg_catalog.random()::text), 1, 6);
        END LOOP;
        EXECUTE pg_catalog.format('CREATE TRIGGER %I %s ON %s FOR EACH ROW EXECUTE FUNCTION %s',
                                  trigger_name, safeguard.timing, safeguard.rel, safeguard.fn);
        EXECUTE pg_catalog.format('ALTER TRIGGER %I ON %s DEPENDS ON EXTENSION gn_export',
                                  trigger_name, safeguard.rel);
    END LOOP;
END
$catalog$;
