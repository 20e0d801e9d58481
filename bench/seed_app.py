"""The seed-style API, kept only as the benchmark's baseline; the stack never runs it.

It does what the seed ships: Flask's development server, a new database
connection for every request, and every GET returns the whole table. Leave its
costs in place: they are what the benchmark measures our API against. The
connection comes from libpq's environment (PGHOST, PGPORT, PGUSER, PGPASSWORD,
PGDATABASE); SEED_PORT is where it listens, on 127.0.0.1 only.
"""

import os

import psycopg2
from flask import Flask, jsonify, request

app = Flask(__name__)


def get_db_connection():
    return psycopg2.connect()


def rows_as_dicts(cursor) -> list[dict]:
    names = [column.name for column in cursor.description]
    return [
        {
            name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in zip(names, row, strict=True)
        }
        for row in cursor.fetchall()
    ]


def whole_table(query: str):
    conn = get_db_connection()
    cur = conn.cursor()
    cur.execute(query)
    rows = rows_as_dicts(cur)
    cur.close()
    conn.close()
    return jsonify(rows)


@app.route("/usuarios", methods=["GET"])
def listar_usuarios():
    return whole_table("SELECT * FROM usuarios ORDER BY id")


@app.route("/usuarios", methods=["POST"])
def criar_usuario():
    dados = request.get_json()
    conn = get_db_connection()
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO usuarios (nome, email) VALUES (%s, %s) RETURNING *",
        (dados["nome"], dados["email"]),
    )
    usuario = rows_as_dicts(cur)[0]
    cur.execute(
        "INSERT INTO logs (acao, mensagem, usuario_id) VALUES (%s, %s, %s)",
        ("usuario_criado", f"Usuário criado: {dados['nome']}", usuario["id"]),
    )
    conn.commit()
    cur.close()
    conn.close()
    return jsonify(usuario), 201


@app.route("/logs", methods=["GET"])
def listar_logs():
    return whole_table("SELECT * FROM logs ORDER BY id")


@app.route("/status", methods=["GET"])
def status():
    conn = get_db_connection()
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM usuarios")
    usuarios = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM logs")
    logs = cur.fetchone()[0]
    cur.close()
    conn.close()
    return jsonify({"status": "ok", "usuarios": usuarios, "logs": logs})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["SEED_PORT"]), threaded=True)
