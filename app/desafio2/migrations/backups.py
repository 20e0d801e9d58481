"""The backup written before migrations change a database that holds data.

It is written the way `make backup` writes one, pg_dump's custom format, but by the
migrator itself, on the client side: its image has Debian's postgresql-client-15,
and it runs pg_dump with the owner's credentials, the password only in pg_dump's
environment. The server never runs a program for it (the API's role could not,
and no role should need to). The dump goes to BACKUP_DIR, a named volume of the
stack, under a hidden `.partial` name renamed once complete and synced, so that a
half-written dump never carries a final name; readable by its owner only.

A failed migration makes Docker run the migrator again, and again: each backup is
named after a fingerprint of the data, so a retry of the same data writes no
second file, while a retry after the rows were corrected does.

The dump must be one the database's own tools read: pg_restore refuses an archive
of a newer pg_dump (17 writes a format 15 does not know), so pg_dump's major
version must be the server's.
"""

import dataclasses
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from psycopg2 import sql

TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
# Ordered: a scan may start anywhere in a table (synchronized scans).
TABLE_DIGEST = (
    "SELECT md5(coalesce(string_agg(md5(t::text), ',' ORDER BY md5(t::text)), '')) FROM {} AS t"
)
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


class BackupError(Exception):
    """No backup was written; the message says why."""


@dataclasses.dataclass(frozen=True)
class Target:
    """Where backups go, and which pg_dump writes them (None: the server's version's)."""

    directory: Path
    pg_dump: str | None = None


def fingerprint(cursor) -> str:
    """A digest of every row of every table: equal digests, equal data."""
    cursor.execute(TABLES)
    digests = []
    for (table,) in cursor.fetchall():
        cursor.execute(sql.SQL(TABLE_DIGEST).format(sql.Identifier(table)))
        digests.append(f"{table}:{cursor.fetchone()[0]}")
    cursor.execute("SELECT md5(%s)", (";".join(digests),))
    return cursor.fetchone()[0][:12]


def find_pg_dump(target: Target, server_major: int) -> str:
    """pg_dump of the server's major version, or BackupError naming what was found."""
    # Debian's own path first: /usr/bin/pg_dump is a wrapper that picks a version.
    candidates = [target.pg_dump] if target.pg_dump else []
    candidates += [f"/usr/lib/postgresql/{server_major}/bin/pg_dump", shutil.which("pg_dump")]
    program = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    if program is None:
        raise BackupError("pg_dump was not found (the app image installs postgresql-client-15)")
    try:
        said = subprocess.run(  # noqa: S603 - the program found above, fixed arguments
            [program, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise BackupError(f"{program} --version failed: {error}") from None
    match = _VERSION.search(said)
    major = int(match[1]) if match else None
    if major != server_major:
        raise BackupError(
            f"{program} is version {said.strip() or 'unknown'}, the server is "
            f"PostgreSQL {server_major}: its dump could not be restored with the "
            f"database's pg_restore {server_major}; install postgresql-client-{server_major}"
        )
    return program


def write(cursor, before: str, target: Target) -> str:
    """Dumps the database unless this data already has a dump; returns what to tell the user.
    pg_dump connects as `cursor`'s connection did (the owner), to the same database."""
    conn = cursor.connection
    info = conn.info
    suffix = f"-before-{before}-{fingerprint(cursor)}.dump"
    directory = target.directory
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = sorted(directory.glob(f"*{suffix}"))
    except OSError as error:
        raise BackupError(f"the backup directory {directory} is not usable: {error}") from None
    if found:
        return f"backup of this same data already written: {found[0]}"
    program = find_pg_dump(target, conn.server_version // 10000)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = directory / f"{info.dbname}-{stamp}{suffix}"
    partial = directory / f".{path.name}.partial"
    # Owner-only from its first byte: pg_dump writes into the file made here.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        _dump(program, info, partial)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        partial.rename(path)
        _fsync_directory(directory)
    finally:
        partial.unlink(missing_ok=True)
    return f"backup before {before} written: {path}"


def _dump(program: str, info, partial: Path) -> None:
    # The password only in pg_dump's environment: never on its command line, which
    # any process of the container may read.
    env = {**os.environ, "PGPASSWORD": info.password} if info.password else dict(os.environ)
    command = [
        program,
        "--format=custom",
        f"--host={info.host}",
        f"--port={info.port}",
        f"--username={info.user}",
        f"--dbname={info.dbname}",
        f"--file={partial}",
        "--no-password",
    ]
    try:
        # Every argument comes from the migrator's own connection: no outside input.
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as error:
        raise BackupError(f"{program} could not run: {error}") from None
    if done.returncode != 0:
        said = [line.removeprefix("pg_dump: ") for line in done.stderr.strip().splitlines()]
        raise BackupError("pg_dump failed: " + ("\n  ".join(said[:3]) or f"exit {done.returncode}"))


def _fsync_directory(directory: Path) -> None:
    """The rename itself on disk, not only the file's contents."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
