-- Schema and seed data of Desafio 2. The postgres image runs this once, on the
-- first start of an empty data volume; the API's tests build their database
-- from this same file.

CREATE TABLE usuarios (
    id           SERIAL PRIMARY KEY,
    nome         VARCHAR(100) NOT NULL CHECK (btrim(nome) <> ''),
    email        VARCHAR(254) NOT NULL CHECK (email LIKE '_%@_%'),
    data_criacao TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- Emails are unique whatever their case: Joao@Example.com is joao@example.com.
CREATE UNIQUE INDEX usuarios_email_key ON usuarios (lower(email));

CREATE TABLE logs (
    id           SERIAL PRIMARY KEY,
    acao         VARCHAR(50) NOT NULL,
    mensagem     TEXT        NOT NULL,
    usuario_id   INTEGER     REFERENCES usuarios (id),
    data_criacao TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX logs_usuario_id_idx ON logs (usuario_id);

INSERT INTO usuarios (nome, email) VALUES
    ('João Silva', 'joao@example.com'),
    ('Maria Santos', 'maria@example.com'),
    ('Pedro Oliveira', 'pedro@example.com');

INSERT INTO logs (acao, mensagem) VALUES
    ('banco_inicializado', 'Banco de dados criado a partir de db/init.sql'),
    ('dados_iniciais', '3 usuários de exemplo inseridos');
