"""The SQL the API runs. Every list is read in id order, by keyset, so a page
costs the same at any depth and any table size (the primary key serves it)."""

USUARIO_COLUMNS = ("id", "nome", "email", "data_criacao")
LOG_COLUMNS = ("id", "acao", "mensagem", "usuario_id", "data_criacao")

LIST_USUARIOS = """
    SELECT id, nome, email, data_criacao FROM usuarios
    WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
"""

# One statement, so the user and its log row are written atomically in one round trip.
CREATE_USUARIO = """
    WITH novo AS (
        INSERT INTO usuarios (nome, email) VALUES (%(nome)s, %(email)s)
        RETURNING id, nome, email, data_criacao
    ), registro AS (
        INSERT INTO logs (acao, mensagem, usuario_id)
        SELECT 'usuario_criado', 'Usuário criado: ' || nome || ' <' || email || '>', id FROM novo
    )
    SELECT id, nome, email, data_criacao FROM novo
"""

LIST_LOGS = """
    SELECT id, acao, mensagem, usuario_id, data_criacao FROM logs
    WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
"""

COUNTS = "SELECT (SELECT count(*) FROM usuarios), (SELECT count(*) FROM logs)"
