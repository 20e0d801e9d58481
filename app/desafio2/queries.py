"""The SQL the API runs. Every list is read in id order, by keyset, so a page
costs the same at any depth and any table size (the primary key serves it)."""

USUARIO_COLUMNS = ("id", "nome", "email", "data_criacao")


def _prepared(name: str, parameters: dict[str, str], sql: str) -> tuple[str, str]:
    """`sql` takes $1, $2, ... in the order of `parameters` (name: type). Returns
    the PREPARE that db.py runs on each new connection, and the EXECUTE that
    runs it with psycopg2's %(name)s parameters."""
    prepare = f"PREPARE {name} ({', '.join(parameters.values())}) AS {sql}"
    execute = f"EXECUTE {name} ({', '.join(f'%({p})s' for p in parameters)})"
    return prepare, execute


# RFC 3339 with all six fractional digits, as serialize.py writes it too, so a
# user reads the same string from POST and from the list.
_ISO_8601 = """to_char(data_criacao AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


def _json_page(table: str, columns: str) -> str:
    """One page ($1: after, $2: limit) as (JSON array text, last id, whether a next page exists).

    PostgreSQL writes the JSON: turning rows into Python objects and back to
    JSON was the largest cost of a list request (bench/README.md). Whether a
    next page exists is one probe of the primary key past the last id: min()
    makes that an index probe, where EXISTS let the planner pick a scan of the
    table that reads most of it behind a deep page.
    """
    return f"""
        SELECT '[' || coalesce(string_agg(row_to_json(page)::text, ',' ORDER BY page.id), '') || ']',
               max(page.id),
               (SELECT min(id) FROM {table} WHERE id > max(page.id)) IS NOT NULL
        FROM (
            SELECT {columns}, {_ISO_8601} AS data_criacao FROM {table}
            WHERE id > $1 ORDER BY id LIMIT $2
        ) AS page
    """


_PAGE_PARAMETERS = {"after": "integer", "limit": "integer"}

_PREPARE_LIST_USUARIOS, LIST_USUARIOS = _prepared(
    "list_usuarios", _PAGE_PARAMETERS, _json_page("usuarios", "id, nome, email")
)

# One statement, so the user and its log row are written atomically in one round trip.
_PREPARE_CREATE_USUARIO, CREATE_USUARIO = _prepared(
    "create_usuario",
    {"nome": "text", "email": "text"},
    """
    WITH novo AS (
        INSERT INTO usuarios (nome, email) VALUES ($1, $2)
        RETURNING id, nome, email, data_criacao
    ), registro AS (
        INSERT INTO logs (acao, mensagem, usuario_id)
        SELECT 'usuario_criado', 'Usuário criado: ' || nome || ' <' || email || '>', id FROM novo
    )
    SELECT id, nome, email, data_criacao FROM novo
    """,
)

_PREPARE_LIST_LOGS, LIST_LOGS = _prepared(
    "list_logs", _PAGE_PARAMETERS, _json_page("logs", "id, acao, mensagem, usuario_id")
)

# The page at / (page/data.py): the newest rows, each read backwards on a
# primary key, so the same cost at any table size.
LATEST_USUARIOS = """
    SELECT id, nome, email, data_criacao FROM usuarios ORDER BY id DESC LIMIT %(limit)s
"""
LATEST_LOGS = """
    SELECT id, acao, mensagem, usuario_id, data_criacao FROM logs
    ORDER BY id DESC LIMIT %(limit)s
"""
# The app's starts and how many there are. A start concerns no user
# (startup.py writes no usuario_id), and `usuario_id IS NULL` lets the index on
# usuario_id find the few such rows: filtering on acao alone read every log
# backwards, and counted over all of them, at 1,000,000 logs.
LATEST_STARTS = """
    SELECT id, mensagem, data_criacao, count(*) OVER () FROM logs
    WHERE usuario_id IS NULL AND acao = %(acao)s
    ORDER BY id DESC LIMIT %(limit)s
"""

# Planning the lists and the insert took PostgreSQL longer than running them
# (bench/README.md), so each is prepared once per connection.
PREPARED = (_PREPARE_LIST_USUARIOS, _PREPARE_CREATE_USUARIO, _PREPARE_LIST_LOGS)

# What db.py runs on every new connection. The generic plan, always: left to
# choose, PostgreSQL kept planning the lists anew on every request once a table
# held about 100,000 rows, since it cannot cost a LIMIT it does not know yet.
# The generic plan reads the primary key in order whatever the parameters
# (tests/api/test_pagination.py checks it), so planning again gains nothing.
SESSION_SETUP = ("SET plan_cache_mode = force_generic_plan", *PREPARED)

# The slots the triggers of db/migrations/0004_contagens.sql keep: the same cost at any table size.
COUNTS = """
    SELECT coalesce(sum(linhas) FILTER (WHERE tabela = 'usuarios'), 0)::bigint,
           coalesce(sum(linhas) FILTER (WHERE tabela = 'logs'), 0)::bigint
    FROM contagens
"""
