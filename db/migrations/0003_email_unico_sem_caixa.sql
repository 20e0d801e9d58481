-- Emails are unique whatever their case: Joao@Example.com is joao@example.com.
-- The original UNIQUE constraint compared them byte for byte.

-- Two rows that differ only in case cannot both stay: which one is kept is the
-- user's decision, so the migration stops and names them (README: "When a
-- migration fails").
DO $$
DECLARE
    duplicados TEXT;
BEGIN
    SELECT string_agg(linhas, '; ' ORDER BY chave)
    INTO duplicados
    FROM (
        SELECT lower(email) AS chave,
               string_agg(format('id %s %L', id, email), ', ' ORDER BY id) AS linhas
        FROM usuarios
        GROUP BY lower(email)
        HAVING count(*) > 1
    ) AS grupos;
    IF duplicados IS NOT NULL THEN
        RAISE EXCEPTION 'usuarios holds emails that differ only in case'
            USING DETAIL = duplicados,
                  HINT = 'Keep one row of each group: change the email of the others, or delete '
                         'them with their logs (make psql), then start the app again.';
    END IF;
END
$$;

ALTER TABLE usuarios DROP CONSTRAINT usuarios_email_key;
CREATE UNIQUE INDEX usuarios_email_key ON usuarios (lower(email));
