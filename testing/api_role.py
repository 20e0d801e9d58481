"""What the API's role (db/migrations/0005_papel_da_api.sql) must be refused, checked on
one host (tests/e2e/test_api_role.py) and on a swarm alike."""

# Each statement the role must be refused, each with SQLSTATE 42501,
# insufficient_privilege (the messages vary: "permission denied ...", "must be owner
# of ...", "must be superuser or a member of ...").
INSUFFICIENT_PRIVILEGE = "42501"
REFUSED = {
    "create a table": "CREATE TABLE intruso (id int)",
    "alter a table": "ALTER TABLE usuarios ADD COLUMN intruso int",
    "drop a table": "DROP TABLE logs",
    "run a program": "COPY (SELECT 1) TO PROGRAM 'id'",
    "read a server file": "COPY logs FROM '/etc/passwd'",
    "write a server file": "COPY (SELECT 1) TO '/tmp/intruso'",
    "read pg_authid": "SELECT rolpassword FROM pg_authid",
    "read the migrations' table": "SELECT * FROM schema_migrations",
    "create a role": "CREATE ROLE intruso",
    "become the owner": "SET ROLE usuario",
}


def psql_command(user: str, dbname: str, sql: str, host: str) -> list[str]:
    """psql running sql as user; each error printed with its SQLSTATE (VERBOSITY)."""
    return [
        *("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"),
        *("-h", host, "-U", user, "-d", dbname, "-c", sql),
    ]


def sessions_from(address: str) -> str:
    """SQL: the roles of the client sessions opened from a container's address."""
    return (
        "SELECT DISTINCT usename FROM pg_stat_activity "
        f"WHERE client_addr = '{address}' AND backend_type = 'client backend'"
    )
