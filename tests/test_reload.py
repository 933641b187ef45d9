"""``pactstub serve --watch``: pacts and templates reloaded while requests flow, the store kept.

Every test runs the real command on a real socket and changes real files (or what a
URL serves) under it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pactstub.cli import main
from pactstub.reload import WatchedSources
from pactstub.sources import SourceSpec
from tests.cli.test_serve import fetch
from tests.conftest import pact_document
from tests.sources.broker import FakeBroker

JSON = {"Content-Type": "application/json"}
#: the template of "make an item" in version N: a new id from the store's counter, and N
TEMPLATE = '{"id": {{ next_id("items") }}, "version": %d}\n'
#: the lifecycle of the items: NEW for one read, then DONE with the phase given
LIFECYCLE = """
items:
  field: status
  states:
    NEW: {reads: 1}
    DONE: {set: {phase: %s}}
"""
#: how long a change may take to be served (files are looked at four times a second)
PATIENCE_S = 20.0


def make_item() -> dict[str, Any]:
    return {
        "description": "make an item",
        "request": {"method": "POST", "path": "/items"},
        "response": {"status": 201, "headers": JSON, "body": {"id": 1, "version": 1}},
    }


def get(path: str, body: Any) -> dict[str, Any]:
    return {
        "description": f"get {path}",
        "request": {"method": "GET", "path": path},
        "response": {"status": 200, "headers": JSON, "body": body},
    }


def write_pact(folder: Path, *extra: dict[str, Any]) -> Path:
    """``shop.json``: "make an item", and ``extra``."""
    pact = folder / "shop.json"
    pact.write_text(json.dumps(pact_document(make_item(), *extra)), encoding="utf-8")
    return pact


def write_template(folder: Path, version: int) -> Path:
    """The template of "make an item" in ``version``, in ``templates/``."""
    template = folder / "templates" / "shop" / "make-an-item.json.j2"
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_text(TEMPLATE % version, encoding="utf-8")
    return template


def write_contract(folder: Path) -> tuple[Path, Path]:
    return write_pact(folder), write_template(folder, 1)


def watch(serve: Any, tmp_path: Path, *args: str, database_url: str | None = None) -> Any:
    pact, template = tmp_path / "shop.json", tmp_path / "templates"
    store = database_url or f"sqlite:///{tmp_path}/store.db"
    return serve("--watch", "-f", str(pact), "--templates", str(template), "-p", "0",
                 "--database-url", store, *args)  # fmt: skip


def wait_until(check: Callable[[], Any], what: str) -> Any:
    """``check()``'s first true value; fails saying ``what`` did not happen in time."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {PATIENCE_S}s: {what}")


def interactions(url: str) -> dict[str, Any]:
    status, document = fetch(f"{url}/_pactstub/interactions")
    assert status == 200
    return dict(document)


def post_item(url: str) -> tuple[int, Any]:
    return fetch(f"{url}/items", {}, JSON)


