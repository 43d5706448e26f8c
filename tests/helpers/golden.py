"""Golden files: a text compared with its file in tests/golden, or written
there when CTBENCH_UPDATE_GOLDEN is set (then review the diff)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers.paths import GOLDEN

UPDATE_VARIABLE = "CTBENCH_UPDATE_GOLDEN"


class GoldenFiles:
    def __init__(self, folder: Path = GOLDEN, *, update: bool | None = None) -> None:
        self.folder = folder
        self.update = (
            bool(os.environ.get(UPDATE_VARIABLE)) if update is None else update
        )

    def read(self, name: str) -> str:
        return (self.folder / name).read_text()

    def check(self, name: str, text: str) -> None:
        """TEXT is the golden file NAME, byte for byte (or becomes it)."""
        if self.update:
            (self.folder / name).write_text(text)
        assert text == self.read(name)
