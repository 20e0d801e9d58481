"""reader/leitor.sh, run with the host's sh and curl against the real app over HTTP."""

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from testing.availability import require
from testing.postgres_server import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "reader" / "leitor.sh"
LINE = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) GET (?P<path>/\w+) "
    r"status=(?P<status>\d{3})( count=(?P<count>\d+)| error=\".*\")"
)


class LiveApp:
    """The API on a real socket of 127.0.0.1 that can be stopped and started again."""

    def __init__(self, app, port: int):
        self.app, self.port, self._server = app, port, None

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Reader:
    def __init__(self, url: str):
        self.lines: list[str] = []
        self._process = subprocess.Popen(
            ["sh", str(SCRIPT)],
            env={"API_URL": url, "READ_INTERVAL_SECONDS": "1", "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self._process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float = 10) -> list[re.Match]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            parsed = [LINE.fullmatch(line) for line in self.lines]
            if predicate([p for p in parsed if p]):
                return parsed
            time.sleep(0.1)
        raise AssertionError(f"reader never printed what was expected: {self.lines}")

    def stop(self) -> int:
        self._process.terminate()
        return self._process.wait(timeout=10)


@pytest.fixture
def live_app(app):
    live = LiveApp(app, free_port())
    live.start()
    yield live
    live.stop()


@pytest.fixture
def reader(live_app):
    require(shutil.which("curl") is not None, "curl is not installed")
    reader = Reader(f"http://127.0.0.1:{live_app.port}")
    yield reader
    reader.stop()


def test_every_line_parses_with_time_endpoint_status_and_count(reader):
    reader.wait_for(lambda parsed: len(parsed) >= 3)
    assert all(LINE.fullmatch(line) for line in reader.lines)


def test_reads_all_three_endpoints_with_their_counts(reader):
    parsed = reader.wait_for(lambda parsed: len(parsed) >= 3)
    assert {(m["path"], m["status"], m["count"]) for m in parsed[:3]} == {
        ("/status", "200", "3"),  # for /status, the usuarios it reports
        ("/usuarios", "200", "3"),
        ("/logs", "200", "2"),
    }


def test_keeps_reading_while_the_app_is_down_and_after_it_returns(reader, live_app):
    reader.wait_for(lambda parsed: len(parsed) >= 3)
    live_app.stop()
    reader.wait_for(lambda parsed: any(m["status"] == "000" for m in parsed))
    down_at = len(reader.lines)
    live_app.start()
    reader.wait_for(lambda parsed: any(m["status"] == "200" for m in parsed[down_at:]))


def test_stops_promptly_and_cleanly_on_sigterm(reader):
    reader.wait_for(lambda parsed: len(parsed) >= 1)
    assert reader.stop() == 0
