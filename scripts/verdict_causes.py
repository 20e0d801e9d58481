"""The likely cause of a part of the stack that is not running and healthy, in one
line, for scripts/verdict.py.

Read from what the part itself says (Docker's error, its health check's output, a
swarm task's error, its last log lines) by the messages PostgreSQL, gunicorn, the
app and Docker write; then from the part it needs (the migrator needs the
database, the app the migrator); then from its state alone.
"""

import re

DOCS = "docs/operations.md"

# (pattern, cause), the most specific first; {volume} and {name} are filled in.
ANY_PART = (
    (
        r"port is already allocated|address already in use",
        "its port is taken on the host by another container or process: free it, or move the "
        "stack (pulumi config set appHostPort ...); on a swarm a node's app task holds it",
    ),
    (
        r"no suitable node",
        "no node may run it (the scheduler's reason is in its task errors above)",
    ),
    (
        r"No such image|pull access denied|manifest unknown|repository does not exist",
        "its image cannot be pulled where it must run: is the registry reachable from there?",
    ),
    (r"No space left on device", "the disk is full where it writes"),
)
DATABASE = (
    (
        r"database files are incompatible with server",
        "the volume {volume} holds a data directory made by another major version of "
        "PostgreSQL, which this server cannot start on: keep that volume aside and move to "
        "another (pulumi config set volumeName ...), or dump it with the version that made it",
    ),
    (
        r"could not locate a valid checkpoint|invalid checkpoint|invalid magic number|"
        r"invalid primary checkpoint|PANIC:",
        "the data directory in {volume} is damaged: restore a backup onto a new volume "
        "(make restore)",
    ),
    (
        r"is not a valid data directory|PG_VERSION.*(missing|No such file)|"
        r"could not access the server configuration file",
        "the volume {volume} holds an incomplete data directory, which PostgreSQL refuses",
    ),
    (
        r"exists but is not empty",
        "the volume {volume} holds files that are not a PostgreSQL data directory, and "
        "initdb does not write over them",
    ),
    (
        r"Permission denied",
        "PostgreSQL may not read or write its files in {volume}: they belong to another user",
    ),
)
MIGRATOR = (
    (
        r"password authentication failed",
        "the database refused the owner's password: the stack's dbPassword is not the one "
        f"the volume {{volume}} was initialised with ({DOCS}: the files to keep)",
    ),
    (
        r"migrations: FAILED",
        "a migration failed, so the schema is not current and the app waits; the migrations: "
        "lines say why, and the database is as it was",
    ),
    (
        r"did not answer within",
        "the database does not answer the migrator",
    ),
)
APP = (
    (
        r"password authentication failed",
        "the database refused the API role's password: the migrator sets it from the stack's "
        "dbApiPassword at each of its starts (docker restart the migrator, then the app)",
    ),
    (
        r"waited \S+ for the migrator",
        "the schema is not at the app's version: the migrator has not migrated it",
    ),
    (
        r"answered HTTP/\S+ 503|database unavailable|did not answer within",
        "the app runs, but the database does not answer it",
    ),
    (
        r"Connection refused|timed out",
        "the app does not answer on its port (it may be stuck starting, or crashing)",
    ),
)
READER = (
    (
        r"Could not resolve host",
        "the app's name does not resolve on the stack's network",
    ),
)
BY_ROLE = {"db": DATABASE, "migrator": MIGRATOR, "app": APP, "reader": READER}
# What a part cannot work without, the nearest first, and what the program makes before it.
NEEDS = {"migrator": ("db",), "app": ("migrator", "db")}
MADE_AFTER = {"migrator": "db", "app": "migrator", "reader": "app"}


def likely_cause(part, by_role: dict, volume: str) -> str:
    """One line on why `part` (a verdict.Part) is not running and healthy."""
    if part.state == "missing":
        before = by_role.get(MADE_AFTER.get(part.role, ""))
        if before is not None and not before.ok:
            return f"not made: the up makes it once {before.name} is running and healthy"
        return "it does not exist: make up makes it"
    text = "\n".join([part.evidence, *part.logs])
    for pattern, cause in ANY_PART:
        if re.search(pattern, text, re.IGNORECASE):
            return cause
    # The farthest part that fails: the migrator of a stopped database is idle and
    # healthy, and the app then needs the database itself.
    failing = [by_role[r] for r in NEEDS.get(part.role, ()) if r in by_role and not by_role[r].ok]
    if failing:
        return f"it needs {failing[-1].name}, which is not running and healthy (see it here)"
    for pattern, cause in BY_ROLE.get(part.role, ()):
        if re.search(pattern, text, re.IGNORECASE):
            return cause.format(volume=volume or "of the stack", name=part.name)
    if part.state == "exited" and not part.restarts:
        return "it was stopped (docker stop) and Docker leaves it so: make up starts it again"
    if part.state == "paused":
        return f"it is paused: docker unpause {part.name}"
    if part.health == "starting":
        return "it was still starting when the wait ended"
    return f"nothing in what it logged says: read the lines below, or docker logs {part.name}"