class Posting:
    """Threads posting "make an item" without pause, each on a new connection, until the block ends."""

    def __init__(self, url: str, threads: int = 3) -> None:
        self.url = url
        self.answers: list[tuple[int, Any]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._post, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Posting:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _post(self) -> None:
        while not self._stop.wait(0.005):  # a short pause: the machine running the tests is shared
            self.answers.append(post_item(self.url))

    def versions(self) -> set[int]:
        return {body["version"] for status, body in list(self.answers) if status == 201}


def test_a_pact_and_a_template_changed_while_requests_flow_are_served_and_the_counter_carries_on(
    serve: Any, tmp_path: Path
) -> None:
    pact, template = write_contract(tmp_path)
    server = watch(serve, tmp_path)
    first = interactions(server.url)["loaded_at"]

    with Posting(server.url) as posting:
        wait_until(lambda: posting.versions() == {1}, "the first items are made")
        write_template(tmp_path, 2)
        wait_until(lambda: 2 in posting.versions(), "the changed template answers")
        write_pact(tmp_path, get("/items/count", {"count": 0}))
        wait_until(lambda: fetch(f"{server.url}/items/count")[0] == 200, "the new interaction answers")
        made = len(posting.answers)
        wait_until(lambda: len(posting.answers) > made + 10, "items are made after the pact changed")

    assert {status for status, _ in posting.answers} == {201}
    ids = sorted(body["id"] for _, body in posting.answers)
    assert ids == list(range(1, len(ids) + 1))  # one counter throughout: no id lost or handed out twice
    assert posting.versions() == {1, 2}
    assert interactions(server.url)["loaded_at"] > first
    log = server.log()
    assert re.search(
        rf"process \d+ reloaded after {re.escape(str(template))} changed: 1 pact, 1 interaction\b", log
    )
    assert re.search(
        rf"process \d+ reloaded after {re.escape(str(pact))} changed: 1 pact, 2 interactions", log
    )


def test_a_broken_pact_or_template_keeps_the_last_good_one_serving_and_the_log_says_what_is_wrong(
    serve: Any, tmp_path: Path
) -> None:
    pact, template = write_contract(tmp_path)
    server = watch(serve, tmp_path)
    loaded_at = interactions(server.url)["loaded_at"]
    document = json.loads(pact.read_text(encoding="utf-8"))

    broken = json.loads(json.dumps(document))
    broken["interactions"][0]["request"]["method"] = 5
    pact.write_text(json.dumps(broken), encoding="utf-8")
    line = wait_until(lambda: _line(server.log(), "not reloaded"), "the broken pact is logged")
    name = re.escape(str(pact))
    assert re.search(
        rf"ERROR pactstub.watch: not reloaded after {name} changed; still serving what was loaded at "
        rf"\d\d:\d\d:\d\d: invalid pact: {name}: \$\.interactions\[0\]\.request\.method: "
        r"5 is not of type 'string'$",
        line,
    )
    assert post_item(server.url) == (201, {"id": 1, "version": 1})
    shown = interactions(server.url)
    assert shown["loaded_at"] == loaded_at
    assert shown["failed_reload"]["reason"] == f"{pact} changed"
    assert "$.interactions[0].request.method" in shown["failed_reload"]["error"]

    pact.write_text(json.dumps(document), encoding="utf-8")
    wait_until(lambda: interactions(server.url)["failed_reload"] is None, "the mended pact is loaded")
    template.write_text('{"id": {{ next_id( }}, "version": 2}', encoding="utf-8")
    wait_until(lambda: "syntax error" in server.log(), "the broken template is logged")
    assert f": template {template}:1: syntax error: unexpected '}}', expected ')'" in server.log()
    assert post_item(server.url) == (201, {"id": 2, "version": 1})
    assert interactions(server.url)["failed_reload"]["error"].startswith(f"template {template}:1:")


def test_records_sessions_and_lifecycles_carry_on_and_a_changed_lifecycle_applies_to_kept_records(
    serve: Any, tmp_path: Path
) -> None:
    pact = write_pact(tmp_path, get("/items/1", {"id": 1}))
    folder = tmp_path / "templates" / "shop"
    folder.mkdir(parents=True)
    (folder / "make-an-item.json.j2").write_text('{{ save("items", {"made": true}) }}', "utf-8")
    (folder / "get-items-1.json.j2").write_text('{{ get("items", 1) or {"missing": true} }}', "utf-8")
    lifecycles = folder / "_lifecycles.yaml"
    lifecycles.write_text(LIFECYCLE % "v1", "utf-8")
    server = serve("--watch", "-f", str(pact), "--templates", str(tmp_path / "templates"), "-p", "0",
                   "--database-url", f"sqlite:///{tmp_path}/store.db")  # fmt: skip
    a, b = {**JSON, "X-Pactstub-Session": "a"}, {**JSON, "X-Pactstub-Session": "b"}
    assert fetch(f"{server.url}/items", {}, a)[1]["status"] == "NEW"

    lifecycles.write_text(LIFECYCLE % "v2", "utf-8")
    wait_until(lambda: f"reloaded after {lifecycles} changed" in server.log(), "the lifecycle is reloaded")
    assert fetch(f"{server.url}/items/1", headers=a)[1]["status"] == "NEW"  # its one read in NEW
    done = fetch(f"{server.url}/items/1", headers=a)[1]
    assert (done["id"], done["status"], done["phase"]) == (1, "DONE", "v2")
    assert fetch(f"{server.url}/items/1", headers=b)[1] == {"missing": True}
    assert fetch(f"{server.url}/items", {}, a)[1]["id"] == 2
    assert fetch(f"{server.url}/items", {}, b)[1]["id"] == 1


def test_a_pact_at_a_url_is_fetched_again_every_watch_interval(
    broker: FakeBroker, serve: Any, tmp_path: Path
) -> None:
    broker.files["shop.json"] = json.dumps(pact_document(get("/old", {"v": 1})))
    url = f"{broker.url}/files/shop.json"
    server = serve("--watch", "--watch-interval", "0.2", "-u", url, "-p", "0",
                   "--database-url", f"sqlite:///{tmp_path}/store.db", cwd=tmp_path)  # fmt: skip
    banner = [server.process.stdout.readline().strip() for _ in range(4)]
    assert banner[-1] == "fetching the pacts at URLs and in the broker again every 0.2s"
    loaded_at = interactions(server.url)["loaded_at"]

    broker.files["shop.json"] = json.dumps(pact_document(get("/new", {"v": 2})))
    wait_until(lambda: fetch(f"{server.url}/new") == (200, {"v": 2}), "the new pact answers")
    shown = interactions(server.url)
    assert shown["loaded_at"] > loaded_at
    assert [(p["kind"], p["label"]) for p in shown["pacts"]] == [("url", url)]

    del broker.files["shop.json"]
    wait_until(lambda: "cannot fetch" in server.log(), "the failed fetch is logged")
    time.sleep(1.0)  # five more attempts fail the same way
    assert server.log().count("cannot fetch") == 1
    assert f"still serving the last ones: {url}: answered HTTP 404" in server.log()
    assert fetch(f"{server.url}/new") == (200, {"v": 2})


def test_a_new_pact_version_in_the_broker_is_served(broker: FakeBroker, serve: Any, tmp_path: Path) -> None:
    broker.publish(pact_document(get("/old", {"v": 1})), version="1")
    server = serve("--watch", "--watch-interval", "0.2", "-b", broker.url, "--provider-name", "provider",
                   "-p", "0", "--database-url", f"sqlite:///{tmp_path}/store.db", cwd=tmp_path)  # fmt: skip
    broker.publish(pact_document(get("/new", {"v": 2})), version="2")
    wait_until(lambda: fetch(f"{server.url}/new") == (200, {"v": 2}), "the new version answers")
    assert fetch(f"{server.url}/old")[0] == 404
    (pact,) = interactions(server.url)["pacts"]
    assert pact["kind"] == "broker"
    assert pact["source"].startswith(f"{broker.url}/pacts/provider/provider/consumer/tests/pact-version/")
    assert pact["label"] == f"{pact['source']} (latest from main branch)"


def test_every_worker_reloads_and_they_share_one_counter(
    serve: Any, tmp_path: Path, database_url: str
) -> None:
    write_contract(tmp_path)
    server = watch(serve, tmp_path, "--workers", "2", database_url=database_url)
    assert [post_item(server.url) for _ in range(4)] == [(201, {"id": n, "version": 1}) for n in range(1, 5)]

    write_template(tmp_path, 2)
    wait_until(
        lambda: len(set(re.findall(r"process (\d+) reloaded after", server.log()))) == 2,
        "both workers reload",
    )
    # each request on a new connection, so both workers answer some
    assert [post_item(server.url) for _ in range(8)] == [(201, {"id": n, "version": 2}) for n in range(5, 13)]


@pytest.mark.parametrize(
    "server_options", [["--server", "werkzeug"], ["--tls-self-signed"]], ids=["werkzeug", "gunicorn-tls"]
)
def test_the_other_servers_reload_too(serve: Any, tmp_path: Path, server_options: list[str]) -> None:
    write_contract(tmp_path)
    server = watch(serve, tmp_path, *server_options)
    template = write_template(tmp_path, 2)
    wait_until(lambda: f"reloaded after {template} changed" in server.log(), "the template is reloaded")


def test_a_pact_added_to_a_pact_folder_is_served(serve: Any, tmp_path: Path) -> None:
    folder = tmp_path / "pacts"
    folder.mkdir()
    write_pact(folder)
    server = serve("--watch", "-d", str(folder), "-p", "0",
                   "--database-url", f"sqlite:///{tmp_path}/store.db", cwd=tmp_path)  # fmt: skip
    (folder / "more.json").write_text(json.dumps(pact_document(get("/more", {"more": True}))), "utf-8")
    wait_until(lambda: fetch(f"{server.url}/more") == (200, {"more": True}), "the added pact answers")
    assert [p["label"] for p in interactions(server.url)["pacts"]] == ["more.json", "shop.json"]
    assert post_item(server.url) == (201, {"id": 1, "version": 1})


def test_a_change_is_loaded_once_two_looks_in_a_row_agree(tmp_path: Path) -> None:
    """A file seen changing may still be being written; the next look, a moment later, decides."""
    pact, template = write_contract(tmp_path)
    sources = WatchedSources(SourceSpec(files=(str(pact),)), tmp_path / "templates", interval=10)
    sources.load()
    assert sources.settled_changes() == []
    template.write_text(TEMPLATE % 22, encoding="utf-8")
    assert sources.settled_changes() == []
    assert sources.settled_changes() == [str(template)]
    assert sources.settled_changes() == [str(template)]  # until it is read again
    sources.read()
    assert sources.settled_changes() == []


def test_watch_interval_needs_watch(cli: CliRunner, tmp_path: Path) -> None:
    pact, _ = write_contract(tmp_path)
    result = cli.invoke(main, ["serve", "-f", str(pact), "--watch-interval", "1"])
    assert result.exit_code == 2
    assert "--watch-interval needs --watch" in result.output


def _line(log: str, text: str) -> str | None:
    return next((line for line in log.splitlines() if text in line), None)
