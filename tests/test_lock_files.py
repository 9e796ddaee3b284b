"""The lock files the Docker image and CI install from (`make lock`) are complete and
current: every dependency of pyproject.toml is pinned there, within its range, by hash."""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(line) for line in PROJECT["dependencies"]]
DEV = [Requirement(line) for line in PROJECT["optional-dependencies"]["dev"]]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def read_lock(name: str) -> dict[str, tuple[str, list[str]]]:
    """{package: (version, hashes)} of a `uv pip compile --generate-hashes` file."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = None
    for raw in (ROOT / "requirements" / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match[1])
            pins[current] = (match[2], [])
        elif line.startswith("--hash=") and current is not None:
            pins[current][1].append(line.removeprefix("--hash=").rstrip(" \\"))
        else:
            pytest.fail(f"unexpected line in requirements/{name}: {raw!r}")
    return pins


@pytest.mark.parametrize(
    ("lock", "requirements"), [("lock.txt", RUNTIME), ("dev-lock.txt", RUNTIME + DEV)]
)
def test_every_dependency_is_pinned_by_hash_within_its_range(lock, requirements):
    pins = read_lock(lock)
    stale = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in pins:
            stale.append(f"{requirement.name} missing")
            continue
        version, _hashes = pins[name]
        if not requirement.specifier.contains(version, prereleases=True):
            stale.append(f"{requirement.name}=={version} outside {requirement.specifier}")
    assert stale == [], f"requirements/{lock} is stale ({stale}): run `make lock`"


@pytest.mark.parametrize("lock", ["lock.txt", "dev-lock.txt"])
def test_every_pinned_package_has_hashes(lock):
    # pip --require-hashes refuses the whole file when a single pin lacks one.
    unhashed = [name for name, (_v, hashes) in read_lock(lock).items() if not hashes]
    assert unhashed == []
    assert all(h.startswith("sha256:") for _v, hashes in read_lock(lock).values() for h in hashes)


def test_the_runtime_lock_holds_no_dev_tools():
    runtime = read_lock("lock.txt")
    assert not {"pytest", "ruff", "playwright"} & set(runtime)


def test_the_docker_image_and_ci_install_from_the_locks():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements/lock.txt" in dockerfile
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"export LOCKED=1\n(.*\n)*?make install", ci)
