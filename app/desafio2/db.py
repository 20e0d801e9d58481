"""Database access: one small connection pool per process, owned here.

Where the database is comes from settings.py. Every request is bounded:
connecting gives up after CONNECT_TIMEOUT_SECONDS, a statement after
STATEMENT_TIMEOUT_MS, a dead peer is noticed by TCP keepalives, and waiting
for a free pooled connection after POOL_WAIT_SECONDS. Any of these turns into
a 503 (UNAVAILABLE), never a hung request.
"""

import select
import threading
import time
from contextlib import contextmanager

import psycopg2
from flask import Flask, current_app

CONNECT_TIMEOUT_SECONDS = 3
STATEMENT_TIMEOUT_MS = 5000
POOL_WAIT_SECONDS = 5


class DatabaseUnavailable(Exception):
    """The database cannot serve this request now; the client may retry."""


# What "the database cannot answer now" looks like: a 503, or the page's notice.
UNAVAILABLE = (DatabaseUnavailable, psycopg2.OperationalError, psycopg2.InterfaceError)


class NotReady(Exception):
    """The database did not answer before a start-up step's deadline."""

    def __init__(self, attempts: int, elapsed: float, reason: str):
        super().__init__(f"no answer after {attempts} attempts in {elapsed:.0f}s: {reason}")
        self.attempts, self.elapsed, self.reason = attempts, elapsed, reason


def connect_when_ready(
    connect_with: dict,
    deadline_seconds: float,
    first_pause: float = 0.5,
    max_pause: float = 5.0,
    ready=None,
    waiting=None,
):
    """A new connection once the database answers, for the start-up steps: it may
    still be starting (the database and the app started together, a slow volume).
    Retries with a pause that doubles up to max_pause; NotReady at the deadline.
    `ready(conn)`, if given, returns None once the database is what the step needs,
    else why not yet: the connection is then closed and the step tries again.
    `waiting(reason)`, if given, hears each new reason to wait, once: a step that
    waits long (a refused password never mends by itself) says why as it goes."""
    started = time.monotonic()
    pause = first_pause
    attempts = 0
    told = None
    while True:
        attempts += 1
        try:
            conn = psycopg2.connect(**connect_with)
        except psycopg2.OperationalError as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
        else:
            reason = ready(conn) if ready else None
            if reason is None:
                return conn
            conn.close()
        elapsed = time.monotonic() - started
        if elapsed + pause > deadline_seconds:
            raise NotReady(attempts, elapsed, reason)
        if waiting is not None and reason != told:
            waiting(reason)
            told = reason
        time.sleep(pause)
        pause = min(pause * 2, max_pause)


def connection_settings(database: dict, application_name: str = "desafio2-api") -> dict:
    """psycopg2.connect() arguments: the bounds above, then `database` (the app's
    DATABASE config, Settings.database: what libpq does not read from the environment)."""
    return {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": application_name,
        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c TimeZone=UTC",
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 3,
        "keepalives_count": 3,
        **database,
    }


class ConnectionPool:
    """Up to `size` connections, opened on demand and reused most-recent first.

    psycopg2's own pools fail at once when exhausted and keep dead connections
    after a database restart; this one waits for a slot, and when a connection
    turns out to be broken it drops every idle one with it, since they were
    opened to the same, now gone, server.
    """

    def __init__(self, settings: dict, size: int, setup: tuple[str, ...] = ()):
        self._settings = settings
        self._setup = ";".join(setup)
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._idle: list = []

    @contextmanager
    def connection(self):
        if not self._slots.acquire(timeout=POOL_WAIT_SECONDS):
            raise DatabaseUnavailable("no database connection became free in time")
        try:
            conn = self._take_idle() or self._connect()
            try:
                yield conn
            finally:
                self._give_back(conn)
        finally:
            self._slots.release()

    def _connect(self):
        conn = psycopg2.connect(**self._settings)
        if self._setup:
            # Statements prepared once per connection, not planned once per
            # request (SESSION_SETUP and the areas' PREPAREs), in one round trip.
            try:
                conn.autocommit = True
                with conn.cursor() as cursor:
                    cursor.execute(self._setup)
                conn.autocommit = False
            except psycopg2.Error:
                conn.close()
                raise
        return conn

    def _take_idle(self):
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None or not _closed_by_the_server(conn):
            return conn
        # The server went away (a restart, a stop): every idle connection was to it.
        conn.close()
        self._drop_idle()
        return None

    def _give_back(self, conn) -> None:
        try:
            if not conn.closed:
                conn.rollback()  # ends whatever the block left open; a no-op after commit
        except psycopg2.Error:
            conn.close()
        if conn.closed:
            self._drop_idle()
            return
        with self._lock:
            self._idle.append(conn)

    def _drop_idle(self) -> None:
        with self._lock:
            stale, self._idle = self._idle, []
        for idle in stale:
            idle.close()

    def close(self) -> None:
        self._drop_idle()


def _closed_by_the_server(conn) -> bool:
    """An idle connection has nothing to read unless its server closed it (stopped or
    restarted): one look at the socket, no round trip. Without this, the first
    request on each stale connection would fail with a 503 after a restart."""
    # poll(), not select(): a socket numbered 1024 or more is fine with it.
    looking = select.poll()
    looking.register(conn.fileno(), select.POLLIN)
    return bool(looking.poll(0))


# Run on every new connection, before the statements the areas prepare. The generic
# plan, always: left to choose, PostgreSQL kept planning the lists anew on every
# request once a table held about 100,000 rows, since it cannot cost a LIMIT it does
# not know yet. The generic plan reads the primary key in order whatever the
# parameters (tests/api/test_pagination.py checks it), so planning again gains nothing.
SESSION_SETUP = ("SET plan_cache_mode = force_generic_plan",)


def init_app(app: Flask, prepared: tuple[str, ...] = ()) -> None:
    """The app's pool; `prepared`: the PREPAREs of the areas' statements (pagination.prepared)."""
    pool_settings = connection_settings(app.config["DATABASE"])
    setup = (*SESSION_SETUP, *prepared)
    pool = ConnectionPool(pool_settings, app.config["DATABASE_POOL_SIZE"], setup)
    app.extensions["db_pool"] = pool


@contextmanager
def transaction():
    """A cursor inside one transaction: committed if the block succeeds, else rolled back."""
    pool: ConnectionPool = current_app.extensions["db_pool"]
    with pool.connection() as conn:
        with conn.cursor() as cursor:
            yield cursor
        conn.commit()


@contextmanager
def autocommit():
    """A cursor in autocommit mode, for one statement, which PostgreSQL runs as its own transaction.

    One round trip instead of three (BEGIN, the statement, COMMIT): the most a
    request spent waiting on, and atomic all the same, since a statement (with
    its CTEs) commits or fails as a whole. A write is still durable when it
    returns: autocommit changes who sends COMMIT, not what COMMIT waits for.
    """
    pool: ConnectionPool = current_app.extensions["db_pool"]
    with pool.connection() as conn:
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                yield cursor
        finally:
            if not conn.closed:
                conn.autocommit = False
