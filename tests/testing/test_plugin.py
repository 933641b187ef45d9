"""The pytest plugin, run on small test suites in a temporary folder with ``pytester``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

# An in-process run forgets the modules it imported, and SQLAlchemy warns (an error
# here) when its PostgreSQL dialect registers its functions a second time: the
# store and its dialects are imported once, now, so every run finds them loaded.
import sqlalchemy.dialects.postgresql  # noqa: F401

import pactstub.state.store  # noqa: F401
from tests.conftest import EPX_PACT, S3_PACT, TEMPLATES, pact_document

GREETING = pact_document(
    {
        "description": "a greeting",
        "request": {"method": "GET", "path": "/hello", "query": {"name": ["alice"]}},
        "response": {"status": 200, "body": {"greeting": "hello alice"}},
    }
)
FAREWELL = pact_document(
    {
        "description": "a farewell",
        "request": {"method": "GET", "path": "/bye"},
        "response": {"status": 200, "body": {"farewell": "bye"}},
    }
)
INI = """
[pytest]
filterwarnings = error
{extra}
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A test folder with two pacts (greeting, farewell) and the epistemix pacts and templates."""
    pacts = pytester.path / "pacts"
    pacts.mkdir()
    (pacts / "greeting.json").write_text(json.dumps(GREETING), encoding="utf-8")
    (pacts / "farewell.json").write_text(json.dumps(FAREWELL), encoding="utf-8")
    shutil.copy(EPX_PACT, pacts)
    shutil.copy(S3_PACT, pacts)
    shutil.copytree(TEMPLATES, pytester.path / "templates")
    return pytester


def ini(pytester: pytest.Pytester, extra: str = "") -> None:
    pytester.makefile(".ini", pytest=INI.format(extra=extra))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A pytest run in this process, as fast as a function call."""
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def run_apart(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A pytest run in a process of its own, for what one process cannot show."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_a_suite_using_the_fixture_passes(suite: pytest.Pytester) -> None:
    ini(suite, "pactstub_pacts = pacts/greeting.json")
    suite.makepyfile(
        """
        import requests

        def test_hello(pactstub):
            response = requests.get(pactstub.url_for("/hello"), params={"name": "alice"})
            assert response.json() == {"greeting": "hello alice"}
            pactstub.assert_called("a greeting", times=1)
        """
    )
    run(suite).assert_outcomes(passed=1)


def test_an_unmatched_request_fails_its_test_naming_the_closest_interaction_and_the_mismatch(
    suite: pytest.Pytester,
) -> None:
    ini(suite, "pactstub_pacts = pacts/greeting.json")
    suite.makepyfile(
        """
        import requests

        def test_wrong_name(pactstub):
            requests.get(pactstub.url_for("/hello"), params={"name": "bob"})

        def test_right_name(pactstub):
            requests.get(pactstub.url_for("/hello"), params={"name": "alice"})
        """
    )
    result = run(suite)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_wrong_name _*",
            "1 request to the pact stub matched no interaction:",
            "1. GET /hello?name=bob: no interaction matched (answered 400)",
            "    closest: greeting#0 'a greeting'",
            "      *name -> *'bob'*",
        ]
    )
    # pytest.fail(pytrace=False): the message, not the plugin's traceback
    assert "plugin.py" not in result.stdout.str()


def test_a_test_failing_anyway_also_says_what_did_not_match(suite: pytest.Pytester) -> None:
    ini(suite, "pactstub_pacts = pacts/greeting.json")
    suite.makepyfile(
        """
        import requests

        def test_client_error(pactstub):
            response = requests.get(pactstub.url_for("/hello"), params={"name": "bob"})
            response.raise_for_status()
        """
    )
    result = run(suite)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E * 400 Client Error*", "*GET /hello?name=bob: no interaction matched*"])


def test_state_does_not_leak_between_tests(suite: pytest.Pytester) -> None:
    ini(suite)
    suite.makepyfile(
        """
        import pytest
        import requests

        HEADERS = {
            "Offline-Token": "Bearer t",
            "content-type": "application/json",
            "fredcli-version": "0.4.0",
            "user-agent": "epx_client_1.2.2",
        }
        URLS = set()
        pytestmark = pytest.mark.pactstub(pacts=["pacts/epx-epistemix.json"], templates="templates")

        @pytest.mark.parametrize("attempt", [1, 2, 3])
        def test_a_fresh_stub(pactstub, attempt):
            URLS.add(pactstub.url)
            assert pactstub.requests == []
            job = requests.post(pactstub.url_for("/jobs/register"), json={"tags": []}, headers=HEADERS)
            assert job.json()["id"] == 123  # the counter restarted
            runs = requests.get(pactstub.url_for("/runs"), params={"job_id": 123}, headers=HEADERS)
            assert runs.json() == {"runs": []}  # no records left over

        def test_one_server_for_the_session():
            assert len(URLS) == 1
        """
    )
    run(suite).assert_outcomes(passed=4)


def test_the_marker_overrides_the_ini_option(suite: pytest.Pytester) -> None:
    ini(suite, "pactstub_pacts = pacts/greeting.json")
    suite.makepyfile(
        """
        import pytest
        import requests

        @pytest.mark.pactstub(pacts=["pacts/farewell.json"])
        def test_marked(pactstub):
            assert requests.get(pactstub.url_for("/bye")).json() == {"farewell": "bye"}
            assert [p.name for p in pactstub.app.pacts] == ["farewell"]

        def test_unmarked(pactstub):
            assert [p.name for p in pactstub.app.pacts] == ["greeting"]
        """
    )
    run(suite).assert_outcomes(passed=2)


