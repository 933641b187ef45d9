"""A template that fails answers 500, and the test that caused it fails naming the template and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

# An in-process pytest run forgets the modules it imported; these are imported once, now
# (see test_plugin.py).
import sqlalchemy.dialects.postgresql  # noqa: F401

import pactstub.state.store  # noqa: F401
from pactstub.testing import StubServer
from tests.conftest import pact_document

PACT = pact_document(
    {
        "description": "a greeting",
        "request": {"method": "GET", "path": "/hello"},
        "response": {"status": 200, "body": {"greeting": "hello"}},
    }
)
#: Line 2 names a variable no template has.
BROKEN = '{% set who = "you" %}\n{"greeting": {{ "hello " ~ nobody }}}\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "greeting.json").write_text(json.dumps(PACT), encoding="utf-8")
    (tmp_path / "templates" / "greeting").mkdir(parents=True)
    (tmp_path / "templates" / "greeting" / "a-greeting.json.j2").write_text(BROKEN, encoding="utf-8")
    return tmp_path


def served(project: Path) -> StubServer:
    return StubServer([project / "greeting.json"], templates=project / "templates")


def test_check_names_the_template_and_line(project: Path) -> None:
    with served(project) as stub:
        assert requests.get(stub.url_for("/hello"), timeout=10).status_code == 500
        with pytest.raises(AssertionError) as failure:
            stub.check()
        stub.check_on_exit = False
    text = str(failure.value)
    assert text.startswith("1 request to the pact stub was not answered as the pact says:\n")
    assert "1. GET /hello: the template " in text
    assert "a-greeting.json.j2:2 of 'a greeting' failed: UndefinedError: 'nobody' is undefined" in text
    assert "(answered 500)" in text


def test_assert_called_fails_on_a_call_whose_answer_failed(project: Path) -> None:
    with served(project) as stub:
        requests.get(stub.url_for("/hello"), timeout=10)
        with pytest.raises(
            AssertionError, match=r"1 of the 1 calls of 'a greeting' failed:\n1\. GET /hello"
        ) as failure:
            stub.assert_called("a greeting", times=1)
        assert "a-greeting.json.j2:2" in str(failure.value)
        stub.check_on_exit = False


def test_leaving_the_block_fails(project: Path) -> None:
    with (
        pytest.raises(AssertionError, match=r"a-greeting\.json\.j2:2 of 'a greeting' failed"),
        served(project) as stub,
    ):
        requests.get(stub.url_for("/hello"), timeout=10)


def test_the_plugin_fails_the_test_that_caused_it(project: Path, pytester: pytest.Pytester) -> None:
    pytester.makefile(".ini", pytest="[pytest]\nfilterwarnings = error\n")
    pacts, templates = str(project / "greeting.json"), str(project / "templates")
    pytester.makepyfile(
        f"""
        import pytest
        import requests

        @pytest.mark.pactstub(pacts=[{pacts!r}], templates={templates!r})
        def test_hello(pactstub):
            requests.get(pactstub.url_for("/hello"))
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "1 request to the pact stub was not answered as the pact says:",
            "1. GET /hello: the template *a-greeting.json.j2:2 of 'a greeting' failed: *'nobody' is undef*",
        ]
    )
