"""--tag KEY=VALUE: parsed, kept in the results file, shown by report,
kept or refused by merge (ctbench.results.tags)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ctbench import registry, results
from ctbench.results.tags import TagError, parse_tags, pooled_tags
from tests.helpers.cli import run_cli
from tests.helpers.paths import ROOT
from tests.helpers.run_factory import make_run, older_document

SMALL_RUN = ["benchmark-zones", "20", "2", "1", "-q", "--memory-sample", "0"]
OVSTEST_TEXT = ROOT / "tests/data/ovstest/xeon-benchmark-zones-1000-100-200.after.txt"


def test_tags_parse_as_key_value_pairs() -> None:
    assert parse_tags(["commit=abc123", "branch=main", "job="]) == {
        "commit": "abc123",
        "branch": "main",
        "job": "",
    }
    assert parse_tags(["url=a=b"]) == {"url": "a=b"}


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (["commit"], "is not KEY=VALUE"),
        (["=abc"], "must be letters, digits"),
        (["a b=c"], "must be letters, digits"),
        (["k=v", "k=w"], "given twice"),
        (["k=a\nb"], "cannot be printed"),
        ([f"k={'x' * 300}"], "longer than 200"),
    ],
)
def test_bad_tags_are_refused(given: list[str], words: str) -> None:
    with pytest.raises(TagError, match=words):
        parse_tags(given)


def test_tags_round_trip_and_older_files_have_none() -> None:
    run = make_run(n=5)
    run.tags = {"commit": "abc", "job": "17"}
    assert results.loads(results.dumps(run)).tags == run.tags
    older = older_document(json.loads(results.dumps(make_run(n=5))), 2)
    assert results.loads(json.dumps(older)).tags == {}


def test_a_file_with_bad_tags_is_refused_in_one_line() -> None:
    doc = json.loads(results.dumps(make_run(n=5)))
    doc["tags"] = {"commit": 5}
    with pytest.raises(results.ResultsError, match="'tags': tag 'commit' must have"):
        results.loads(json.dumps(doc))


def test_a_run_keeps_its_tags_and_report_shows_them(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    code, _, err = run_cli(
        *SMALL_RUN, "-b", "single", "--tag", "commit=abc", "--tag", "job=7", "-o", out
    )
    assert code == 0, err
    assert registry.load(out).tags == {"commit": "abc", "job": "7"}
    for fmt in ("patch", "table", "markdown"):
        code, text, _ = run_cli("report", out, "--format", fmt)
        assert code == 0 and "tags: commit=abc, job=7" in text


def test_a_bad_tag_is_one_line_and_exit_2_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    code, _, err = run_cli(*SMALL_RUN, "--tag", "nokey", "-o", out)
    assert code == 2
    assert err == "ctbench: error: --tag 'nokey' is not KEY=VALUE\n"
    assert not out.exists()


def test_import_ovstest_and_pcap_summary_take_tags(tmp_path: Path) -> None:
    out = tmp_path / "imported.json"
    code, _, err = run_cli(
        "import-ovstest",
        OVSTEST_TEXT,
        "--args",
        "1000 100 200",
        "--tag",
        "build=before",
        "-o",
        out,
    )
    assert code == 0, err
    assert registry.load(out).tags == {"build": "before"}
    code, _, err = run_cli("pcap", "nothing.pcap", "--tag", "a=b")
    assert code == 2 and "add --summary" in err


def _saved(tmp_path: Path, name: str, tags: dict[str, str]) -> Path:
    run = make_run(n=5)
    run.tags = tags
    path = tmp_path / name
    results.save(run, path)
    return path


def test_merge_keeps_tags_the_runs_share(tmp_path: Path) -> None:
    a = _saved(tmp_path, "a.json", {"commit": "abc", "job": "1"})
    b = _saved(tmp_path, "b.json", {"commit": "abc", "job": "1"})
    code, _, err = run_cli("merge", a, b, "-o", tmp_path / "m.json")
    assert code == 0, err
    assert registry.load(tmp_path / "m.json").tags == {"commit": "abc", "job": "1"}


def test_merge_refuses_tags_that_differ_unless_told(tmp_path: Path) -> None:
    a = _saved(tmp_path, "a.json", {"commit": "abc", "job": "1"})
    b = _saved(tmp_path, "b.json", {"commit": "abc", "job": "2"})
    out = tmp_path / "m.json"
    code, _, err = run_cli("merge", a, b, "-o", out)
    assert code == 2 and err.count("\n") == 1
    assert "cannot pool runs with different tags: job is '1' in" in err
    assert "--tag job=VALUE" in err and not out.exists()
    code, _, err = run_cli("merge", a, b, "--tag", "job=1-2", "-o", out)
    assert code == 0, err
    assert registry.load(out).tags == {"commit": "abc", "job": "1-2"}


def test_a_tag_one_run_lacks_differs() -> None:
    with pytest.raises(TagError, match="job is '1' in a, absent in b"):
        pooled_tags([("a", {"job": "1"}), ("b", {})], {})


def test_report_side_by_side_shows_each_files_tag(tmp_path: Path) -> None:
    a = _saved(tmp_path, "a.json", {"commit": "abc", "branch": "main"})
    b = _saved(tmp_path, "b.json", {"commit": "def", "branch": "main"})
    code, text, _ = run_cli("report", a, b, "--format", "table")
    assert code == 0 and "tags: branch=main, commit=abc|def" in text


SWEEP = [
    "sweep",
    "benchmark-zones",
    "--entries",
    "50,100",
    "--zones",
    "2,3",
    "--iterations",
    "2",
    "-b",
    "single",
    "-q",
]


def test_a_sweep_tags_each_point_and_its_plan_passes_the_tags_on(
    tmp_path: Path,
) -> None:
    out = tmp_path / "sweep.json"
    code, _, err = run_cli(*SWEEP, "--tag", "commit=abc", "-o", out)
    assert code == 0, err
    points = sorted((tmp_path / "sweep-points").glob("*.json"))
    assert len(points) == 4
    assert all(registry.load(p).tags == {"commit": "abc"} for p in points)
    code, text, _ = run_cli(
        *SWEEP, "--tag", "commit=abc", "--plan", "-o", tmp_path / "p.json"
    )
    assert code == 0 and text.count("--tag commit=abc") == 4
    code, _, err = run_cli("sweep", "--merge", *points, "--tag", "a=b", "-o", out)
    assert code == 2 and "--tag" in err