def test_the_command_line_option(suite: pytest.Pytester) -> None:
    ini(suite)
    suite.makepyfile(
        """
        def test_pacts(pactstub):
            assert sorted(p.name for p in pactstub.app.pacts) == ["farewell", "greeting"]
        """
    )
    run(
        suite, "--pactstub-pact", "pacts/greeting.json", "--pactstub-pact", "pacts/farewell.json"
    ).assert_outcomes(passed=1)


def test_no_pacts_is_a_clear_error(suite: pytest.Pytester) -> None:
    ini(suite)
    suite.makepyfile("def test_it(pactstub):\n    pass\n")
    result = run(suite)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*pactstub: no pacts to serve. Name them with @pytest.mark.pactstub*"])


def test_a_broken_pact_is_a_clear_error(suite: pytest.Pytester) -> None:
    ini(suite, "pactstub_pacts = pacts/missing.json")
    suite.makepyfile("def test_it(pactstub):\n    pass\n")
    result = run(suite)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*pactstub: cannot serve *missing.json*"])


def test_check_false_lets_a_test_send_unmatched_requests(suite: pytest.Pytester) -> None:
    ini(suite, "pactstub_pacts = pacts/greeting.json")
    suite.makepyfile(
        """
        import pytest
        import requests

        @pytest.mark.pactstub(check=False)
        def test_the_client_handles_a_400(pactstub):
            assert requests.get(pactstub.url_for("/hello")).status_code == 400
            assert len(pactstub.unmatched) == 1
        """
    )
    run(suite).assert_outcomes(passed=1)


def test_a_request_from_a_fixture_teardown_is_checked_too(suite: pytest.Pytester) -> None:
    ini(suite, "pactstub_pacts = pacts/greeting.json")
    suite.makepyfile(
        """
        import pytest
        import requests

        @pytest.fixture
        def client(pactstub):
            yield pactstub
            requests.delete(pactstub.url_for("/hello"))

        def test_it(client):
            pass
        """
    )
    result = run(suite)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*DELETE /hello: no interaction has this method for this path*"])


def test_the_fixtures_can_be_overridden(suite: pytest.Pytester) -> None:
    ini(suite)
    suite.makeconftest(
        """
        import pytest

        @pytest.fixture
        def pactstub_pacts(pytestconfig):
            return [pytestconfig.rootpath / "pacts" / "epx-epistemix.json"]

        @pytest.fixture
        def pactstub_templates(pytestconfig):
            return pytestconfig.rootpath / "templates"

        @pytest.fixture
        def pactstub_database_url(tmp_path_factory):
            return f"sqlite:///{tmp_path_factory.getbasetemp() / 'state.sqlite3'}"
        """
    )
    suite.makepyfile(
        """
        import requests

        def test_it(pactstub, tmp_path_factory):
            headers = {"Offline-Token": "Bearer t", "content-type": "application/json",
                       "fredcli-version": "0.4.0", "user-agent": "epx_client_1.2.2"}
            job = requests.post(pactstub.url_for("/jobs/register"), json={"tags": []}, headers=headers)
            assert job.json()["id"] == 123
            assert (tmp_path_factory.getbasetemp() / "state.sqlite3").exists()
        """
    )
    run(suite).assert_outcomes(passed=1)


def test_parallel_workers_each_have_their_own_server(suite: pytest.Pytester) -> None:
    ini(suite, "pactstub_pacts = pacts/epx-epistemix.json\npactstub_templates = templates")
    suite.makepyfile(
        """
        import os
        import pytest
        import requests

        HEADERS = {"Offline-Token": "Bearer t", "content-type": "application/json",
                   "fredcli-version": "0.4.0", "user-agent": "epx_client_1.2.2"}

        @pytest.mark.parametrize("n", range(8))
        def test_ids_start_at_123_everywhere(pactstub, n):
            for expected in (123, 124):
                job = requests.post(pactstub.url_for("/jobs/register"), json={"tags": []}, headers=HEADERS)
                assert job.json()["id"] == expected
            print(os.environ.get("PYTEST_XDIST_WORKER"), pactstub.url)
        """
    )
    result = run(suite, "-n", "2", "-s")
    result.assert_outcomes(passed=8)


def test_the_plugin_does_nothing_for_a_suite_that_does_not_use_it(pytester: pytest.Pytester) -> None:
    ini(pytester)
    pytester.makepyfile(
        """
        import sys

        def test_untouched():
            assert "pactstub.testing.server" not in sys.modules
        """
    )
    result = run(pytester, "--markers")
    assert "@pytest.mark.pactstub(pacts=[...], templates=None, check=True, **options):" in result.stdout.str()
    run_apart(pytester).assert_outcomes(passed=1)  # this process has imported the server long ago


def test_the_epistemix_example_passes() -> None:
    """``examples/epistemix_client`` runs as a user would run it: pytest in its folder."""
    import subprocess
    import sys

    example = Path(__file__).resolve().parents[2] / "examples" / "epistemix_client"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(example)],
        capture_output=True,
        text=True,
        cwd=example,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
