"""Running the CLI's real entry point in-process, exit status included."""

from __future__ import annotations

import pytest

from ctbench.cli import main


def run_main(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``ctbench ARGS`` through main()."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
        raise SystemExit(0)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out, err
