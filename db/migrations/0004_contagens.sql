-- Row counts for GET /status, kept by triggers: count(*) reads a whole table,
-- so its cost grows with the data (bench/README.md has the figures); summing
-- these rows costs the same at any size. Exact and transactional like
-- count(*): the counts change in the same transaction as the rows. Each
-- backend adds to its own one of 16 slots, so concurrent inserts do not queue
-- on one row lock until their commits.
CREATE TABLE contagens (
    tabela TEXT     NOT NULL,
    fatia  SMALLINT NOT NULL,
    linhas BIGINT   NOT NULL,
    PRIMARY KEY (tabela, fatia)
);

-- Per statement, not per row: a bulk load updates one slot once.
CREATE FUNCTION contar_linhas() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta BIGINT;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM contagens WHERE tabela = TG_TABLE_NAME;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO delta FROM linhas_novas;
    ELSE
        SELECT -count(*) INTO delta FROM linhas_removidas;
    END IF;
    INSERT INTO contagens AS c (tabela, fatia, linhas)
    VALUES (TG_TABLE_NAME, pg_backend_pid() % 16, delta)
    ON CONFLICT (tabela, fatia) DO UPDATE SET linhas = c.linhas + excluded.linhas;
    RETURN NULL;
END
$$;

-- Writers wait from here to the commit: the rows counted below are then all
-- the rows, and every later write goes through the triggers.
LOCK TABLE usuarios, logs IN SHARE ROW EXCLUSIVE MODE;

-- The same three triggers on each table: <table>_contar_insercoes, _remocoes, _truncate.
DO $$
DECLARE
    tabela TEXT;
BEGIN
    FOREACH tabela IN ARRAY ARRAY['usuarios', 'logs'] LOOP
        EXECUTE format(
            'CREATE TRIGGER %1$s_contar_insercoes AFTER INSERT ON %1$I
                 REFERENCING NEW TABLE AS linhas_novas
                 FOR EACH STATEMENT EXECUTE FUNCTION contar_linhas();
             CREATE TRIGGER %1$s_contar_remocoes AFTER DELETE ON %1$I
                 REFERENCING OLD TABLE AS linhas_removidas
                 FOR EACH STATEMENT EXECUTE FUNCTION contar_linhas();
             CREATE TRIGGER %1$s_contar_truncate AFTER TRUNCATE ON %1$I
                 FOR EACH STATEMENT EXECUTE FUNCTION contar_linhas()',
            tabela);
    END LOOP;
END
$$;

-- The rows already there, in slot 0.
INSERT INTO contagens (tabela, fatia, linhas)
SELECT 'usuarios', 0, count(*) FROM usuarios
UNION ALL
SELECT 'logs', 0, count(*) FROM logs;
