"""The container image, built from the Dockerfile with podman and used as a user uses it.

Building takes a while (a minute or two the first time, when the Debian base is made), so one
test builds the image once and then checks each behaviour in turn; each step is a function
named for what it shows. Skipped, saying why, without podman and debootstrap or without root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import EPX_PACT, POSTGRES_ENV, S3_PACT
from tests.deploy.podman import Podman, base_image, build, missing_tools, wheelhouse
from tests.test_epistemix import HEADERS, call

pytestmark = [
    pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools())),
    pytest.mark.timeout(1200),
]
ISOLATED = ["--rm", "--network", "none", "--no-healthcheck"]


@pytest.fixture
def podman() -> Iterator[Podman]:
    home = Path(tempfile.mkdtemp(prefix="pactstub-podman-"))  # podman wants a run root of < 50 characters
    runner = Podman(home)
    try:
        yield runner
    finally:
        runner.reset()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def image(podman: Podman, tmp_path: Path) -> str:
    base = base_image(podman)
    version = "import sys; print('%d.%d' % sys.version_info[:2])"
    probe = podman.run("--rm", "--network", "none", base, "python3", "-c", version, check=False)
    if probe.returncode != 0:
        pytest.skip(f"podman cannot run a container here: {probe.stderr.strip()}")
    return build(podman, base, wheelhouse(probe.stdout.strip()), tmp_path)


def test_the_image_built_from_the_dockerfile(
    podman: Podman, image: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    serves_the_templates_as_an_unprivileged_user_and_reports_healthy(podman, image)
    mounted_pacts_and_templates_replace_the_baked_in_ones(podman, image, tmp_path / "mounted")
    a_pact_mount_it_cannot_read_stops_it_with_one_line(podman, image, tmp_path / "unreadable")
    if os.environ.get(POSTGRES_ENV):
        migrates_postgresql_as_a_one_shot_step(podman, image, request.getfixturevalue("postgres_url"))


def serves_the_templates_as_an_unprivileged_user_and_reports_healthy(podman: Podman, image: str) -> None:
    # podman's timer for the health check needs systemd; the check is run by hand below
    network = ["--network", "slirp4netns", "--publish", "127.0.0.1::5000"]
    container = podman.run("--detach", *network, "--health-interval", "disable", image).stdout.strip()
    try:
        assert "serving http://0.0.0.0:5000" in wait_for_banner(podman, container)
        assert podman("exec", container, "id", "-u").stdout.strip() == "10001"

        assert podman("healthcheck", "run", container, check=False).returncode == 0
        assert podman.state(container, "Health.Status") == "healthy"

        address = podman("port", container, "5000/tcp").stdout.strip()
        status, job = call("POST", f"http://{address}/jobs/register", {"tags": ["container"]}, HEADERS)
        assert (status, job) == (200, {"id": 123, "userId": 456, "tags": ["container"]})

        podman("stop", "--time", "10", container)
        assert podman.state(container, "ExitCode") == "0"
        assert "pactstub: stopped" in podman("logs", container).stderr
    finally:
        podman("rm", "--force", container, check=False)


def wait_for_banner(podman: Podman, container: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logs = podman("logs", container).stdout
        if "serving" in logs:
            return logs
        time.sleep(0.2)
    raise AssertionError(f"no banner within 60 s:\n{podman('logs', container).stderr}")


def mounted_pacts_and_templates_replace_the_baked_in_ones(podman: Podman, image: str, folder: Path) -> None:
    (folder / "pacts").mkdir(parents=True)
    (folder / "templates").mkdir()
    shutil.copy(S3_PACT, folder / "pacts")
    mounts = [f"--volume={folder / name}:/srv/pactstub/{name}:ro" for name in ("pacts", "templates")]
    listed = podman.run(*ISOLATED, *mounts, image, "list-interactions", "--json")
    assert {row["pact"] for row in json.loads(listed.stdout)} == {"epx-s3"}
    assert listed.stderr == ""  # no warning about templates of a pact that is not loaded


def a_pact_mount_it_cannot_read_stops_it_with_one_line(podman: Podman, image: str, folder: Path) -> None:
    folder.mkdir(mode=0o700)  # owned by root: the image's user may not list it
    shutil.copy(EPX_PACT, folder)
    result = podman.run(*ISOLATED, f"--volume={folder}:/srv/pactstub/pacts:ro", image, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "pactstub: error: invalid pact: /srv/pactstub/pacts: $: cannot read folder: Permission denied"
    ]


def migrates_postgresql_as_a_one_shot_step(podman: Podman, image: str, postgres_url: str) -> None:
    url = sa.make_url(postgres_url)
    assert url.host in ("127.0.0.1", "localhost"), "the container reaches only the host's loopback"
    inside = url.set(host="10.0.2.2").render_as_string(hide_password=False)  # the host, seen from slirp4netns
    network = ["--network", "slirp4netns:allow_host_loopback=true"]
    environment = ["--env", f"DATABASE_URL={inside}"]
    migrated = podman.run("--rm", *network, "--no-healthcheck", *environment, image, "db", "upgrade")
    assert migrated.stdout.strip().endswith("(head)"), migrated.stdout

    current = [sys.executable, "-m", "pactstub", "db", "current", "--database-url", postgres_url]
    seen = subprocess.run(current, capture_output=True, text=True, timeout=60, check=True).stdout
    assert seen.strip().endswith("(head)")
