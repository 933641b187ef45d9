"""Lifecycles: records that move through states as templates read them, or as the clock runs.

Defined in ``<pact stem>/_lifecycles.yaml`` beside the templates; a bad definition stops
start-up naming the file and the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from pactstub.cli import main
from pactstub.errors import TemplateError
from tests.shop import Shop, json_of

LIFECYCLE = """\
runs:
  field: status
  states:
    QUEUED: {reads: 1, set: {podPhase: Pending}}
    RUNNING: {reads: 2, set: {podPhase: Running}}
    DONE: {set: {podPhase: Succeeded}}
    ERROR: {set: {podPhase: Failed}}
"""


class Runs:
    """A stub whose templates save runs (POST /scratch), read one (GET /things/ID), read all
    (GET /read) and update one (PUT /creations)."""

    def __init__(self, shop: Shop, lifecycle: str = LIFECYCLE, **options: Any) -> None:
        shop.lifecycles(lifecycle)
        shop.template("a-scratch-request", '{{ save("runs", request.body) }}')
        shop.template("a-thing", '{{ get("runs", request.path_params.id | int) }}')
        shop.template("a-read", '{"runs": {{ find("runs") }}}')
        shop.template("a-successful-creation", '{{ update("runs", request.body.id, request.body.changes) }}')
        self.client: Client = shop.client(**options)

    def save(self, document: dict[str, Any] | None = None) -> dict[str, Any]:
        found: dict[str, Any] = json_of(self.client.post("/scratch", json=document or {}))
        return found

    def read(self, run_id: int = 1) -> dict[str, Any]:
        found: dict[str, Any] = json_of(self.client.get(f"/things/{run_id}"))
        return found

    def states(self, reads: int, run_id: int = 1) -> list[str]:
        return [self.read(run_id)["status"] for _ in range(reads)]

    def update(self, run_id: int, changes: dict[str, Any], status: int = 201) -> Any:
        return json_of(self.client.put("/creations", json={"id": run_id, "changes": changes}), status)

    def clock(self, **change: Any) -> None:
        json_of(self.client.post("/_pactstub/clock", json=change))

    def stored(self, run_id: int = 1) -> dict[str, Any]:
        """The run as the admin API shows it (which does not count as a read)."""
        found: dict[str, Any] = json_of(self.client.get(f"/_pactstub/records/runs/{run_id}"))["data"]
        return found


@pytest.fixture
def on_each_database(shop: Shop, database_url: str) -> None:
    """The stub's store on a SQLite file, then on PostgreSQL (which locks the records it moves)."""
    shop.defaults["database_url"] = database_url


@pytest.mark.usefixtures("on_each_database")
class TestReads:
    def test_each_state_is_seen_by_its_reads_then_the_next_one(self, shop: Shop) -> None:
        runs = Runs(shop)
        saved = runs.save({"name": "a"})
        assert (saved["status"], saved["podPhase"]) == ("QUEUED", "Pending")
        seen = [runs.read() for _ in range(5)]
        assert [(run["status"], run["podPhase"]) for run in seen] == [
            ("QUEUED", "Pending"),
            ("RUNNING", "Running"),
            ("RUNNING", "Running"),
            ("DONE", "Succeeded"),
            ("DONE", "Succeeded"),
        ]
        assert all(run["name"] == "a" for run in seen)

    def test_find_moves_every_record_it_reads(self, shop: Shop) -> None:
        runs = Runs(shop)
        runs.save()
        runs.save()
        seen = [[run["status"] for run in json_of(runs.client.get("/read"))["runs"]] for _ in range(3)]
        assert seen == [["QUEUED", "QUEUED"], ["RUNNING", "RUNNING"], ["RUNNING", "RUNNING"]]
        assert runs.states(1, run_id=2) == ["DONE"]

    def test_a_record_saved_in_a_state_starts_there_with_its_own_fields_kept(self, shop: Shop) -> None:
        runs = Runs(shop)
        saved = runs.save({"status": "RUNNING", "podPhase": "Starting"})
        assert (saved["status"], saved["podPhase"]) == ("RUNNING", "Starting")
        assert runs.states(3) == ["RUNNING", "RUNNING", "DONE"]

    def test_the_admin_api_reads_without_moving_it(self, shop: Shop) -> None:
        runs = Runs(shop)
        runs.save()
        assert [runs.stored()["status"] for _ in range(3)] == ["QUEUED"] * 3
        assert json_of(runs.client.get("/_pactstub/records/runs"))["records"][0]["data"]["status"] == "QUEUED"
        assert runs.states(2) == ["QUEUED", "RUNNING"]

    def test_updated_at_moves_when_the_state_does_not_when_a_read_is_counted(self, shop: Shop) -> None:
        runs = Runs(shop)
        runs.save({"status": "RUNNING"})

        def updated_at() -> str:
            found: str = json_of(runs.client.get("/_pactstub/records/runs/1"))["updated_at"]
            return found

        saved = updated_at()
        assert runs.states(1) == ["RUNNING"]  # counted, still RUNNING
        assert updated_at() == saved
        assert runs.states(1) == ["RUNNING"]  # counted, and now DONE
        assert updated_at() > saved

    def test_other_collections_do_not_move(self, shop: Shop) -> None:
        Runs(shop)
        shop.template("a-read", '{{ [save("jobs", {"status": "QUEUED"}), get("jobs", 1), get("jobs", 1)] }}')
        assert [job["status"] for job in json_of(shop.client().get("/read"))] == ["QUEUED"] * 3


