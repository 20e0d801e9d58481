-- The schema and seed rows of the original docker compose project, as its
-- users' volumes hold them: TIMESTAMP columns, a UNIQUE email that tells
-- Joao@Example.com from joao@example.com, no helper tables. A volume that
-- project initialised is recognised as being at this version and only the
-- later migrations run on it; an empty database starts here.

CREATE TABLE usuarios (
    id           SERIAL PRIMARY KEY,
    nome         VARCHAR(100) NOT NULL,
    email        VARCHAR(100) UNIQUE NOT NULL,
    data_criacao TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE logs (
    id           SERIAL PRIMARY KEY,
    acao         VARCHAR(50) NOT NULL,
    mensagem     TEXT,
    usuario_id   INTEGER REFERENCES usuarios (id),
    data_criacao TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO usuarios (nome, email) VALUES
    ('João Silva', 'joao@example.com'),
    ('Maria Santos', 'maria@example.com'),
    ('Pedro Oliveira', 'pedro@example.com');

INSERT INTO logs (acao, mensagem) VALUES
    ('banco_inicializado', 'Banco de dados criado a partir de db/init.sql'),
    ('dados_iniciais', '3 usuários de exemplo inseridos');
