"""The commands whose runs make results files: one record each.

A command is four things: a scenario module (what it does to the model,
``ctbench.scenarios``), a report module (its sections,
``ctbench.report.commands``), a CLI module (its options), and one
registration: a :class:`Command` record, named in the ``ctbench.commands``
entry-point group or handed to :func:`register`.  ctbench's own commands
are registered through that same group (``pyproject.toml``, the records in
:mod:`ctbench.commands`), as its backends are.  That is all: ``report``,
``compare``, ``merge``, ``plot`` and every format read the record, and the
``ctbench`` command line lists its CLI command.

This is the one module that checks a results file's command name:
:func:`load` and :func:`loads` pass every registered command's parameter
check to :func:`ctbench.results.load`, which knows no command itself (so
that loading a file imports neither the model nor the scenarios).

The results schema checks the types of the parameters ctbench's commands
record, whichever command records them; a new command's own parameters are
checked by its ``check_params``, and need nothing added there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Final, Generic, NamedTuple, TypeVar

from ctbench import results
from ctbench.errors import CtbenchError
from ctbench.estimate import Estimate
from ctbench.report.sections import CommandSections
from ctbench.results import Pooling, RunResult
from ctbench.results.schema import ParamsCheck
from ctbench.scenarios.harness import Progress

ENTRY_POINT_GROUP: Final = "ctbench.commands"
# The distribution whose entry points are the built-in commands: a plugin
# registering one of their names does not replace them.
OWN_DISTRIBUTION: Final = "ctbench"

# What a command runs from: its checked config (with whatever it read
# first, such as replay's captures).
C = TypeVar("C")


class Footprint(NamedTuple):
    """A run's estimated peak memory, and the connections it will store
    (which the refusal names)."""

    bytes: int
    connections: int


@dataclass(frozen=True)
class ThreadScaling:
    """What makes a threaded command's runs a scaling curve (``ctbench
    sweep COMMAND --threads 1,2,4``): the field of its config (and
    parameter of its results files) that is the thread count, and the
    throughput each backend's result records in its ``extra``: work done
    by all threads per second of the run."""

    param: str  # e.g. "n_threads"
    throughput: str  # e.g. "pps": packets of all threads / barrier-to-barrier s
    unit: str  # e.g. "packets/s"


@dataclass(frozen=True)
class Command(Generic[C]):
    """Everything ctbench needs to know of a command beyond its CLI module.

    ``run``, ``estimate`` and ``memory`` take what the CLI module built from
    its arguments (a ``config`` instance); the CLI refuses a run whose
    estimate is over an hour, or whose footprint is over the memory
    available, unless --force.
    """

    name: str  # the results files' "command" and the CLI command's name
    config: type[C]
    run: Callable[[C, Progress, Callable[[], bool]], RunResult]
    estimate: Callable[[C], Estimate]
    memory: Callable[[C], Footprint]
    # Refuses (a CtbenchError) parameters a results file recorded that the
    # command refuses as options.
    check_params: ParamsCheck
    sections: CommandSections
    # "module:attribute" of its click command: only ctbench.cli imports it.
    cli: str
    pooling: Pooling = field(default_factory=Pooling)
    # A command whose thread count a sweep grows; None for the others.
    scaling: ThreadScaling | None = None


class CommandError(CtbenchError):
    """A command that is not registered, or whose registration is broken."""


_REGISTERED: dict[str, Command[Any]] = {}
_FROM_ENTRY_POINTS: dict[str, Command[Any]] = {}


def register(record: Command[Any]) -> None:
    """Add a command while the process runs (a test, or a program that
    embeds ctbench); a name already registered is refused."""
    if record.name in _commands():
        raise CommandError(f"command {record.name!r} is registered already")
    _REGISTERED[record.name] = record


def unregister(name: str) -> None:
    """Remove a command :func:`register` added."""
    _REGISTERED.pop(name, None)


def command(name: str) -> Command[Any]:
    found = _commands().get(name)
    if found is None:
        raise CommandError(
            f"unknown command {name!r} (known: {', '.join(names()) or 'none'})"
        )
    return found


def names() -> tuple[str, ...]:
    return tuple(_commands())


def param_checks() -> dict[str, ParamsCheck]:
    """Every command a results file may name, with its parameters' check."""
    return {name: record.check_params for name, record in _commands().items()}


def sections(name: str) -> CommandSections:
    return command(name).sections


def pooling(name: str) -> Pooling:
    """A command's Pooling; figures of an unknown command pool as figures
    per run (kept where every run agrees)."""
    found = _commands().get(name)
    return found.pooling if found is not None else Pooling()


def load(path: Path) -> RunResult:
    """A results file of a registered command, its parameters checked."""
    return results.load(path, param_checks())


def loads(text: str, where: str = "results") -> RunResult:
    return results.loads(text, where, param_checks())


def pool(
    runs: Sequence[tuple[str, RunResult]], tags: Mapping[str, str] | None = None
) -> RunResult:
    """Runs of one command pooled as its record says (ctbench merge);
    ``tags`` set the pool's (:func:`ctbench.results.tags.pooled_tags`)."""
    how = pooling(runs[0][1].command) if runs else Pooling()
    return results.pool_runs(runs, how, tags or {})


def _commands() -> Mapping[str, Command[Any]]:
    if not _FROM_ENTRY_POINTS:
        _FROM_ENTRY_POINTS.update(_load_entry_points())
    return {**_FROM_ENTRY_POINTS, **_REGISTERED}


def _load_entry_points() -> dict[str, Command[Any]]:
    """Each name's record, ctbench's own first where two packages register
    one name, in the order the group lists them."""
    chosen: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in chosen or (_is_own(ep) and not _is_own(chosen[ep.name])):
            chosen[ep.name] = ep
    records = {}
    for name, ep in chosen.items():
        try:
            record = ep.load()
        except Exception as exc:  # a broken plugin must not crash the CLI
            raise CommandError(f"command {name!r} failed to load: {exc}") from exc
        if not isinstance(record, Command) or record.name != name:
            raise CommandError(
                f"command {name!r}: {ep.value} is not a Command record named {name!r}"
            )
        records[name] = record
    return records


def _is_own(ep: EntryPoint) -> bool:
    dist = ep.dist
    name = "" if dist is None else re.sub(r"[-_.]+", "-", dist.name).lower()
    return name == OWN_DISTRIBUTION
