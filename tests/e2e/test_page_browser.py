"""The page at `/` in a real browser (Debian's headless Chromium, driven by
Playwright) against the real stack: add a user through the form, see it
listed, see the inline error for a duplicate email, and, after `pulumi
destroy` and `pulumi up`, see the earlier container's start above the new one
with the same users. JavaScript is off: the page must work without it.

Screenshots are kept in test-artifacts/ (gitignored) for a person to look at.
"""

import os
import shutil
from pathlib import Path

import pytest

from testing.availability import require
from testing.live import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Playwright gives each launch a fresh temporary profile (its own --user-data-dir).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def chromium():
    require(
        Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None,
        f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM=...)",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(
            False, "Playwright's Python package is missing (pip install -r requirements-dev.txt)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stack(stack_factory):
    # The test's own stack: it adds users, and destroys and ups it again.
    stack = stack_factory.make()
    yield stack
    stack.purge()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def users_table(page) -> list[list[str]]:
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in page.locator("#usuarios tbody tr").all()
    ]


def submit(page, nome: str, email: str):
    page.fill("#nome", nome)
    page.fill("#email", email)
    with page.expect_navigation() as navigation:
        page.click("button[type=submit]")
    return navigation.value


def test_add_a_user_through_the_form_and_see_a_duplicate_refused(stack, page):
    stack.wait_for("/status")
    response = page.goto(stack.url + "/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Desafio 2 — Volumes e Persistência"
    assert page.locator("#banco").inner_text() == "no ar"
    assert page.locator("#volume").inner_text() == stack.config.volume_name
    assert [row[1] for row in users_table(page)] == ["João Silva", "Maria Santos", "Pedro Oliveira"]

    final = submit(page, "Ana <b>Costa</b>", "ana@example.com")
    # Post/Redirect/Get: the browser ends on a GET of the page, not on the POST.
    assert final.status == 200 and final.request.method == "GET"
    assert page.url == stack.url + "/"
    assert users_table(page)[-1][:3] == ["4", "Ana <b>Costa</b>", "ana@example.com"]
    assert page.locator("#usuarios b").count() == 0  # shown as text, not as markup
    assert page.locator("#total-usuarios").inner_text() == "4"
    assert "usuario_criado" in page.locator("#logs tbody tr").first.inner_text()

    refused = submit(page, "Outra Ana", "ANA@example.com")
    assert refused.status == 409
    assert page.locator("#erro-email").inner_text() == "email: ANA@example.com já está cadastrado"
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    assert page.input_value("#nome") == "Outra Ana"
    assert page.input_value("#email") == "ANA@example.com"
    assert len(users_table(page)) == 4
    screenshot(page, "page.png")


def test_after_destroy_and_up_the_timeline_shows_both_containers_and_the_same_users(stack, page):
    stack.post("/usuarios", json={"nome": "Bruno Lima", "email": "bruno@example.com"})
    first_app = stack.container("app").attrs["Config"]["Hostname"]
    wait_until(lambda: first_app in stack.get("/").text, 30, "the first start to be recorded")
    users_before = stack.get("/usuarios").json()

    stack.destroy()
    stack.up()
    second_app = stack.container("app").attrs["Config"]["Hostname"]
    assert second_app != first_app
    stack.wait_for("/status")
    wait_until(lambda: "este contêiner" in stack.get("/").text, 30, "the new start to be recorded")

    page.goto(stack.url + "/")
    starts = page.locator("#linha-do-tempo li").all()
    containers = [start.locator("code.conteiner").inner_text() for start in starts]
    assert containers[-2:] == [first_app, second_app]  # the earlier one above
    assert "este contêiner" in starts[-1].inner_text()
    assert "este contêiner" not in starts[-2].inner_text()
    assert f"usuários no banco: {len(users_before)}" in starts[-1].inner_text()
    assert [row[:3] for row in users_table(page)] == [
        [str(u["id"]), u["nome"], u["email"]] for u in users_before
    ]
    screenshot(page, "page-after-redeploy.png")
