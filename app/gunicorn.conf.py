"""gunicorn settings of the app image; the stack sets the worker counts."""

import os
import subprocess
import sys

from desafio2 import errors, settings

# gunicorn's own refusals (400, 414, 431) answer in JSON, as the app's errors do.
errors.install_in_gunicorn()

_settings = settings.read()
bind = _settings.bind
workers = _settings.workers
# Threads let a worker keep connections alive and overlap database round trips;
# each thread may hold one pooled database connection (desafio2/db.py).
worker_class = "gthread"
threads = _settings.threads
timeout = 30
graceful_timeout = 10
keepalive = 5
# No line per request by default: formatting it cost the app about a tenth
# of its throughput (bench/README.md), and in the stack every line also goes
# through Docker's log driver. The reader logs its reads; errors are logged
# below. ACCESS_LOG=- turns it back on, to stdout.
accesslog = _settings.access_log
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
    # Before the master listens: no request reaches a schema older than this image's.
    # The app does not migrate (its role may not); it waits for the migrator
    # (db-migracoes), desafio2/migrations/wait.py. A process of its own, like the start
    # record, so that the master forks its workers with no database connection, nor
    # anything libpq set up for one, behind it. Its output is captured so that a
    # failure is the one line gunicorn prints as its error.
    waited = subprocess.run(**_module("desafio2.migrations.wait"), capture_output=True, text=True)
    if waited.returncode != 0:
        # gunicorn prints this and exits 1.
        raise RuntimeError(
            waited.stderr.strip() or "the schema wait failed; the app does not start"
        )
    sys.stderr.write(waited.stderr)


def _module(name: str) -> dict:
    """subprocess arguments that run one of the app's modules as this interpreter would."""
    return {"args": [sys.executable, "-m", name], "cwd": os.path.dirname(os.path.abspath(__file__))}
