-- GIN expression indexes that serve FerretDB's pushed-down equality filters (ADR 0010).
--
-- FerretDB v1.24.2's PostgreSQL handler stores a document in `_jsonb` and pushes an equality
-- filter down as `_jsonb -> 'f' @> value` (a dotted path as `_jsonb #> '{a,b}' @> value`). The
-- btree index it creates for a declared index, `((_jsonb -> 'f'))`, cannot serve `@>`; a GIN
-- `jsonb_path_ops` index on the same expression can. So every btree index FerretDB creates on a
-- collection's table gets, through this event trigger, one GIN index per field it names (one
-- per table and field, however many indexes name it). The services keep declaring their indexes
-- with `create_index`; nothing else knows about these.
--
-- This depends on FerretDB's internals (the `_jsonb` column, the index expressions, the filter
-- shape, `_ferretdb_database_metadata`), pinned by FERRETDB_VERSION and checked by
-- deploy/local/tests/test_store_indexes.py: an upgrade that changes them fails that test.
-- Installed by `herald-stack` after every start of the cluster; every statement is idempotent.

SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION herald_gin_expression(index_oid oid, col int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  expr text := pg_get_indexdef(index_oid, col, false);
  fields text[];
BEGIN
  -- FerretDB 1.24 indexes a field as (_jsonb -> 'f') and a dotted path as ((_jsonb -> 'a') -> 'b')
  IF expr !~ '^\(*_jsonb( -> ''[^'']+''::text\)*)+$' THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(m[1]) INTO fields FROM regexp_matches(expr, '''([^'']+)''::text', 'g') AS m;
  IF array_length(fields, 1) = 1 THEN
    RETURN format('(_jsonb -> %L)', fields[1]);
  END IF;
  RETURN format('(_jsonb #> %L::text[])', '{' || array_to_string(fields, ',') || '}');
END $$;

CREATE OR REPLACE FUNCTION herald_gin_for_index(index_oid oid) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  ns text; tbl text; am text; ncols int; expr text; gin_name text; made int := 0;
BEGIN
  SELECT n.nspname, t.relname, a.amname, i.indnatts
    INTO ns, tbl, am, ncols
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am a ON a.oid = c.relam
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
   WHERE i.indexrelid = index_oid;
  IF am IS DISTINCT FROM 'btree' OR tbl = '_ferretdb_database_metadata'
     OR ns IN ('pg_catalog', 'information_schema', 'public') OR ns LIKE 'pg\_%' THEN
    RETURN 0;
  END IF;
  FOR col IN 1..ncols LOOP
    expr := herald_gin_expression(index_oid, col);
    CONTINUE WHEN expr IS NULL;
    gin_name := 'herald_gin_' || substr(md5(tbl || ' ' || expr), 1, 24);
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                          WHERE n.nspname = ns AND c.relname = gin_name);
    -- fastupdate off: an entry goes into the index at once. With the pending list (the default)
    -- every lookup also reads the unmerged entries, up to 4 MB of them, and an insert now and
    -- then pays for merging them all; these indexes serve point lookups on busy tables.
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (%s jsonb_path_ops) WITH (fastupdate = off)',
                   gin_name, ns, tbl, expr);
    made := made + 1;
  END LOOP;
  RETURN made;
END $$;

CREATE OR REPLACE FUNCTION herald_gin_on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands()
           WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
    PERFORM herald_gin_for_index(r.objid);
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS herald_gin;
CREATE EVENT TRIGGER herald_gin ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION herald_gin_on_create_index();

-- Indexes made before the trigger existed get theirs too.
SELECT coalesce(sum(herald_gin_for_index(i.indexrelid)), 0) AS backfilled
  FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public', 'pg_toast');
