"""ctbench import-ovstest, and what report and compare make of its files."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ctbench import results
from ctbench.ovstest.parse import MAX_TEXT_BYTES, text_of
from tests.helpers.cli import CliResult, assert_one_line_error, run_cli
from tests.helpers.paths import OVSTEST_DATA

PATCH = OVSTEST_DATA / "conntrack-key-by-zone.patch.txt"
OUTPUTS = sorted(OVSTEST_DATA.glob("*-benchmark*.txt"))


def _args_of(path: Path) -> str:
    """'xeon-benchmark-zones-10000-1000-100.after.txt' -> '10000 1000 100'."""
    return " ".join(re.findall(r"-(\d+)", path.name.split(".")[0]))


@pytest.mark.parametrize("path", OUTPUTS, ids=lambda p: p.name)
def test_every_real_output_imports(tmp_path: Path, path: Path) -> None:
    out = tmp_path / "run.json"
    label = "per-zone" if ".after" in path.name else "single"
    code, text, err = run_cli(
        "import-ovstest", path, "--args", _args_of(path), "--label", label, "-o", out
    )
    assert code == 0, err
    assert f"results written to {out}" in err
    run = results.load(out)
    assert run.source["tool"] == "ovstest"
    assert "EWMA" in run.source["estimators"]["Avg"]
    assert "P-square" in run.source["estimators"]["95%ile"]
    (result,) = run.results
    assert result.label == label
    assert all(p.summary is not None and not p.samples for p in result.phases.values())
    args = [int(a) for a in _args_of(path).split()]
    if "zones" in path.name:
        assert run.command == "benchmark-zones"
        assert [run.params[k] for k in ("entries", "zones", "iterations")] == args
        assert set(result.phases) == {
            "ct_execute_commit",
            "ct_execute_no_commit",
            "flush_full_zone",
            "flush_empty_zone",
        }
        summary = result.phases["ct_execute_commit"].summary
        assert summary is not None and summary.count == args[2]
        assert f" {label} |" in text and "OVS Avg" in text
    else:
        assert run.command == "benchmark"
        assert run.params["n_threads"] == args[0]
        ms = int(path.read_text().split()[1])
        assert result.extra["wall_ms"] == ms
        assert f"{label}: conntrack:  {ms:5d} ms" in text


@pytest.mark.parametrize(
    ("table", "args", "with_commit_min"),
    [("1", (10000, 1000, 1000), 2266.0), ("2", (1000, 10000, 1000), 215.0)],
)
def test_both_tables_of_the_patch_import(
    tmp_path: Path, table: str, args: tuple[int, ...], with_commit_min: float
) -> None:
    out = tmp_path / "patch.json"
    code, text, err = run_cli("import-ovstest", PATCH, "--table", table, "-o", out)
    assert code == 0, err
    run = results.load(out)
    assert (
        run.params["entries"],
        run.params["zones"],
        run.params["iterations"],
    ) == args
    assert [r.label for r in run.results] == ["per-zone", "single"]
    assert [r.extra["source"]["row"] for r in run.results] == [
        "with commit",
        "without commit",
    ]
    summary = run.results[0].phases["ct_execute_commit"].summary
    assert summary is not None and summary.min == with_commit_min
    assert "the row 'without commit'" in text


def test_the_patch_without_table_lists_its_runs() -> None:
    err = assert_one_line_error(
        run_cli("import-ovstest", PATCH, "-o", "/tmp/never.json")
    )
    assert "holds 2 runs (1 = benchmark-zones 10000 1000 1000; " in err
    assert "--table N" in err


def test_stdin_and_two_printed_tables_make_one_run(tmp_path: Path) -> None:
    before = (OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.before.txt").read_text()
    after = (OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.after.txt").read_text()
    text = f"> before:\n{_quote(before)}\n> after:\n{_quote(after)}\n"
    out = tmp_path / "run.json"
    from click.testing import CliRunner

    from ctbench.cli import cli

    result = CliRunner().invoke(
        cli,
        [
            "import-ovstest",
            "-",
            "--args",
            "1000 100 200",
            "--label",
            "single",
            "--label",
            "per-zone",
            "-o",
            str(out),
        ],
        input=text,
    )
    assert result.exit_code == 0, result.output
    run = results.load(out)
    assert [r.label for r in run.results] == ["single", "per-zone"]
    assert run.results[0].extra["source"]["imported_from"] == "stdin"


def _quote(text: str) -> str:
    return "\n".join(f">   {line}" for line in text.splitlines())


def test_report_shows_imported_tables_beside_a_ctbench_run(tmp_path: Path) -> None:
    run_file, imported = tmp_path / "ctbench.json", tmp_path / "patch.json"
    code, _, err = run_cli(
        "benchmark-zones", "50", "3", "2", "-q", "--memory-sample", "0", "-o", run_file
    )
    assert code == 0, err
    assert run_cli("import-ovstest", PATCH, "--table", "1", "-o", imported).code == 0
    code, text, err = run_cli("report", run_file, imported, "--format", "patch")
    assert code == 0, err
    for label in ("ctbench.json:single", "patch.json:per-zone", "patch.json:single"):
        assert f" {label} |" in text
    # The estimators are named where the columns sit side by side.
    assert "Avg = arithmetic mean" in text
    assert "its Avg (an EWMA, weight 0.01, not a mean) in OVS Avg" in text
    assert "(a P-square estimate) is in OVS 95%ile" in text
    # Files side by side compare each ctbench backend's means with the same
    # table's in another file, never with ovstest's (which has no samples):
    # here there is nothing to compare.
    assert "Comparing the averages" not in text
    code, table, _ = run_cli("report", run_file, imported, "--format", "table")
    assert code == 0 and "in ovs_ewma" in table
    code, doc, _ = run_cli("report", imported, "--format", "json")
    assert json.loads(doc)["results"][0]["phases"]["ct_execute_commit"]["summary_only"]


def test_compare_of_summaries_gives_ratios_and_no_verdict(tmp_path: Path) -> None:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    for path, name in (
        (before, "xeon-benchmark-zones-10000-1000-100.before.txt"),
        (after, "xeon-benchmark-zones-10000-1000-100.after.txt"),
    ):
        code, _, err = run_cli(
            "import-ovstest",
            OVSTEST_DATA / name,
            "--args",
            "10000 1000 100",
            "-o",
            path,
        )
        assert code == 0, err
    code, text, err = run_cli("compare", before, after)
    assert code == 0, err
    assert "Summary-only rows" in text
    assert "Avg (EWMA) ratio" in text and "95%ile (P-square) ratio" in text
    # flush full zone: Min 124049 -> 1351.
    assert re.search(r"flush full zone\s+ovstest\s+1/1\s+124049\s+1351\s+0\.011", text)
    assert "no interval" in text and "no verdict" in text
    assert "NO VERDICT: summaries only" in text
    for word in ("slower", "faster", "unchanged", "OK: no regression"):
        assert word not in text.split("NO VERDICT")[1]
    assert run_cli("compare", before, after, "--strict").code == 3
    code, doc, _ = run_cli("compare", before, after, "--format", "json")
    parsed = json.loads(doc)
    assert parsed["rows"] == [] and len(parsed["summary_rows"]) == 4
    code, md, _ = run_cli("compare", before, after, "--format", "markdown")
    assert code == 0 and "Summary-only rows" in md


def test_compare_a_ctbench_run_with_an_import_of_the_same_label(tmp_path: Path) -> None:
    run_file, imported = tmp_path / "ctbench.json", tmp_path / "ovstest.json"
    assert (
        run_cli(
            "benchmark-zones",
            "50",
            "3",
            "2",
            "-q",
            "--memory-sample",
            "0",
            "-b",
            "single",
            "-o",
            run_file,
        ).code
        == 0
    )
    assert (
        run_cli(
            "import-ovstest",
            OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.before.txt",
            "--args",
            "1000 100 200",
            "--label",
            "single",
            "-o",
            imported,
        ).code
        == 0
    )
    code, text, err = run_cli("compare", imported, run_file)
    assert code == 0, err
    assert re.search(r"ct execute \(commit\)\s+single\s+1/1\s+343\s", text)
    assert "different parameters" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [OVSTEST_DATA / "xeon-benchmark-1-1000000-32.after.txt"],
            'give them with --args "N_THREADS',
        ),
        (
            [
                OVSTEST_DATA / "amd-benchmark-zones-10000-1000-100.after.txt",
                "--args",
                "1 2",
            ],
            "must be 3 whole numbers",
        ),
        (
            [
                OVSTEST_DATA / "amd-benchmark-zones-10000-1000-100.after.txt",
                "--args",
                "1 x 3",
            ],
            "must be 3 whole numbers",
        ),
        (
            [
                OVSTEST_DATA / "amd-benchmark-zones-10000-1000-100.after.txt",
                "--args",
                "0 10 30",
            ],
            "ovstest benchmark-zones 0 10 30 (from --args): ENTRIES must be between "
            "1 and 2^32-1 (got 0)",
        ),
        (
            [
                OVSTEST_DATA / "amd-benchmark-zones-10000-1000-100.after.txt",
                "--args",
                "9 70000 3",
            ],
            "ZONES must be between 1 and 65534 (got 70000)",
        ),
        (
            [
                OVSTEST_DATA / "amd-benchmark-zones-10000-1000-100.after.txt",
                "--args",
                f"{10**23} 10 30",
            ],
            "ENTRIES must be between 1 and 2^32-1",
        ),
        (
            [
                OVSTEST_DATA / "xeon-benchmark-1-1000000-32.after.txt",
                "--args",
                "1 1000 64",
            ],
            "BATCH_SIZE must be between 1 and 32 (NETDEV_MAX_BURST) (got 64)",
        ),
        ([PATCH, "--table", "1", "--args", "1 2 3"], "differ from the text's"),
        ([PATCH, "--table", "3"], "--table must be from 1 to 2"),
        ([PATCH, "--table", "1", "--label", "x"], "1 --label given for 0"),
        ([PATCH, "--table", "1", "--command", "benchmark"], "not benchmark's"),
        ([OVSTEST_DATA / "README.md"], "no ovstest output found"),
        ([OVSTEST_DATA / "missing.txt"], "cannot read"),
        ([OVSTEST_DATA], "is a directory"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    tmp_path: Path, args: list[object], message: str
) -> None:
    out = tmp_path / "out.json"
    err = assert_one_line_error(run_cli("import-ovstest", *args, "-o", out))
    assert message in err
    assert not out.exists()


def test_arguments_on_the_texts_command_line_are_checked(tmp_path: Path) -> None:
    text = tmp_path / "bench.txt"
    text.write_text(
        "$ ovstest test-conntrack benchmark 70000 1000 32\nconntrack:  5 ms\n"
    )
    err = assert_one_line_error(
        run_cli("import-ovstest", text, "-o", tmp_path / "out.json")
    )
    assert (
        "ovstest benchmark 70000 1000 32 (from the text's command line): "
        "N_THREADS must be at most 65535"
    ) in err


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\xff\xfe\x00garbage")
    err = assert_one_line_error(
        run_cli("import-ovstest", junk, "-o", tmp_path / "out.json")
    )
    assert "not UTF-8 text" in err


def test_a_truncated_table_is_refused_with_its_line(tmp_path: Path) -> None:
    cut = tmp_path / "cut.txt"
    text = (OVSTEST_DATA / "xeon-benchmark-zones-1000-100-200.after.txt").read_text()
    cut.write_text("\n".join(text.splitlines()[:-1]) + "\n")
    err = assert_one_line_error(
        run_cli("import-ovstest", cut, "--args", "1 2 3", "-o", tmp_path / "o.json")
    )
    assert "without its Avg row (cut short?)" in err


class _Stream(io.RawIOBase):
    """``total`` bytes of "x", counting what was read; Ctrl-C at the read
    ``interrupt_at`` (1 = the first), if given."""

    def __init__(self, total: int, interrupt_at: int | None = None) -> None:
        self.left, self.given, self.reads = total, 0, 0
        self.interrupt_at = interrupt_at

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        if self.reads == self.interrupt_at:
            raise KeyboardInterrupt
        n = min(len(buffer), self.left)
        buffer[:n] = b"x" * n
        self.left -= n
        self.given += n
        return n


def _import_from(stream: _Stream, out: Path) -> CliResult:
    from click.testing import CliRunner

    from ctbench.cli import main

    runner = CliRunner()
    with runner.isolation(input=io.BufferedReader(stream)) as (stdout, err, _):
        try:
            main(["import-ovstest", "-", "--args", "1 1 1", "-o", str(out)])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        return CliResult(code, stdout.getvalue().decode(), err.getvalue().decode())


def test_stdin_beyond_the_cap_is_refused_naming_it(tmp_path: Path) -> None:
    stream = _Stream(MAX_TEXT_BYTES + 4 * 2**20)
    err = assert_one_line_error(_import_from(stream, tmp_path / "out.json"))
    assert "stdin: more than 16 MiB, the most import-ovstest reads" in err
    # Read no further than the cap and a chunk.
    assert stream.given <= MAX_TEXT_BYTES + 2**17


def test_a_file_beyond_the_cap_is_refused_naming_it(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (MAX_TEXT_BYTES + 1))
    err = assert_one_line_error(
        run_cli("import-ovstest", big, "-o", tmp_path / "out.json")
    )
    assert f"{big}: more than 16 MiB, the most import-ovstest reads" in err


def test_text_at_the_cap_is_read() -> None:
    text = text_of(b"conntrack: 5 ms\n".ljust(MAX_TEXT_BYTES), "stdin")
    assert len(text) == MAX_TEXT_BYTES


def test_ctrl_c_while_reading_stdin_is_one_line(tmp_path: Path) -> None:
    stream = _Stream(MAX_TEXT_BYTES, interrupt_at=3)
    err = assert_one_line_error(_import_from(stream, tmp_path / "out.json"), status=130)
    assert err == "ctbench: error: interrupted\n"
    assert not (tmp_path / "out.json").exists()
