"""Test plumbing for the container image: podman in storage of its own, and a base image
made without a registry.

The base image is what Debian's official image is made from: ``debootstrap --variant=minbase``
from the mirror apt uses, plus ``python3-venv``. The image's pip installs from a wheelhouse the
host's pip fills, through a ``pip.conf`` mounted into the build, so the build needs neither
network nor certificates of its own. The base and the wheelhouse are kept in ``build/deploy/``;
podman's storage lives in a temporary folder and is removed with everything in it.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import ROOT

CACHE = ROOT / "build" / "deploy"
BASE_IMAGE = "localhost/pactstub-test-base"
IMAGE = "localhost/pactstub-test"

Completed = subprocess.CompletedProcess[str]


def missing_tools() -> str | None:
    """Why the container tests cannot run here, or None when they can."""
    for tool in ("podman", "debootstrap"):
        if shutil.which(tool) is None:
            return f"needs {tool} (Debian: apt-get install podman debootstrap runc)"
    if os.geteuid() != 0:
        return "debootstrap and podman's root storage need root"
    if _debian_release() is None:
        return "the base image is made with debootstrap from a Debian host's apt mirror"
    return None


class Podman:
    """``podman`` with every file it keeps under ``home``, removed by :meth:`reset`."""

    def __init__(self, home: Path) -> None:
        folders = {name: home / name for name in ("storage", "run", "libpod", "networks", "volumes", "tmp")}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        self._env = {**os.environ, "TMPDIR": str(folders["tmp"])}
        self._global = [
            "--root", str(folders["storage"]), "--runroot", str(folders["run"]),
            "--tmpdir", str(folders["libpod"]), "--network-config-dir", str(folders["networks"]),
            "--volumepath", str(folders["volumes"]), "--events-backend", "none",
            "--storage-driver", "overlay",
        ]  # fmt: skip
        if shutil.which("runc"):  # crun refuses hosts with both cgroup v1 and v2 hierarchies
            self._global += ["--runtime", "runc"]
        # podman raises these to maxima that a sandbox may refuse; a stub needs a few thousand
        self.limits = [
            f"--ulimit={name}={value}:{value}"
            for name, limit in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC))
            for value in [min(resource.getrlimit(limit)[0], 4096)]
        ]

    def __call__(self, *args: str, check: bool = True, timeout: float = 300) -> Completed:
        command = ["podman", *self._global, *args]
        result = subprocess.run(
            command, capture_output=True, text=True, env=self._env, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def run(self, *args: str, check: bool = True) -> Completed:
        """``podman run`` within the limits this host allows."""
        return self("run", *self.limits, *args, check=check)

    def state(self, container: str, field: str) -> str:
        """A field of the container's ``State``: ``Health.Status``, ``ExitCode``, ..."""
        return self("inspect", "--format", f"{{{{.State.{field}}}}}", container).stdout.strip()

    def reset(self) -> None:
        """Remove every container, image and folder of this storage (its own networks only)."""
        self("system", "reset", "--force", check=False, timeout=120)


def _debian_release() -> tuple[str, str] | None:
    """(suite, mirror) of a Debian host, from os-release and apt's sources."""
    release = Path("/etc/os-release").read_text(encoding="utf-8") if Path("/etc/os-release").exists() else ""
    fields = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', release, re.MULTILINE))
    suite = fields.get("VERSION_CODENAME")
    if fields.get("ID") != "debian" or not suite:
        return None
    sources = Path("/etc/apt")
    texts = [p.read_text(encoding="utf-8") for p in sorted(sources.glob("sources.list.d/*.sources"))]
    for stanza in "\n\n".join(texts).split("\n\n"):  # deb822: URIs and Suites fields
        entry = dict(re.findall(r"^(\w+):\s*(.+)$", stanza, re.MULTILINE))
        if suite in entry.get("Suites", "").split() and "URIs" in entry:
            return suite, entry["URIs"].split()[0]
    one_line = sources / "sources.list"
    for line in one_line.read_text(encoding="utf-8").splitlines() if one_line.exists() else []:
        match = re.match(r"deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line)
        if match and match.group(2) == suite:
            return suite, match.group(1)
    return None


def base_image(podman: Podman) -> str:
    """A Debian image with python3 and venv, imported from the cached debootstrap tarball."""
    release = _debian_release()
    assert release is not None
    suite, mirror = release
    tarball = CACHE / f"debian-{suite}-python3-venv.tar"
    if not tarball.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as work:
            rootfs, partial = Path(work) / "rootfs", Path(work) / "rootfs.tar"
            debootstrap = ["debootstrap", "--variant=minbase", "--include=python3-venv", suite, str(rootfs)]
            _run([*debootstrap, mirror], timeout=900)
            leave_out = ["--exclude=./var/cache/apt/archives/*.deb", "--exclude=./var/lib/apt/lists/*"]
            _run(["tar", "-C", str(rootfs), *leave_out, "-cf", str(partial), "."])
            os.replace(partial, tarball)
    podman("import", str(tarball), BASE_IMAGE)
    return BASE_IMAGE


def wheelhouse(python: str) -> Path:
    """Wheels of pactstub's dependencies (and its build backend) for ``python`` ("3.11")."""
    wheels = CACHE / "wheels"
    # pip takes a pactstub wheel already in the folder for the new one, with its old dependencies
    for stale in wheels.glob("pactstub-*.whl"):
        stale.unlink()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-cache-dir", "--quiet"]
    with tempfile.TemporaryDirectory(dir=CACHE) as work:
        _run([*pip, "wheel", "--no-deps", "--wheel-dir", work, str(ROOT)])
        [own] = Path(work).glob("pactstub-*.whl")
        download = ["download", "--only-binary=:all:", "--python-version", python, "--dest", str(wheels)]
        _run([*pip, *download, str(own), "setuptools>=68", "wheel"])
    return wheels


def build(podman: Podman, base: str, wheels: Path, work: Path) -> str:
    """The Dockerfile built on ``base``, offline, pip reading ``wheels`` only."""
    pip_conf = work / "pip.conf"
    pip_conf.write_text("[global]\nno-index = true\nfind-links = /wheels\n", encoding="utf-8")
    podman(
        "build", "--format", "docker", "--network", "none", *podman.limits,
        "--volume", f"{wheels}:/wheels:ro", "--volume", f"{pip_conf}:/etc/pip.conf:ro",
        "--build-arg", f"BASE={base}", "--tag", IMAGE, "--file", str(ROOT / "Dockerfile"), str(ROOT),
        timeout=600,
    )  # fmt: skip
    return IMAGE


def _run(command: list[str], timeout: float = 300) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{command[0]} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
