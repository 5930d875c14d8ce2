"""The two locks: requirements.lock is what production installs (`make run`), requirements-dev.lock adds the
emulator, the tests and the tools. Production must not carry what only the tests or the emulator need, and
every line of both is an exact pin, so an install is the same everywhere."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9._,-]+\])?==(?P<version>[A-Za-z0-9.+!_-]+)$"
)

# Needed only by the tests, the emulator or the tools; never by gunicorn + dashboard.wsgi.
DEV_ONLY = {
    "starlette",
    "uvicorn",
    "pytest",
    "playwright",
    "hypothesis",
    "schemathesis",
    "ruff",
    "mypy",
    "mutmut",
    "fastpix-python",
}


def _lines(name: str) -> list[str]:
    lines = (line.split(" #", 1)[0].strip() for line in (ROOT / name).read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _pinned(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in _lines(name):
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def _project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_line_of_the_runtime_lock_is_pinned_exactly() -> None:
    lines = _lines("requirements.lock")
    assert lines
    assert [line for line in lines if not PIN.match(line)] == []


def test_the_dev_lock_builds_on_the_runtime_lock_and_pins_everything_else_exactly() -> None:
    lines = _lines("requirements-dev.lock")
    assert lines[0] == "-r requirements.lock"
    assert [line for line in lines[1:] if not PIN.match(line)] == []


def test_production_installs_nothing_only_the_tests_or_the_emulator_need() -> None:
    runtime = set(_pinned("requirements.lock"))
    dev_only = {name for name in runtime if name in DEV_ONLY or name.startswith("pytest-")}
    assert dev_only == set()


def test_no_package_is_pinned_in_both_locks() -> None:
    assert set(_pinned("requirements.lock")) & set(_pinned("requirements-dev.lock")) == set()


def test_each_lock_pins_what_pyproject_declares_for_it() -> None:
    project = _project()
    runtime = _pinned("requirements.lock")
    dev = _pinned("requirements-dev.lock")
    declared_runtime = {
        canonicalize_name(Requirement(dep).name) for dep in project["project"]["dependencies"]
    }
    declared_dev = {
        canonicalize_name(Requirement(dep).name)
        for group in project["dependency-groups"].values()
        for dep in group
        if isinstance(dep, str)
    }
    assert declared_runtime - set(runtime) == set()
    assert declared_dev - set(dev) == set()
    assert declared_runtime & DEV_ONLY == set()
