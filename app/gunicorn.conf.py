"""gunicorn settings of the app image; the stack sets the worker counts."""

import os
import subprocess
import sys

from desafio2 import protocol_errors, settings

# gunicorn's own refusals (400, 414, 431) answer in JSON, as the app's errors do.
protocol_errors.install()

_server = settings.server()
bind = _server["bind"]
workers = _server["workers"]
# Threads let a worker keep connections alive and overlap database round trips;
# each thread may hold one pooled database connection (desafio2/db.py).
worker_class = "gthread"
threads = _server["threads"]
timeout = 30
graceful_timeout = 10
keepalive = 5
# No line per request by default: formatting it cost the app about a tenth
# of its throughput (bench/README.md), and in the stack every line also goes
# through Docker's log driver. The reader logs its reads; errors are logged
# below. ACCESS_LOG=- turns it back on, to stdout.
accesslog = _server["accesslog"]
errorlog = "-"
# gunicorn's control socket (for gunicornc) would go under $HOME, which the
# image's unprivileged user does not have: every start logged an error for it.
# Nothing here uses gunicornc.
control_socket_disable = True


def when_ready(server):
    # The master is ready once per container start (workers come and go), so
    # this records each start exactly once: the page's persistence timeline.
    # A separate process, never waited for: a database that is not up yet must
    # neither delay nor stop the app (desafio2/startup.py retries, then gives up).
    subprocess.Popen(**_module("desafio2.startup"))


def on_starting(server):
    # Before the master listens: no request reaches a schema that is not
    # current. A process of its own, like the start record, so that the master
    # forks its workers with no database connection behind it. Concurrent
    # starts are serialised by an advisory lock (desafio2/migrations.py).
    if subprocess.run(**_module("desafio2.migrations"), check=False).returncode != 0:
        # gunicorn prints this and exits 1; the runner's log above says why.
        raise RuntimeError("the database schema could not be migrated; the app does not start")


def _module(name: str) -> dict:
    """subprocess arguments that run one of the app's modules as this interpreter would."""
    return {"args": [sys.executable, "-m", name], "cwd": os.path.dirname(os.path.abspath(__file__))}
