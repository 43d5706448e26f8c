"""callgrind/runner.py without valgrind: the seed, the samples a run's
ordinals become, and the refusals before any work (the counted runs
themselves: tests/callgrind/test_counted_runs.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from ctbench import environment
from ctbench.callgrind.dumps import DumpError
from ctbench.callgrind.runner import (
    TIME_FIGURES,
    CallgrindError,
    child_env,
    counted,
    find_valgrind,
    hash_seed,
    import_path,
    interpreter,
)
from ctbench.results import BackendResult, PhaseResult, RunResult
from ctbench.units import ESTIMATED_CYCLES, INSTRUCTIONS
from tests.helpers.cli import run_cli


def test_the_hash_seed_is_zero_unless_the_user_set_a_number() -> None:
    assert hash_seed({}) == "0"
    assert hash_seed({"PYTHONHASHSEED": ""}) == "0"
    assert hash_seed({"PYTHONHASHSEED": "007"}) == "7"
    for bad in ("random", "-1", "4294967296", "1.5"):
        with pytest.raises(CallgrindError, match="changes the counts from run to"):
            hash_seed({"PYTHONHASHSEED": bad})


def _module(
    name: str, file: str | None = None, path: list[str] | None = None
) -> ModuleType:
    module = ModuleType(name)
    module.__file__ = file
    if path is not None:
        module.__path__ = path
    return module


def test_the_child_imports_only_from_where_the_parent_imported(
    tmp_path: Path,
) -> None:
    lib, plugins, cwd, spaced = (str(tmp_path / d) for d in "abcd")
    modules = [
        _module("os", f"{lib}/os.py"),
        _module("plugin", f"{plugins}/plugin/__init__.py"),
        _module("ns", None, [f"{spaced}/ns"]),  # a namespace package
        _module("sys"),  # built in: no file
    ]
    path = ["", cwd, plugins, lib, f"{lib}/", spaced, plugins]
    assert import_path(path, modules) == [plugins, lib, f"{lib}/", spaced]


def test_the_child_keeps_only_the_variables_that_say_how_python_runs() -> None:
    environ = {
        "SSH_CONNECTION": "10.0.0.1 51234 10.0.0.2 22",
        "PYTHONUTF8": "1",
        "_": "/usr/bin/ctbench",
        "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8",
        "PATH": "/usr/bin",
        "PYTHONPATH": "/elsewhere",
    }
    env = child_env("7", environ)
    assert list(env)[:3] == ["LANG", "LC_ALL", "PYTHONPATH"]
    assert env["PYTHONHASHSEED"] == "7" and env["PYTHONUTF8"] == "1"
    assert not {"SSH_CONNECTION", "_", "PATH"} & set(env)
    assert env["PYTHONPATH"] != "/elsewhere"


def test_the_child_is_started_as_python_when_that_is_the_same_program(
    tmp_path: Path,
) -> None:
    program = tmp_path / "python3"
    program.write_text("")
    assert interpreter(str(program)) == str(program)
    (tmp_path / "python").symlink_to(program)
    assert interpreter(str(program)) == str(tmp_path / "python")
    other = tmp_path / "other" / "python3.11"
    other.parent.mkdir()
    other.write_text("")
    (other.parent / "python").write_text("")
    assert interpreter(str(other)) == str(other)


def _child_run() -> RunResult:
    result = BackendResult(
        backend="single",
        phases={"a": PhaseResult([0.0, 2.0], {"lookups": 3}), "b": PhaseResult([1.0])},
        extra={**{key: 1.0 for key in TIME_FIGURES}, "wall_s": 9.0, "rounds": 2},
    )
    return RunResult("benchmark-zones", {}, {}, "", results=[result])


EVENTS = {"Ir": 0, "Dr": 0, "Dw": 0, "I1mr": 0, "D1mr": 0, "D1mw": 0}
COUNTS = [
    {**EVENTS, "Ir": 100, "ILmr": 0, "DLmr": 0, "DLmw": 0},
    {**EVENTS, "Ir": 200, "Dr": 10, "D1mr": 2, "ILmr": 0, "DLmr": 1, "DLmw": 0},
    {**EVENTS, "Ir": 300, "ILmr": 0, "DLmr": 0, "DLmw": 0},
]


def test_each_ordinal_becomes_its_sections_count() -> None:
    run = counted(_child_run(), COUNTS, INSTRUCTIONS, {"counter": "callgrind"})
    result = run.results[0]
    assert run.unit == "instructions" and run.counted
    assert result.phases["a"].samples == [100.0, 300.0]
    assert result.phases["b"].samples == [200.0]
    assert result.phases["a"].counters == {"lookups": 3}
    # The clock's figures are gone; the others stay.
    assert result.extra == {"wall_s": 9.0, "rounds": 2}
    assert run.harness == {"counter": "callgrind"}
    cycles = counted(_child_run(), COUNTS, ESTIMATED_CYCLES, {})
    # 210 accesses, 2 L1 misses of which 1 from RAM: 208 + 5 x 1 + 35 x 1.
    assert cycles.results[0].phases["b"].samples == [248.0]


def test_an_ordinal_without_a_count_is_refused() -> None:
    with pytest.raises(DumpError, match="single: a: section 2 was not counted"):
        counted(_child_run(), COUNTS[:2], INSTRUCTIONS, {})


def test_missing_valgrind_is_one_line_before_any_work(tmp_path: Path) -> None:
    code, out, err = run_cli(
        "benchmark-zones", "1", "1", "1", "--measure", "instructions",
        env={"PATH": str(tmp_path)},
    )  # fmt: skip
    assert code == 2 and out == ""
    assert err == (
        "ctbench: error: --measure instructions runs ctbench under valgrind, which "
        "is not on PATH: install it (Debian: apt-get install valgrind)\n"
    )


def test_a_random_hash_seed_is_refused() -> None:
    code, _, err = run_cli(
        "replay", "tests/data/captures/tcp.pcap", "--measure", "cycles",
        env={"PYTHONHASHSEED": "random"},
    )  # fmt: skip
    assert code == 2
    assert err == (
        "ctbench: error: PYTHONHASHSEED='random' changes the counts from run to "
        "run: set a number from 0 to 4294967295, or unset it (ctbench then uses 0)\n"
    )


def test_counting_more_than_one_thread_is_refused() -> None:
    code, _, err = run_cli("benchmark", "2", "10", "1", "--measure", "instructions")
    assert code == 2
    assert err.startswith(
        "ctbench: error: --measure instructions counts one thread: valgrind runs "
        "threads one at a time"
    )
    assert err.count("\n") == 1


def test_ovstest_cannot_count() -> None:
    code, _, err = run_cli(
        "benchmark-zones", "1", "1", "1", "--measure", "instructions",
        "--ovstest", "single=/bin/true",
    )  # fmt: skip
    assert code == 2
    assert (
        "cannot reproduce --measure instructions (ovstest's figures are times)" in err
    )


def test_a_free_threaded_interpreter_is_refused_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(environment, "gil_enabled", lambda: False)
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/valgrind")
    with pytest.raises(CallgrindError, match="needs a CPython with the GIL"):
        find_valgrind("instructions")
