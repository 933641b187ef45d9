"""The dashboard in a real browser: headless Chromium (Debian's) driven by Playwright.

Assertions are on what a person sees: rows appearing without a reload, a miss beside
what its interaction expects with the difference marked, a record appearing after a
request, the reset button emptying the journal, and the admin token asked for.
Skipped, saying why, where Chromium or Playwright is missing.

``PACTSTUB_DASHBOARD_SCREENSHOT=FILE`` saves the page of the first test (a few
requests, one miss selected) as the README's picture.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES, epx_run_request

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("PACTSTUB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
#: How long a person would wait for the page to catch up, in milliseconds.
PATIENCE_MS = 5000
HEADERS = {
    "Offline-Token": "Bearer t",
    "content-type": "application/json",
    "fredcli-version": "0.4.0",
    "user-agent": "epx_client_1.2.2",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(PATIENCE_MS)
    yield opened
    context.close()


def post(url: str, body: Any, **headers: str) -> int:
    request = urllib.request.Request(url, json.dumps(body).encode(), {**HEADERS, **headers}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def stub_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--pact", str(EPX_PACT), "--pact", str(S3_PACT), "--templates", str(TEMPLATES), "--port", "0",
        "--database-url", f"sqlite:///{tmp_path / 'store.sqlite3'}", *extra,
    ]  # fmt: skip


def test_requests_appear_live_and_a_miss_shows_what_differs(serve: Any, tmp_path: Path, page: Page) -> None:
    server = serve(*stub_args(tmp_path))
    assert post(server.url + "/jobs/register", {"tags": ["demo"]}) == 200
    page.goto(server.url + "/_pactstub/")
    rows = page.locator("#journal-rows tr")
    assert rows.count() == 1
    assert "a job registration request" in rows.first.inner_text()

    assert post(server.url + "/runs", epx_run_request(123)) == 200
    assert post(server.url + "/jobs/register", {"tags": "demo"}) == 400
    miss = page.locator("#journal-rows tr.miss")
    miss.wait_for()  # no reload: the page polls the journal
    assert rows.count() == 3
    assert rows.first.get_attribute("class") == "miss", "newest first"
    page.locator('.collection[data-collection="runs"] tr[data-id="978"]').wait_for()
    assert page.locator('.collection[data-collection="runs"] td.state').first.inner_text() == "QUEUED"

    miss.click()
    marked = page.locator("#detail .line.missed")
    marked.first.wait_for()
    assert [line.strip() for line in marked.all_inner_texts()] == [
        '"tags": [',
        '"info_job"',
        "]",
        '"tags": "demo"',
    ]
    assert (
        page.locator("#detail tr.messages li").first.inner_text().startswith("$.body.tags -> Type mismatch")
    )
    assert page.locator("#detail th", has_text="header Offline-Token").is_visible()
    screenshot = os.environ.get("PACTSTUB_DASHBOARD_SCREENSHOT")
    if screenshot:
        page.screenshot(path=screenshot)


def test_the_reset_button_empties_the_journal_and_the_store(serve: Any, tmp_path: Path, page: Page) -> None:
    server = serve(*stub_args(tmp_path))
    assert post(server.url + "/jobs/register", {"tags": ["demo"]}) == 200
    page.goto(server.url + "/_pactstub/")
    assert page.locator('.collection[data-collection="jobs"] tr[data-id="123"]').is_visible()
    reset = page.locator("#reset")
    reset.click()
    assert reset.inner_text() == "Click again to reset everything", "one click alone resets nothing"
    assert page.locator("#journal-rows tr").count() == 1
    reset.click()
    page.get_by_text("The stub was reset.").wait_for()
    assert page.locator("#journal-rows tr").count() == 0
    assert page.locator("#store").inner_text().endswith("No records in session default.")
    assert post(server.url + "/jobs/register", {"tags": ["again"]}) == 200
    page.locator('.collection[data-collection="jobs"] tr[data-id="123"]').wait_for()


def test_with_an_admin_token_the_page_asks_for_it(serve: Any, tmp_path: Path, page: Page) -> None:
    server = serve(*stub_args(tmp_path, "--admin-token", "letmein"))
    assert post(server.url + "/jobs/register", {"tags": ["demo"]}) == 200
    page.goto(server.url + "/_pactstub/")
    assert page.locator("#status").inner_text() == "This stub has an admin token: enter it to see its state."
    assert page.locator("#journal-rows tr").count() == 0

    page.locator("#token").fill("wrong")
    page.locator("#token-form button").click()
    page.get_by_text("the admin token is missing or wrong").wait_for()
    assert page.locator("#journal-rows tr").count() == 0

    page.locator("#token").fill("letmein")
    page.locator("#token-form button").click()
    page.locator("#journal-rows tr").first.wait_for()
    page.locator("#interactions td", has_text="a job registration request").first.wait_for()
    assert page.locator('.collection[data-collection="jobs"] tr[data-id="123"]').is_visible()
    page.locator("#reset").click()
    page.locator("#reset").click()
    page.get_by_text("The stub was reset.").wait_for()
    assert page.locator("#journal-rows tr").count() == 0
