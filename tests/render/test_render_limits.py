"""A template render is bounded in time and size: stopped, answered 500 naming the template, journaled.

Each test writes one template for a ``GET /t`` interaction and serves it with
``create_app`` (``render_timeout``, ``render_max_bytes``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from pactstub import create_app
from pactstub.app import StubApp
from pactstub.errors import ConfigError

PACT = {
    "consumer": {"name": "c"},
    "provider": {"name": "p"},
    "interactions": [
        {"description": "t", "request": {"method": "GET", "path": "/t"}, "response": {"status": 200}}
    ],
    "metadata": {"pactSpecification": {"version": "3.0.0"}},
}
#: Far below the default, so a runaway test template is stopped quickly.
TIMEOUT_S = 0.3


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[Callable[..., tuple[StubApp, Client]]]:
    """``stub(template_text, **options)``: an app serving ``GET /t`` from that template."""
    made: list[StubApp] = []

    def serve(text: str, **options: Any) -> tuple[StubApp, Client]:
        (tmp_path / "limits.json").write_text(json.dumps(PACT), encoding="utf-8")
        (tmp_path / "templates" / "limits").mkdir(parents=True, exist_ok=True)
        (tmp_path / "templates" / "limits" / "t.json.j2").write_text(text, encoding="utf-8")
        options.setdefault("render_timeout", TIMEOUT_S)
        app = create_app([tmp_path / "limits.json"], templates=tmp_path / "templates", **options)
        made.append(app)
        return app, Client(app)

    yield serve
    for app in made:
        app.close()


def failed(response: TestResponse, line: int | None = 1) -> str:
    """The message of a failed render, after checking it names the template and line."""
    assert response.status_code == 500
    body = response.json
    assert body is not None
    assert body["error"] == "template failed"
    assert body["template"].endswith("limits/t.json.j2")
    assert body["line"] == line
    return str(body["message"])


class TestTime:
    def test_nested_loops_are_stopped_at_the_deadline(self, stub: Any) -> None:
        _, client = stub(
            '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{"a": 1}'
        )
        assert failed(client.get("/t")) == "a loop was still running at the render's deadline; it was stopped"

    def test_a_loop_that_grows_what_it_walks_is_stopped(self, stub: Any) -> None:
        _, client = stub(
            "{% set ns = namespace(items=[1]) %}\n"
            "{% for item in ns.items %}{% do ns.items.append(item) %}{% endfor %}\n"
            '{"a": 1}'
        )
        assert "deadline" in failed(client.get("/t"), line=2)

    def test_a_stopped_render_leaves_nothing_in_the_store(self, stub: Any) -> None:
        app, client = stub(
            '{% set saved = save("things", {"name": "half"}) %}'
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{}"
        )
        failed(client.get("/t"))
        assert app.store.snapshot()["collections"] == {}

    def test_the_failure_is_in_the_journal(self, stub: Any) -> None:
        app, client = stub(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{}"
        )
        client.get("/t")
        (entry,) = app.journal.entries()
        assert (entry.problem, entry.interaction, entry.status) == ("template-failed", "t", 500)
        assert entry.explain().startswith("GET /t: the template ")
        assert "limits/t.json.j2:1 of 't' failed: a loop was still running" in entry.explain()


class TestSize:
    @pytest.mark.parametrize(
        ("expression", "message"),
        [
            ("10 ** (10 ** 7)", "10 ** 10000000 would be an integer of more than 65536 bits; refused"),
            ("(2 ** 40000) * (2 ** 40000)", "would be an integer of more than 65536 bits; refused"),
            ('("x" * 10 ** 9) | length', "a str of length 1 * 1000000000 would be larger than 1048576 bytes"),
            (
                "([0] * 10 ** 9) | length",
                "a list of length 1 * 1000000000 would be larger than 1048576 bytes",
            ),
            ('("%0999999999d" % 1) | length', "would be larger than 1048576 bytes; refused"),
            ('"x".ljust(10 ** 9) | length', "str.ljust() would make a value larger than 1048576 bytes"),
            ('"{:>999999999}".format(1) | length', "str.format() would make a value larger than 1048576"),
            ('("x" | center(10 ** 9)) | length', "the center filter would make a value larger than 1048576"),
            ('("ab" | replace("", "x" * 10 ** 6)) | length', "the replace filter would make a value larger"),
            ("lipsum(10 ** 6) | length", "lipsum() would make a value larger than 1048576 bytes; refused"),
        ],
    )
    def test_a_huge_value_is_refused_before_it_is_computed(
        self, stub: Any, expression: str, message: str
    ) -> None:
        _, client = stub('{"a": {{ ' + expression + " }}}")
        assert message in failed(client.get("/t"))

    def test_output_past_the_limit_is_stopped(self, stub: Any) -> None:
        _, client = stub(
            '[{% for i in range(100000) %}{{ "y" * 100 }},{% endfor %}1]', render_max_bytes=10_000
        )
        assert failed(client.get("/t"), line=None) == "the output is larger than 10000 bytes"

    def test_values_within_the_limits_are_computed(self, stub: Any) -> None:
        _, client = stub(
            '{"a": {{ 2 ** 64 }}, "b": {{ "ab" * 3 }}, "c": {{ "%5d" % 3 }}, "d": {{ "x".ljust(3) }}}'
        )
        assert client.get("/t").json == {"a": 2**64, "b": "ababab", "c": "    3", "d": "x  "}


def test_loops_keep_their_meaning(stub: Any) -> None:
    """Guarded loops still know their length, their last item, their depth and their else."""
    _, client = stub(
        '{% set tree = [{"n": 1, "c": [{"n": 2, "c": []}]}, {"n": 3, "c": []}] %}'
        "{% set out = namespace(v=[]) %}"
        "{% for item in tree recursive %}{% do out.v.append([item.n, loop.length, loop.last, loop.depth]) %}"
        "{% do loop(item.c) %}{% endfor %}"
        "{% for x in [] %}{% else %}{% do out.v.append('else') %}{% endfor %}"
        "{% for x in range(5) if x is even %}{% do out.v.append(x) %}{% endfor %}"
        '{"v": {{ out.v }}}'
    )
    assert client.get("/t").json == {
        "v": [[1, 2, False, 1], [2, 1, True, 2], [3, 2, True, 1], "else", 0, 2, 4]
    }


@pytest.mark.parametrize("option", ["render_timeout", "render_max_bytes", "database_timeout"])
def test_limits_must_be_positive(tmp_path: Path, option: str) -> None:
    with pytest.raises(ConfigError, match=f"{option} must be more than 0"):
        create_app([PACT], **{option: 0})
