"""Shell completion through the real entry point (docs/installation.md).

main() invokes the group itself rather than through click's main(), so it
must answer click's completion variable itself."""

from __future__ import annotations

from tests.helpers.cli import run_cli


def test_bash_source_prints_the_completion_script() -> None:
    result = run_cli(env={"_CTBENCH_COMPLETE": "bash_source"})
    assert result.code == 0, result.err
    assert "_ctbench_completion()" in result.out
    assert "Usage:" not in result.out


def test_completes_command_names() -> None:
    env = {
        "_CTBENCH_COMPLETE": "bash_complete",
        "COMP_WORDS": "ctbench bench",
        "COMP_CWORD": "1",
    }
    result = run_cli(env=env)
    assert result.code == 0, result.err
    assert result.out.split() == ["plain,benchmark", "plain,benchmark-zones"]


def test_completes_an_options_choices() -> None:
    env = {
        "_CTBENCH_COMPLETE": "zsh_complete",
        "COMP_WORDS": "ctbench report --format ma",
        "COMP_CWORD": "3",
    }
    result = run_cli(env=env)
    assert result.code == 0, result.err
    assert result.out.split("\n")[:3] == ["plain", "markdown", "_"]
