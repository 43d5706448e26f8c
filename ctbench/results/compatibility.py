"""Whether two runs compare: their timings do only when they come from one
machine and build and ran with the same parameters.  ``compare``,
``report``, ``sweep`` and ``merge`` all ask here."""

from __future__ import annotations

from typing import Final

from ctbench.results.run import RunResult

# Environment fields that make timings incomparable when they differ.
# Hostname and platform string are left out: CI runners change names.
ENVIRONMENT_KEYS: Final = (
    "cpu_model",
    "cpu_count",
    "python_version",
    "python_implementation",
    "gil_enabled",
    "ctbench_version",
)
# Parameters that may differ without a warning: which backends ran.
IGNORED_PARAMS: Final = ("backends",)


def show(value: object) -> str:
    """A parameter's or environment field's value, as a message shows it."""
    return repr(value) if isinstance(value, str) else str(value)


def environment_differences(
    baseline: RunResult, candidate: RunResult, names: tuple[str, str]
) -> list[str]:
    """Warnings for the environment fields that make timings incomparable:
    the two runs come from different machines or builds."""
    a_name, b_name = names
    # A file that records no environment (an imported ovstest output) is
    # said once, not field by field.
    unknown = [
        name
        for name, run in ((a_name, baseline), (b_name, candidate))
        if not any(run.environment.get(key) for key in ENVIRONMENT_KEYS)
    ]
    if unknown:
        return [
            f"unknown environment: {name} does not say which machine or build "
            "made it, so its timings may not compare with the other's"
            for name in unknown
        ]
    env_a, env_b = machine(baseline), machine(candidate)
    return [
        f"different environment: {key} is {show(env_a[key])} in "
        f"{a_name} but {show(env_b[key])} in {b_name}"
        for key in ENVIRONMENT_KEYS
        if env_a[key] != env_b[key]
    ]


def machine(run: RunResult) -> dict[str, object]:
    """The fields of ENVIRONMENT_KEYS a run recorded (None where it did not)."""
    version = run.environment.get("ctbench_version") or run.tool_version or None
    env = {**run.environment, "ctbench_version": version}
    return {key: env.get(key) for key in ENVIRONMENT_KEYS}


def differences(
    baseline: RunResult, candidate: RunResult, names: tuple[str, str]
) -> list[str]:
    """Warnings for environments and parameters that differ (backends aside)."""
    out = environment_differences(baseline, candidate, names)
    a_name, b_name = names
    for key in sorted(set(baseline.params) | set(candidate.params)):
        if key in IGNORED_PARAMS:
            continue
        if any(run.source and key not in run.params for run in (baseline, candidate)):
            continue  # an imported output has no such setting (ovstest's gc)
        if baseline.params.get(key) != candidate.params.get(key):
            out.append(
                f"different parameters: {key} is {show(baseline.params.get(key))} "
                f"in {a_name} but {show(candidate.params.get(key))} in {b_name}"
            )
    for name, run in ((a_name, baseline), (b_name, candidate)):
        if not run.complete:
            out.append(f"{name} is an incomplete (interrupted) run")
    return out
