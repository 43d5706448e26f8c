"""A backend from another package is a first-class citizen.

Installs examples/ctbench-example-backend into a temporary directory with
pip, offline (no dependencies, no build isolation, no index: the build uses
this environment's setuptools and wheel), then checks that a fresh
``ctbench backends`` lists it and that it passes the backend contract.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ctbench.backends import BackendSpec, backend_names, create_table, registry
from tests.backends.test_contract import check_contract, check_threads
from tests.helpers.cli import run_process
from tests.helpers.paths import ROOT

EXAMPLE = ROOT / "examples" / "ctbench-example-backend"
NAME = "example-chained"
MODULE = "ctbench_example_backend"


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, pip-installed into a directory of its own."""
    if importlib.util.find_spec("pip") is None:
        pytest.skip("pip is not available in this environment")
    work = tmp_path_factory.mktemp("third_party")
    # pip builds in the source tree: build a copy so the checkout stays clean.
    source = work / "src"
    shutil.copytree(
        EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info")
    )
    target = work / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return target


@pytest.fixture
def plugin_on_path(site_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The installed example visible to this process's registry, then gone."""
    monkeypatch.syspath_prepend(str(site_dir))
    registry.cache_clear()
    try:
        yield
    finally:
        monkeypatch.undo()
        registry.cache_clear()
        for module in [m for m in sys.modules if m.split(".")[0] == MODULE]:
            del sys.modules[module]


def test_is_not_installed_by_default() -> None:
    assert NAME not in backend_names()


def test_fresh_ctbench_lists_the_installed_plugin(site_dir: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(site_dir), env.get("PYTHONPATH")) if p
    )
    result = run_process("backends", env=env)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert NAME in listed
    assert "hand-written chained hash table" in listed[NAME]
    assert "single" in listed  # the built-ins are still there


@pytest.mark.usefixtures("plugin_on_path")
def test_plugin_takes_options_and_passes_the_contract() -> None:
    assert NAME in backend_names()
    assert create_table(BackendSpec.parse(f"{NAME}:buckets=8")).options == {
        "buckets": 8
    }
    # Few buckets: long chains, so collisions are exercised.
    check_contract(f"{NAME}:buckets=2", max_examples=40)


@pytest.mark.usefixtures("plugin_on_path")
def test_plugin_stays_whole_under_threads() -> None:
    """The example is thread-safe as the ConnTable protocol asks (its
    README says what that took): readers walk a bucket while a writer
    replaces it.  Two buckets: every write changes a bucket others read."""
    check_threads(f"{NAME}:buckets=2")
