"""Property-based fuzzing of the real app with schemathesis, from its own /openapi.json.

The app runs under a real gunicorn on a real PostgreSQL, so what is fuzzed is
what ships: HTTP parsing, the JSON error handlers, the connection pool.
Schemathesis generates valid requests and requests that break the document
(wrong types, out-of-range numbers, missing or extra fields, other content
types). No response may be a 5xx, or have a status, content type, header or
body the document does not allow.

Bounded: MAX_EXAMPLES per operation and generation mode keeps the run well
under a minute; FUZZ_MAX_EXAMPLES raises it for a longer hunt.

Hypothesis is driven here rather than through schemathesis' pytest plugin,
whose lazy loader reads a pytest internal (`Function._nodeid`) that pytest 9 no
longer has.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from testing.figures import DEFAULT_MAX_EXAMPLES, RUNS
from testing.gunicorn_server import gunicorn_app

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", DEFAULT_MAX_EXAMPLES))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize(("path", "method", "mode"), RUNS)
def test_no_request_gets_a_5xx_or_a_response_the_document_does_not_allow(
    postgres_server, database, path, method, mode
):
    examples = []
    with gunicorn_app(postgres_server.app_dsn(database)) as url:
        operation = schemathesis.openapi.from_url(f"{url}/openapi.json")[path][method.upper()]

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,  # each example crosses a socket and a database; timing is not the point
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,  # no .hypothesis/ example store left in the working tree
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            examples.append(case)
            case.call_and_validate(checks=CHECKS)

        fuzz()
    # Hypothesis stops early once a strategy has no new requests to give, but never at zero.
    assert examples
