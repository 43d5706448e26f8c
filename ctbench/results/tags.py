"""A run's tags: free-form labels (a commit id, a branch, a CI job
number) given as ``--tag KEY=VALUE``, kept in its results file, and by
which ``ctbench history`` may order runs (``--key``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

from ctbench.errors import CtbenchError

# A key is a word a shell passes unquoted and a CI variable can name: the
# characters of an environment variable's name, plus "." and "-".
KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9_.-]+")
# Long enough for a commit id, a branch or a URL; longer is a mistake.
MAX_TAG_CHARS: Final = 200


class TagError(CtbenchError):
    """A tag that is not KEY=VALUE, or tags that do not pool."""


def check_tag(key: object, value: object) -> str | None:
    """Why ``key`` and ``value`` are not a tag, or None when they are."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        return f"tag key {key!r} must be letters, digits, '_', '.' or '-'"
    if not isinstance(value, str):
        return f"tag {key!r} must have a string value"
    if len(key) + len(value) > MAX_TAG_CHARS:
        return f"tag {key!r} is longer than {MAX_TAG_CHARS} characters"
    if not value.isprintable():
        return f"tag {key!r} holds a character that cannot be printed"
    return None


def parse_tags(given: Iterable[str]) -> dict[str, str]:
    """``["commit=abc", "branch=main"]`` as ``{"commit": "abc", ...}``;
    TagError for one that is not KEY=VALUE or a key given twice."""
    tags: dict[str, str] = {}
    for text in given:
        key, sep, value = text.partition("=")
        if not sep:
            raise TagError(f"--tag {text!r} is not KEY=VALUE")
        problem = check_tag(key, value)
        if problem is not None:
            raise TagError(f"--tag {text!r}: {problem}")
        if key in tags:
            raise TagError(f"--tag {key!r} is given twice")
        tags[key] = value
    return tags


def tags_line(tags: Mapping[str, str]) -> str:
    """'tags: branch=main, commit=abc123' (keys sorted), or ''."""
    if not tags:
        return ""
    return "tags: " + ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def pooled_tags(
    named: Iterable[tuple[str, Mapping[str, str]]], given: Mapping[str, str]
) -> dict[str, str]:
    """The tags of runs pooled into one: those every run holds alike, then
    ``given`` (merge's --tag) over them.  A key the runs do not hold alike
    and ``given`` does not set is refused: the pool would misname some."""
    runs = list(named)
    keys = sorted({key for _, tags in runs for key in tags})
    pooled = dict(given)
    for key in keys:
        values = [(name, tags.get(key)) for name, tags in runs]
        if key in given:
            continue
        first_name, first = values[0]
        for name, value in values[1:]:
            if value != first:
                raise TagError(
                    f"cannot pool runs with different tags: {key} is "
                    f"{_shown(first)} in {first_name}, {_shown(value)} in {name}; "
                    f"say which to keep with --tag {key}=VALUE"
                )
        pooled[key] = str(first)
    return dict(sorted(pooled.items()))


def _shown(value: str | None) -> str:
    return "absent" if value is None else repr(value)
