-- The API's own role, `api`, with the rights its queries need and nothing more. Until
-- now the API connected as the schema's owner, the postgres image's superuser: a flaw
-- in the app would have handed over the whole server. The owner (whoever runs the
-- migrations: CURRENT_USER, `usuario` in the stack) keeps the schema and migrates it;
-- the migrator, not this file, gives `api` LOGIN and its password
-- (app/desafio2/migrations/), so no password is ever written in a migration.
-- A migration that adds a table grants `api` what the API does with it, here below
-- its CREATE TABLE (docs/schema.md, "Grants follow new tables").

-- A role belongs to the server, not to one database: another database of the same
-- server may have created it already. It must then have no more rights than this.
DO $$
DECLARE
    demais TEXT;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'api') THEN
        CREATE ROLE api NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION
            NOBYPASSRLS;
        RETURN;
    END IF;
    SELECT concat_ws(', ',
               CASE WHEN rolsuper THEN 'SUPERUSER' END,
               CASE WHEN rolcreatedb THEN 'CREATEDB' END,
               CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
               CASE WHEN rolreplication THEN 'REPLICATION' END,
               CASE WHEN rolbypassrls THEN 'BYPASSRLS' END,
               (SELECT 'member of ' || string_agg(roleid::regrole::text, ', ' ORDER BY roleid)
                FROM pg_auth_members WHERE member = r.oid))
    INTO demais
    FROM pg_roles AS r
    WHERE rolname = 'api';
    IF demais <> '' THEN
        RAISE EXCEPTION 'the role api already exists with rights the API must not have'
            USING DETAIL = demais,
                  HINT = 'Take them away (ALTER ROLE api NOSUPERUSER ..., REVOKE ... FROM api) '
                         'with make psql, then run the migrations again.';
    END IF;
END
$$;

-- Nobody but the owner creates objects in public. PostgreSQL 15 already makes new
-- databases so; a database made by an older one, or by hand, may not be.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO api;

-- Only the owner (and the superusers) and the API connect; no temporary tables, which
-- no query of the API uses. A new database's defaults let every role do both.
DO $$
BEGIN
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO api', current_database());
END
$$;

-- What the API's SQL does (app/desafio2/usuarios.py, logs.py, status.py, page/data.py,
-- startup.py): it lists and adds
-- usuarios and logs (INSERT ... RETURNING reads the new row: SELECT), takes their ids
-- from the sequences (nextval: USAGE) and reads the counters for /status and the page.
-- No UPDATE, DELETE or TRUNCATE: the API never changes nor removes a row.
GRANT SELECT, INSERT ON usuarios, logs TO api;
GRANT USAGE ON SEQUENCE usuarios_id_seq, logs_id_seq TO api;
GRANT SELECT ON contagens TO api;

-- The counters are written by 0004's triggers as whoever writes the rows. Rather
-- than letting `api` write contagens itself (it could then set any count), the
-- trigger function runs with its owner's rights: it is the owner's, its
-- search_path fixed (pg_temp last, so that no temporary table of a session can stand
-- in for contagens), and nobody may call it but as a trigger.
ALTER FUNCTION contar_linhas() OWNER TO CURRENT_USER;
ALTER FUNCTION contar_linhas() SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;
REVOKE EXECUTE ON FUNCTION contar_linhas() FROM PUBLIC;

-- The app waits at its start until the migrator has applied every migration it knows
-- (app/desafio2/migrations/wait.py); `api` may not read schema_migrations, so it asks
-- this function, which reads it with its owner's rights.
CREATE FUNCTION versao_do_esquema() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp
    AS $$ SELECT max(version) FROM public.schema_migrations $$;
REVOKE EXECUTE ON FUNCTION versao_do_esquema() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION versao_do_esquema() TO api;
