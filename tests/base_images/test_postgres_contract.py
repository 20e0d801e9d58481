"""The part of the postgres image's contract the stack relies on (infra/stack.py),
checked against whichever image carries the tag the stack declares: the local
stand-in (.ci/images/postgres) where no registry answers, the official image
where one does. CONTRACT_POSTGRES_IMAGE names another image to check, such as
a stand-in under a private tag before it takes the real one.

Needs a Docker engine: skipped without one, a failure under CI=true."""

import contextlib

import psycopg2
import pytest

from testing.postgres_container import DATABASE, USER

pytestmark = pytest.mark.e2e

EXECUTABLE, READABLE = 0o755, 0o644
# PostgreSQL's own log lines: a clean stop, and the recovery an unclean one costs.
SHUT_DOWN = "database system is shut down"
FAST_SHUTDOWN = "received fast shutdown request"
RECOVERY = ("database system was not properly shut down", "automatic recovery in progress")


@pytest.fixture(scope="module")
def running(module_postgres):
    server = module_postgres.make(POSTGRES_INITDB_ARGS="--data-checksums")
    server.wait_ready()
    return server


def test_the_password_file_sets_the_users_password(running):
    assert running.query("SELECT current_user, current_database()") == [(USER, DATABASE)]
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        running.connect(password=running.password + "-wrong")


def test_the_password_never_appears_in_the_containers_environment(running):
    configured = running.container.attrs["Config"]["Env"]
    assert not [entry for entry in configured if entry.startswith("POSTGRES_PASSWORD=")]
    code, environment = running.run("env")
    assert code == 0
    assert "POSTGRES_PASSWORD=" not in environment
    assert running.password not in environment


def test_initdb_args_reach_initdb(running):
    assert running.query("SHOW data_checksums") == [("on",)]


def test_postgres_is_pid_1_without_root(running):
    code, command = running.run("cat", "/proc/1/cmdline")
    assert code == 0 and command.split("\0")[0] == "postgres"
    code, status = running.run("cat", "/proc/1/status")
    real_uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    assert real_uid != "0"


# Each script records that it ran; the names sort in another order than the
# dictionary's, so the order of the rows is the order the image chose.
RECORDING_SCRIPTS = {
    "3-data.sql": ("INSERT INTO runs (script) VALUES ('3-data.sql');\n", READABLE),
    "1-schema.sql": (
        "CREATE TABLE runs (n SERIAL PRIMARY KEY, script TEXT NOT NULL);\n"
        "INSERT INTO runs (script) VALUES ('1-schema.sql');\n",
        READABLE,
    ),
    "2-shell.sh": (
        "#!/bin/sh\nset -eu\n"
        'psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" '
        "-c \"INSERT INTO runs (script) VALUES ('2-shell.sh')\"\n",
        EXECUTABLE,
    ),
}


def test_init_scripts_run_once_in_order_on_an_empty_volume_only(postgres):
    first = postgres.make(init_scripts=RECORDING_SCRIPTS)
    first.wait_ready()
    ran = [("1-schema.sql",), ("2-shell.sh",), ("3-data.sql",)]
    assert first.query("SELECT script FROM runs ORDER BY n") == ran

    first.container.restart(timeout=60)
    first.wait_ready()
    assert first.query("SELECT script FROM runs ORDER BY n") == ran

    volume = first.container.attrs["Mounts"][0]["Name"]
    first.container.remove(force=True)
    second = postgres.make(volume=volume, init_scripts=RECORDING_SCRIPTS, password=first.password)
    second.wait_ready()
    assert second.query("SELECT script FROM runs ORDER BY n") == ran


# Holds initialisation until the test creates RELEASE in the container (as root:
# the script, run as postgres, only looks for it).
RELEASE = "/run/contract-test-release"
HOLD = (
    "#!/bin/sh\n"
    "echo 'contract test: initialisation held'\n"
    f"while [ ! -e {RELEASE} ]; do sleep 0.1; done\n"
)


def test_no_tcp_connection_succeeds_before_initialisation_is_complete(postgres):
    server = postgres.make(
        init_scripts={
            "1-hold.sh": (HOLD, EXECUTABLE),
            "2-last.sql": ("CREATE TABLE initialised ();\n", READABLE),
        }
    )
    server.wait_for_log("contract test: initialisation held")

    # A server is up (the scripts use it over its socket), yet TCP finds nothing:
    # the stack's health check, pg_isready over TCP, stays red.
    assert server.run("pg_isready", "-U", USER)[0] == 0
    assert server.run("pg_isready", "-h", "127.0.0.1", "-U", USER, "-d", DATABASE)[0] != 0
    with pytest.raises(psycopg2.OperationalError):
        server.connect().close()

    assert server.run("touch", RELEASE)[0] == 0
    with contextlib.closing(server.first_connection()) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('initialised') IS NOT NULL")
        assert cursor.fetchone() == (True,), "TCP was open before the last init script ran"


def test_the_stop_signal_shuts_postgres_down_cleanly(postgres):
    server = postgres.make()
    server.wait_ready()
    server.query("CREATE TABLE kept AS SELECT 1 AS n")
    before = server.logs()

    server.container.stop(timeout=60)
    server.container.reload()
    state = server.container.attrs["State"]
    assert state["ExitCode"] == 0, f"not a clean exit (killed?): {state}"
    stopping = server.logs()[len(before) :]
    assert FAST_SHUTDOWN in stopping and SHUT_DOWN in stopping, stopping

    server.container.start()
    server.wait_ready()
    assert server.query("SELECT n FROM kept") == [(1,)]
    restarted = server.logs()[len(before) :]
    for line in RECOVERY:
        assert line not in restarted, restarted
