"""The backup written before migrations change a database that holds data.

It is written the way `make backup` writes one: pg_dump's custom format, run
in the database container (PostgreSQL starts it for us with COPY TO PROGRAM,
which the stack's database user, the image's superuser, may do). The app
container has no pg_dump and nowhere that outlives it, while the database
container has both: the dump goes to backups/ inside its data volume, next to
the data it protects, and survives `make down`. `make up` then copies it to
the host's backups/ (scripts/migration-report.sh) and says how to restore it.

A failed migration stops the app, and Docker starts it again, and again: each
backup is named after a fingerprint of the data, so a retry of the same data
writes no second file, while a retry after the rows were corrected does.
"""

import shlex
import time

from psycopg2 import sql

DIRECTORY = "backups"  # under the data directory, i.e. in the volume
WHERE = """
    SELECT current_setting('data_directory'), current_database(), current_user,
           split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port')
"""
TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
# Ordered: a scan may start anywhere in a table (synchronized scans).
TABLE_DIGEST = (
    "SELECT md5(coalesce(string_agg(md5(t::text), ',' ORDER BY md5(t::text)), '')) FROM {} AS t"
)
EXISTING = "SELECT name FROM pg_ls_dir(%s, true, false) AS name WHERE name LIKE %s"
# COPY TO PROGRAM needs something to copy; pg_dump ignores it on its stdin.
RUN = "COPY (SELECT) TO PROGRAM %s"


def fingerprint(cursor) -> str:
    """A digest of every row of every table: equal digests, equal data."""
    cursor.execute(TABLES)
    digests = []
    for (table,) in cursor.fetchall():
        cursor.execute(sql.SQL(TABLE_DIGEST).format(sql.Identifier(table)))
        digests.append(f"{table}:{cursor.fetchone()[0]}")
    cursor.execute("SELECT md5(%s)", (";".join(digests),))
    return cursor.fetchone()[0][:12]


def write(cursor, before: str) -> str:
    """Dumps the database unless this data already has a dump; returns what to tell the user."""
    cursor.execute(WHERE)
    data_directory, dbname, user, socket_directory, port = cursor.fetchone()
    directory = f"{data_directory}/{DIRECTORY}"
    suffix = f"-before-{before}-{fingerprint(cursor)}.dump"
    cursor.execute(EXISTING, (directory, f"%{suffix}"))
    found = cursor.fetchone()
    if found:
        path = f"{directory}/{found[0]}"
        return f"backup of this same data already written: {path}"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = f"{directory}/{dbname}-{stamp}{suffix}"
    partial = f"{directory}/.{dbname}-{stamp}{suffix}.partial"
    # A half-written dump never carries the final name (as scripts/backup.sh).
    program = (
        f"umask 077 && mkdir -p {shlex.quote(directory)} && "
        f"pg_dump --format=custom --host={shlex.quote(socket_directory.strip())} --port={port} "
        f"--username={shlex.quote(user)} --dbname={shlex.quote(dbname)} "
        f"--file={shlex.quote(partial)} && sync && mv {shlex.quote(partial)} {shlex.quote(path)}"
    )
    cursor.execute(RUN, (program,))
    return f"backup before {before} written in the database container: {path}"
