"""A database's schema as comparable text: what two databases must share to be "the same schema".

One query, so that the API tests (psycopg2) and the e2e tests (psql in the
database container) read it alike. Each row is one fact: a column with its type,
nullability and default; an index with its definition; a constraint; a trigger;
a function's source; a sequence. Names of objects are part of the facts: the
app and the migrations refer to them.
"""

SCHEMA_FACTS = """
SELECT fact FROM (
    SELECT format('column %s.%s #%s %s null=%s default=%s', table_name, column_name,
                  ordinal_position, format_type(a.atttypid, a.atttypmod), is_nullable,
                  column_default)
    FROM information_schema.columns AS c
    JOIN pg_attribute AS a
      ON a.attrelid = to_regclass(quote_ident(c.table_name)) AND a.attname = c.column_name
    WHERE c.table_schema = 'public'
    UNION ALL
    SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL
    SELECT format('constraint %s on %s: %s', conname, conrelid::regclass,
                  pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT format('trigger %s', pg_get_triggerdef(oid))
    FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT format('function %s: %s', oid::regprocedure, md5(prosrc))
    FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL
    SELECT format('sequence %s %s owned by %s', sequencename, data_type,
                  (SELECT format('%s.%s', d.refobjid::regclass, a.attname)
                   FROM pg_depend AS d
                   JOIN pg_attribute AS a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                   WHERE d.objid = format('%I', sequencename)::regclass AND d.deptype = 'a'))
    FROM pg_sequences WHERE schemaname = 'public'
) AS facts (fact)
ORDER BY fact
"""


def schema_facts(cursor) -> list[str]:
    cursor.execute(SCHEMA_FACTS)
    return [fact for (fact,) in cursor.fetchall()]
