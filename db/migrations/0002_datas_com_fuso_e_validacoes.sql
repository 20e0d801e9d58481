-- Timestamps with a time zone, and the rules the API enforces, in the database
-- too: a name that is not blank, an email with an @, room for any valid email
-- (254 characters), no missing dates or messages, and an index for a user's logs.

-- The original project's server ran in UTC (the postgres image's default), so
-- its TIMESTAMP values were UTC wall-clock times: they keep the same instant.
ALTER TABLE usuarios
    ALTER COLUMN data_criacao TYPE TIMESTAMPTZ USING data_criacao AT TIME ZONE 'UTC',
    ALTER COLUMN data_criacao SET DEFAULT now(),
    ALTER COLUMN email TYPE VARCHAR(254);

ALTER TABLE logs
    ALTER COLUMN data_criacao TYPE TIMESTAMPTZ USING data_criacao AT TIME ZONE 'UTC',
    ALTER COLUMN data_criacao SET DEFAULT now();

-- Rows the new rules would refuse stop the migration with their ids, rather
-- than with PostgreSQL's "violated by some row".
DO $$
DECLARE
    recusadas TEXT;
BEGIN
    SELECT string_agg(format('usuarios id %s (nome %L, email %L)', id, nome, email), '; ' ORDER BY id)
    INTO recusadas
    FROM usuarios
    WHERE btrim(nome) = '' OR email NOT LIKE '_%@_%' OR data_criacao IS NULL;
    IF recusadas IS NULL THEN
        SELECT string_agg(format('logs id %s', id), '; ' ORDER BY id)
        INTO recusadas
        FROM logs
        WHERE mensagem IS NULL OR data_criacao IS NULL;
    END IF;
    IF recusadas IS NOT NULL THEN
        RAISE EXCEPTION 'rows with a blank name, an email without @, or no date or message'
            USING DETAIL = recusadas,
                  HINT = 'Correct or delete these rows (make psql), then start the app again.';
    END IF;
END
$$;

ALTER TABLE usuarios
    ALTER COLUMN data_criacao SET NOT NULL,
    ADD CONSTRAINT usuarios_nome_check CHECK (btrim(nome) <> ''),
    ADD CONSTRAINT usuarios_email_check CHECK (email LIKE '_%@_%');

ALTER TABLE logs
    ALTER COLUMN mensagem SET NOT NULL,
    ALTER COLUMN data_criacao SET NOT NULL;

CREATE INDEX logs_usuario_id_idx ON logs (usuario_id);
