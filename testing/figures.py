"""The figures the tests run with that docs/reliability.md states, and the seed rows
more than one suite checks: one module, imported by the tests that use them and by
tests/suite/test_reliability_figures.py, which holds the docs to them."""

import pytest
from schemathesis import GenerationMode

from desafio2.openapi import PATHS

# The seed rows (db/migrations/0001_esquema_original.sql), in id order.
SEED_USUARIOS = [
    ("João Silva", "joao@example.com"),
    ("Maria Santos", "maria@example.com"),
    ("Pedro Oliveira", "pedro@example.com"),
]
SEED_LOGS = [
    ("banco_inicializado", "Banco de dados criado a partir de db/init.sql"),
    ("dados_iniciais", "3 usuários de exemplo inseridos"),
]
ANA = {"nome": "Ana Costa", "email": "ana.costa@example.com"}

# tests/api/test_fuzz.py: examples per operation and generation mode, and the runs.
DEFAULT_MAX_EXAMPLES = 100  # docs/reliability.md


def _runs():
    for path, item in PATHS.items():
        for method, operation in item.items():
            # Only an operation that takes input has input to get wrong.
            takes_input = "parameters" in operation or "requestBody" in operation
            for mode in GenerationMode if takes_input else [GenerationMode.POSITIVE]:
                yield pytest.param(path, method, mode, id=f"{method.upper()} {path} {mode.value}")


RUNS = list(_runs())

# tests/api/test_migrations.py: Docker restarting a container whose migration fails,
# and app starts at once.
FAILING_STARTS = 3
RACING_STARTS = 6

# tests/e2e/test_faults.py. Every wait there is a deadline on a condition, generous for
# a loaded machine, never a measured figure: a request to an app whose database is gone
# must be answered before it (libpq gives up connecting after 3 s, desafio2/db.py), and
# so must each recovery.
DEADLINE_SECONDS = 60
WRITES_BEFORE_KILL = 20
CONCURRENT_DISTINCT = 200
CONCURRENT_SAME = 50
CYCLES = 5
WRITES_PER_CYCLE = 3
