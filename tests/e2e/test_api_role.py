"""The API talks to PostgreSQL as a role with the rights its queries need and nothing
more (db/migrations/0005_papel_da_api.sql), on the running stack: found as the
sessions the app container opens, then tried as an attacker in the app's place
would, from a container on the stack's network, with the password the app holds.
(Not from inside the database's container: the image trusts every connection
from there.) Read-only on the session's live_stack, except the rows the
walk-through adds."""

import re
import secrets

import pytest

from infra.settings import API_PASSWORD_KEY
from testing.api_role import INSUFFICIENT_PRIVILEGE, REFUSED, psql_command, sessions_from
from testing.postgres_container import tar_of

pytestmark = pytest.mark.e2e

# Where a container keeps what it was given: its files (uploads, the image's own) and
# PID 1's environment.
SEARCHED = ("/run", "/srv", "/tmp", "/var/tmp", "/home", "/root")  # noqa: S108 - in the container
# What a generated password or key looks like (secrets.token_urlsafe and the like):
# long, letters and digits mixed.
CANDIDATE = re.compile(rb"(?=[^\s]*[0-9])(?=[^\s]*[A-Za-z])[A-Za-z0-9_\-+/=.~]{12,128}")
LIST = "/tmp/candidatos"  # noqa: S108 - in a throwaway container


def on_the_network(stack, command: list[str], files: dict | None = None, **env) -> tuple[int, str]:
    """command in a throwaway container of the database's image on the stack's network
    (it has psql), with files put in first: (exit code, output)."""
    client = stack.docker.containers.create(
        stack.config.db_image,
        command,
        entrypoint=[],
        network=stack.config.network_name,
        environment={"PGCONNECT_TIMEOUT": "5", **env},
    )
    try:
        if files:
            client.put_archive("/", tar_of(files))
        client.start()
        code = client.wait(timeout=600)["StatusCode"]
        return code, client.logs().decode("utf-8", errors="replace")
    finally:
        client.remove(force=True)


def as_role(stack, user: str, password: str, sql: str) -> tuple[int, str]:
    command = psql_command(user, stack.config.db_name, sql, host=stack.config.db_alias)
    return on_the_network(stack, command, PGPASSWORD=password)


@pytest.fixture(scope="module")
def app_role(live_stack) -> str:
    """The role of the sessions the app container holds, found in pg_stat_activity."""
    live_stack.wait_for("/usuarios")  # a pooled session, at least
    network = live_stack.config.network_name
    address = live_stack.container("app").attrs["NetworkSettings"]["Networks"][network]
    roles = live_stack.psql(sessions_from(address["IPAddress"])).split()
    assert len(roles) == 1, f"the app's sessions run as {roles}"
    return roles[0]


def test_the_app_does_not_talk_to_the_database_as_its_owner(live_stack, app_role):
    assert app_role != live_stack.config.db_user


def test_the_apps_role_is_no_superuser_and_may_create_nothing(live_stack, app_role):
    assert (
        live_stack.psql(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
            f"FROM pg_roles WHERE rolname = '{app_role}'"
        )
        == "f|f|f|f|f"
    )


def test_the_apps_role_owns_no_table_and_belongs_to_no_role(live_stack, app_role):
    owned = live_stack.psql(f"SELECT count(*) FROM pg_tables WHERE tableowner = '{app_role}'")
    member_of = live_stack.psql(
        "SELECT string_agg(r.rolname, ' ') FROM pg_auth_members AS m "
        "JOIN pg_roles AS r ON r.oid = m.roleid "
        f"WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = '{app_role}')"
    )
    assert (owned, member_of) == ("0", "")


@pytest.mark.parametrize("what", REFUSED)
def test_the_apps_role_is_refused(live_stack, app_role, what):
    code, output = as_role(live_stack, app_role, live_stack.config[API_PASSWORD_KEY], REFUSED[what])
    assert code != 0 and f"ERROR:  {INSUFFICIENT_PRIVILEGE}:" in output, output


def test_the_apps_role_still_does_what_the_api_does(live_stack):
    email = f"papel-{secrets.token_hex(4)}@example.com"
    created = live_stack.post("/usuarios", json={"nome": "Papel", "email": email})
    assert created.status_code == 201, created.text
    duplicate = live_stack.post("/usuarios", json={"nome": "Outro", "email": email.upper()})
    assert duplicate.status_code == 409, duplicate.text
    assert email in {u["email"] for u in live_stack.get("/usuarios?limit=1000").json()}
    assert live_stack.get("/logs").status_code == 200
    assert live_stack.get("/status").json()["database"] == "ok"
    page = live_stack.get("/")
    assert page.status_code == 200 and email in page.text


def credentials_in_the_app_container(live_stack) -> set[str]:
    """Every string in the app container's files and environment that could be a
    password: what a flaw in the app could read."""
    app = live_stack.container("app")
    found = app.exec_run(
        [
            "sh",
            "-c",
            "tr '\\0' '\\n' < /proc/1/environ; "
            # Each file ends a line: a password file has no newline of its own.
            'find "$@" -xdev -type f -size -256k -exec sed -n p {} + 2>/dev/null',
            "sh",
            *SEARCHED,
        ],
        user="root",
    ).output
    return {match.decode() for match in CANDIDATE.findall(found)}


def test_no_credential_in_the_app_container_can_do_more_than_the_apps_role(live_stack, app_role):
    candidates = credentials_in_the_app_container(live_stack)
    # The search must see the password that is there, or it proves nothing.
    assert live_stack.config[API_PASSWORD_KEY] in candidates
    others = [
        role
        for role in live_stack.psql("SELECT rolname FROM pg_roles WHERE rolcanlogin").split()
        if role != app_role
    ]
    assert live_stack.config.db_user in others
    # One shell loop on the stack's network, every candidate against every other role
    # that may log in, over the connection the app's would take: none is let in.
    loop = (
        'for role in $ROLES; do while IFS= read -r word; do PGPASSWORD="$word" '
        'psql -X -At -h "$HOST" -U "$role" -d "$DB" -c "SELECT 1" >/dev/null 2>&1 '
        f'&& echo "$role accepts one"; done < {LIST}; done; true'
    )
    listed = "".join(f"{word}\n" for word in sorted(candidates))
    code, output = on_the_network(
        live_stack,
        ["sh", "-c", loop],
        files={LIST: (listed, 0o600)},
        ROLES=" ".join(others),
        HOST=live_stack.config.db_alias,
        DB=live_stack.config.db_name,
    )
    assert (code, output) == (0, ""), output
    # The loop itself works: the app's own password does let the app's role in.
    code, _ = as_role(live_stack, app_role, live_stack.config[API_PASSWORD_KEY], "SELECT 1")
    assert code == 0
