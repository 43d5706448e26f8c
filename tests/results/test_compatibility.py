"""ctbench/results/compatibility.py: whether two runs' timings compare."""

from __future__ import annotations

from ctbench.results.compatibility import differences
from tests.helpers.run_factory import make_run


def test_an_imported_file_without_environment_is_said_once() -> None:
    imported, ours = make_run(), make_run()
    imported.environment = {}
    imported.source = {"tool": "ovstest"}
    del imported.params["gc"]
    warnings = differences(imported, ours, ("ovs.json", "ours.json"))
    assert warnings == [
        "unknown environment: ovs.json does not say which machine or build made "
        "it, so its timings may not compare with the other's"
    ]
