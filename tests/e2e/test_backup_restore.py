"""`make backup` and `make restore` against the real stack, through its isolated
db container (DB_CONTAINER=...), never the user's: a backup outlives the
deliberate deletion of the volume, and a file that is not a dump, or a restore
that fails halfway, leaves the database as it was."""

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
USUARIOS = "SELECT id, nome, email, data_criacao FROM usuarios ORDER BY id"
LOGS = "SELECT id, acao, mensagem, usuario_id, data_criacao FROM logs ORDER BY id"
NOVOS = [
    {"nome": "Ana Costa", "email": "ana@example.com"},
    {"nome": "Bruno Lima", "email": "bruno@example.com"},
    {"nome": "Carla Dias | O'Neil", "email": "carla@example.com"},
]


def make(stack, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO_ROOT,
        env=stack.script_env(BACKUP_DIR=str(tmp_path / "backups")),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot(stack) -> tuple[str, str]:
    return stack.psql(USUARIOS), stack.psql(LOGS)


def backup(stack, tmp_path: Path) -> tuple[Path, str]:
    result = make(stack, "backup", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    path = Path(re.search(r"^Backup of .*: (\S+\.dump)$", result.stdout, re.M).group(1))
    return path, result.stdout


def test_backup_survives_deleting_the_volume_and_restores_every_row_with_its_id(
    make_stack, tmp_path
):
    stack = make_stack()
    stack.wait_for("/status")
    for usuario in NOVOS:
        assert stack.post("/usuarios", json=usuario).status_code == 201
    before = snapshot(stack)

    dump, report = backup(stack, tmp_path)
    assert re.fullmatch(r"aplicacao-\d{8}T\d{6}Z\.dump", dump.name)
    assert dump.parent == tmp_path / "backups"
    assert oct(dump.stat().st_mode & 0o777) == "0o600"  # users' data: owner only
    assert not list(dump.parent.glob(".*"))  # no partial file left behind
    assert re.search(rf"size\s+\S+ \({dump.stat().st_size} bytes\)", report)
    usuarios, logs = (len(rows.splitlines()) for rows in before)
    assert re.search(rf"usuarios\s+{usuarios} rows", report)
    assert re.search(rf"logs\s+{logs} rows", report)

    # The deliberate way to delete the data: retainVolume off, up, destroy.
    stack.up(retainVolume=False)
    stack.destroy()
    assert stack.volume() is None
    stack.up(retainVolume=True)
    stack.wait_for("/status")
    assert "ana@example.com" not in stack.psql(USUARIOS)  # a fresh, seeded database

    # A restore that fails halfway (here: a view in the way of dropping usuarios) changes nothing.
    stack.psql("CREATE VIEW nomes AS SELECT nome FROM usuarios")
    fresh = snapshot(stack)
    failed = make(stack, "restore", f"FILE={dump}", "YES=1", tmp_path=tmp_path)
    assert failed.returncode != 0
    assert "rolled back; the database is as it was" in failed.stderr
    assert snapshot(stack) == fresh
    stack.psql("DROP VIEW nomes")

    restored = make(stack, "restore", f"FILE={dump}", "YES=1", tmp_path=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert snapshot(stack) == before  # every row, same ids, same values, logs included

    # The API serves them, and new ids follow the restored ones.
    api = stack.get("/usuarios").json()
    assert [u["email"] for u in api][-3:] == [u["email"] for u in NOVOS]
    created = stack.post("/usuarios", json={"nome": "Depois", "email": "depois@example.com"})
    assert created.json()["id"] == api[-1]["id"] + 1


def test_restore_refuses_what_is_not_a_dump_and_leaves_the_database_untouched(live_stack, tmp_path):
    live_stack.wait_for("/status")
    before = snapshot(live_stack)
    not_a_dump = tmp_path / "aplicacao-20260101T000000Z.dump"
    not_a_dump.write_text("SELECT 1;\n")
    result = make(live_stack, "restore", f"FILE={not_a_dump}", "YES=1", tmp_path=tmp_path)
    assert result.returncode != 0
    assert f"{not_a_dump} is not a valid dump" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert snapshot(live_stack) == before


@pytest.mark.parametrize("answer", [None, "no\n"])
def test_restore_without_yes_needs_a_confirmation(live_stack, tmp_path, answer):
    live_stack.wait_for("/status")
    dump, _ = backup(live_stack, tmp_path)
    before = snapshot(live_stack)
    env = live_stack.script_env()
    command = [str(REPO_ROOT / "scripts" / "restore.sh"), str(dump)]
    if answer is None:
        # No terminal to ask on: refused, and told how to confirm.
        result = subprocess.run(
            command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
        assert "rerun with --yes" in result.stderr
    else:
        result = _run_on_a_terminal(command, env, answer)
        assert "Type yes to go on" in result and "Cancelled. Nothing was changed." in result
    assert snapshot(live_stack) == before


def _run_on_a_terminal(command: list[str], env: dict, answer: str) -> str:
    """Runs command with a pseudo-terminal as stdin, types answer, returns what it printed."""
    import pty

    main, terminal = pty.openpty()
    process = subprocess.Popen(
        command, env=env, stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True
    )
    os.close(terminal)
    output = b""
    answered = False
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed: the script ended
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"Type yes to go on" in output:
            os.write(main, answer.encode())
            answered = True
    process.wait(timeout=60)
    os.close(main)
    assert process.returncode != 0
    return output.decode("utf-8", errors="replace")