@pytest.mark.usefixtures("on_each_database")
class TestTime:
    TIMED = """\
runs:
  field: status
  states:
    QUEUED: {seconds: 60, set: {podPhase: Pending}}
    RUNNING: {seconds: 30, reads: 3}
    DONE: {}
"""

    def test_a_state_lasts_its_seconds_on_the_stubs_clock(self, shop: Shop) -> None:
        runs = Runs(shop, self.TIMED)
        runs.clock(freeze=True)
        runs.save()
        assert runs.states(3) == ["QUEUED"] * 3  # reads do not move a state of seconds
        runs.clock(advance=59.5)
        assert runs.states(1) == ["QUEUED"]
        runs.clock(advance=0.5)
        assert runs.states(1) == ["RUNNING"]

    def test_time_catches_up_over_several_states_at_once(self, shop: Shop) -> None:
        runs = Runs(shop, self.TIMED)
        runs.clock(freeze=True)
        runs.save()
        runs.clock(advance=90)
        assert runs.read()["status"] == "DONE"

    def test_reads_or_seconds_whichever_comes_first(self, shop: Shop) -> None:
        runs = Runs(shop, self.TIMED)
        runs.clock(freeze=True)
        runs.save({"status": "RUNNING"})
        assert runs.states(4) == ["RUNNING", "RUNNING", "RUNNING", "DONE"]
        runs.save({"status": "RUNNING"})
        runs.clock(advance=30)
        assert runs.states(1, run_id=2) == ["DONE"]


@pytest.mark.usefixtures("on_each_database")
class TestFailures:
    @pytest.mark.parametrize(("rate", "final"), [(1.0, "ERROR"), (0.0, "DONE")])
    def test_leaving_a_state_fails_at_its_rate(self, shop: Shop, rate: float, final: str) -> None:
        flaky = LIFECYCLE.replace(
            "RUNNING: {reads: 2, set: {podPhase: Running}}",
            f"RUNNING: {{reads: 1, set: {{podPhase: Running}}, fail: {{rate: {rate}, to: ERROR}}}}",
        )
        runs = Runs(shop, flaky)
        for _ in range(5):
            runs.save()
        finals = [runs.states(3, run_id=run_id)[-1] for run_id in range(1, 6)]
        assert finals == [final] * 5

    def test_a_seed_makes_the_failures_repeat(self, shop: Shop, tmp_path: Path) -> None:
        flaky = LIFECYCLE.replace(
            "RUNNING: {reads: 2, set: {podPhase: Running}}",
            "RUNNING: {reads: 1, fail: {rate: 0.5, to: ERROR}}",
        )

        def finals(seed: int) -> list[str]:
            runs = Runs(shop, flaky, seed=seed, database_url="sqlite://")  # a fresh store each time
            for _ in range(24):
                runs.save()
            return [runs.states(3, run_id=run_id)[-1] for run_id in range(1, 25)]

        first = finals(11)
        assert set(first) == {"DONE", "ERROR"}
        assert finals(11) == first
        assert finals(12) != first


@pytest.mark.usefixtures("on_each_database")
class TestUpdates:
    def test_updating_the_state_field_moves_the_record_into_that_state(self, shop: Shop) -> None:
        runs = Runs(shop)
        runs.save()
        assert runs.states(4) == ["QUEUED", "RUNNING", "RUNNING", "DONE"]
        retried = runs.update(1, {"status": "QUEUED", "retries": 1})
        assert (retried["status"], retried["podPhase"], retried["retries"]) == ("QUEUED", "Pending", 1)
        assert runs.states(4) == ["QUEUED", "RUNNING", "RUNNING", "DONE"]  # its reads start again

    def test_the_changes_win_over_the_states_fields(self, shop: Shop) -> None:
        runs = Runs(shop)
        runs.save()
        updated = runs.update(1, {"status": "ERROR", "podPhase": "Evicted"})
        assert (updated["status"], updated["podPhase"]) == ("ERROR", "Evicted")

    def test_other_changes_leave_the_state_and_its_reads_alone(self, shop: Shop) -> None:
        runs = Runs(shop)
        runs.save()
        assert runs.states(2) == ["QUEUED", "RUNNING"]
        assert runs.update(1, {"status": "RUNNING", "note": "x"})["status"] == "RUNNING"
        assert runs.states(2) == ["RUNNING", "DONE"]

    def test_a_patch_through_the_admin_api_to_a_final_state_stays_there(self, shop: Shop) -> None:
        runs = Runs(shop)
        runs.save()
        patched = runs.client.patch("/_pactstub/records/runs/1", json={"status": "ERROR"})
        assert json_of(patched)["data"]["podPhase"] == "Failed"
        assert [(run["status"], run["podPhase"]) for run in (runs.read() for _ in range(4))] == [
            ("ERROR", "Failed")
        ] * 4

    def test_a_state_that_does_not_exist_is_refused_and_nothing_changes(self, shop: Shop) -> None:
        runs = Runs(shop)
        runs.save()
        failed = runs.update(1, {"status": "EROR", "note": "x"}, status=500)
        assert "'EROR' is not a state of 'runs'" in failed["message"]
        assert "QUEUED, RUNNING, DONE, ERROR" in failed["message"]
        patched = runs.client.patch("/_pactstub/records/runs/1", json={"status": "EROR"})
        assert patched.status_code == 400
        assert "'EROR' is not a state of 'runs'" in json_of(patched, 400)["error"]
        assert "note" not in runs.stored()
        assert runs.states(2) == ["QUEUED", "RUNNING"]

    def test_a_record_cannot_be_saved_in_a_state_that_does_not_exist(self, shop: Shop) -> None:
        runs = Runs(shop)
        failed = json_of(runs.client.post("/scratch", json={"status": "Submitted"}), 500)
        assert "'Submitted' is not a state of 'runs'" in failed["message"]
        assert json_of(runs.client.get("/_pactstub/state"))["collections"] == {}


class TestDefinitionErrors:
    """Each mistake in a lifecycle file stops start-up with the file and the line."""

    @pytest.mark.parametrize(
        ("text", "line", "message"),
        [
            ("runs:\n  field: status\n  states: [QUEUED\n", 4, "not valid YAML"),
            ("runs:\n  field: status\n  states:\n    A: {reads: 0}\n", 4, "$.runs.states.A.reads"),
            ("runs:\n  field: status\n  states:\n    A: {reads: two}\n    B: {}\n", 4, "is not of type"),
            ("runs:\n  states:\n    A: {}\n", 1, "'field' is a required property"),
            ("runs:\n  field: status\n  states:\n    A: {reads: 1, nxt: B}\n    B: {}\n", 4, "'nxt'"),
            (
                "runs:\n  field: status\n  states:\n    A: {reads: 1, next: DONE}\n    B: {}\n",
                4,
                "$.runs.states.A.next: 'DONE' is not a state of 'runs' (states: A, B)",
            ),
            (
                "runs:\n  field: status\n  states:\n    A: {reads: 1}\n    B:\n"
                "      fail: {rate: 0.5, to: C}\n",
                6,
                "'C' is not a state of 'runs'",
            ),
            (
                "runs:\n  field: status\n  states:\n    A: {}\n    B:\n      seconds: 5\n",
                5,
                "the last state lasts some reads or seconds but has no 'next' state",
            ),
            (
                "runs:\n  field: status\n  states:\n    A:\n      fail: {rate: 1.5, to: A}\n",
                5,
                "1.5 is greater than the maximum of 1",
            ),
        ],
    )
    def test_a_mistake_names_the_file_and_line(self, shop: Shop, text: str, line: int, message: str) -> None:
        path = shop.lifecycles(text)
        with pytest.raises(TemplateError) as raised:
            shop.app()
        assert (raised.value.template, raised.value.line) == (str(path), line)
        assert message in raised.value.message

    def test_serve_stops_with_exit_2_and_one_line(self, shop: Shop, cli: CliRunner, tmp_path: Path) -> None:
        path = shop.lifecycles("runs:\n  field: status\n  states:\n    A: {reads: 1, next: Z}\n    B: {}\n")
        database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
        result = cli.invoke(
            main,
            ["serve", "--pact", str(shop.pact), "--templates", str(shop.templates), "--port", "0",
             "--database-url", database],
        )  # fmt: skip
        assert result.exit_code == 2
        assert result.stderr == (
            f"pactstub: error: template {path}:4: $.runs.states.A.next: 'Z' is not a state of 'runs'"
            " (states: A, B)\n"
        )

    def test_a_collection_defined_twice_names_both_files(self, shop: Shop) -> None:
        shop.lifecycles("runs: {field: status, states: {A: {}}}\n")
        again = json.dumps({"runs": {"field": "s", "states": {"B": {}}}})
        second = shop.lifecycles(again, "_lifecycles.json")
        with pytest.raises(TemplateError) as raised:
            shop.app()
        assert raised.value.template == str(second)
        assert "collection 'runs' already has a lifecycle in" in raised.value.message
        assert "_lifecycles.yaml" in raised.value.message
