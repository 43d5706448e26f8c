"""The table under the conntrack model, and the registry of table designs.

A backend offers only what OVS's cmap offers conntrack: insert a key node,
remove it, look a key up, iterate one zone's nodes, iterate all nodes, count
them.  Flush, dump and sweep live in the model and are built from these, so
each design's cost structure shows through: iterating one zone of the single
map is a scan of every entry, exactly as ``conntrack_flush`` was before the
per-zone patch.

A node maps a key (``bytes``, :mod:`ctbench.keys`) to an ``int``: the
connection's handle for its forward key node, ``~handle`` (negative) for a
NAT connection's reverse key node, as OVS's ``conn_key_node.dir`` tells the
two apart.  The model keeps the connections themselves in columns indexed
by handle (:mod:`ctbench.model.columns`).

Backends are found through the ``ctbench.backends`` entry-point group.  The
built-in ones register there too (see pyproject.toml), so a third-party
package is a first-class citizen: it only has to declare::

    [project.entry-points."ctbench.backends"]
    my-table = "my_package.module:MyTable"

Options use one syntax for every backend, ``--backend name:key=value,...``
(:class:`BackendSpec`).  A backend that takes options defines a classmethod
``parse_options(options: dict[str, str]) -> dict[str, Any]`` that validates
the strings and returns its constructor's keyword arguments, raising
:class:`BackendError` with a one-line message for an unknown option or a bad
value (:func:`check_options` and :func:`int_option` do the usual checks).
A table reports the options it runs with, defaults included, in ``options``.

One option belongs to every backend: ``lock``, the scope of the lock that
serializes changes to the table when threads share it (:data:`LOCK_SCOPES`).
``lock=global``, the default, is OVS's one ``ct_lock``; a table that can
take a finer one lists the scopes it supports in a ``lock_scopes`` class
attribute and receives the one asked for as its constructor's
``lock_scope`` argument (see :class:`ConnTable`).  ctbench checks and
removes ``lock`` before ``parse_options`` sees the rest.  The effective
options carry ``lock`` only when it is finer than global, so that
``-b per-zone`` and ``-b per-zone:lock=global`` name one table, as every
results file written before lock scopes existed does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from itertools import chain
from typing import Any, ClassVar, Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ctbench.errors import CtbenchError
from ctbench.keys import ConnKey
from ctbench.results.run import spec_label

ENTRY_POINT_GROUP = "ctbench.backends"

# The lookup's default: no node has this value (handles are below 2**62).
MISS: Final = -(1 << 62)

# lookup(key, default) -> value or default, as dict.get.
Lookup = Callable[[ConnKey, int], int]
# reader(key) -> value, or MISS when absent: the lookup threads that share
# the table make, without a lock (ConnTable.bind_reader).
Reader = Callable[[ConnKey], int]
Insert = Callable[[ConnKey, int], None]
Remove = Callable[[ConnKey], None]
Values = npt.NDArray[np.int64]
# A table's effective options, as recorded with its results.
Options = dict[str, "str | int"]
# shard(key) -> the number of the map that holds ``key``, unique among the
# table's maps: how a table with a per-shard lock tells the model which
# lock guards a key (ConnTable.bind_shard).
Shard = Callable[[ConnKey], int]

# The lock scopes a table may declare, and how a report names each: the
# option ``lock=SCOPE``.  GLOBAL_LOCK is OVS's: lib/conntrack.c takes one
# ct_lock to create or remove any connection (docs/ovs-reference.md,
# "Threads and locks").
LOCK_OPTION: Final = "lock"
GLOBAL_LOCK: Final = "global"
ZONE_LOCK: Final = "zone"
SHARD_LOCK: Final = "shard"
LOCK_SCOPES: Final[Mapping[str, str]] = {
    GLOBAL_LOCK: "ct_lock (global)",
    ZONE_LOCK: "a lock per zone",
    SHARD_LOCK: "a lock per shard",
}


class BackendError(CtbenchError, ValueError):
    """A backend name, option or plugin that cannot be used."""


@runtime_checkable
class ConnTable(Protocol):
    """What the model needs from a table: cmap's operations, nothing more.

    ``bind(zone)`` returns the lookup / insert / remove operations for keys of
    one zone.  The model takes them once per execute so the per-packet path
    makes no extra method call, and a bulk execute calls them through
    ``map`` so that a dict-backed table, which returns its dict's own bound
    methods (``get``, ``__setitem__``, ``__delitem__``), is driven at C
    speed.  ``lookup(key, default)`` returns the node's value or
    ``default``, as ``dict.get`` does.  The returned callables must stay
    correct for as long as the caller holds them, whatever else happens to
    the table meanwhile (other bindings of the same zone, a flush, the zone
    emptying).  A thread-safe model calls bind() under its lock unless the
    class sets ``bind_creates = False`` (bind only hands out maps that
    already exist).

    When threads share the table (a thread-safe model, ``ctbench
    benchmark``), the model reads without any lock, as cmap readers do
    under RCU, and serializes inserts and removes under the table's lock
    scope (``lock_scope``, one of the class's ``lock_scopes``, the option
    ``lock``):

    - ``global`` (every table, the default): one lock, OVS's ``ct_lock``,
      for every insert and remove of the table;
    - ``zone``: one lock per zone, so inserts and removes of different
      zones run at the same time;
    - ``shard``: one lock per map; the table then offers
      ``bind_shard(zone)``, a :data:`Shard` that numbers the map holding a
      key.  A creation holds the locks of its key's map and its reverse
      key's (the model's second lookup reads both, and a NAT connection
      inserts both); a removal those of the maps it removes from.

    So a table must guarantee that:

    - a lookup running beside one insert or remove of the same map never
      fails and finds every key that stays in the map meanwhile;
    - ``zone_values``, ``values``, ``items`` and ``__len__`` running beside
      inserts and removes never fail; they may or may not see a node added
      or removed meanwhile, as a cmap walk does, but see every node that
      stays;
    - ``bind`` may be called from any thread;
    - under a finer scope, inserts and removes under different locks may
      run at the same time: whatever they share beyond their own map (a
      registry of maps, a count) must stay whole, and a table whose
      ``bind`` creates maps must make it safe beside them (the model holds
      the zone's lock and ``ct_lock`` around such a ``bind`` under the
      zone scope, ``ct_lock`` under the others).

    What stays global under a finer scope (the model's slots, expiration
    lists, counts and limits) is the model's business:
    :mod:`ctbench.model.shared`.  A table that declares only ``global``
    (the default when ``lock_scopes`` is absent) needs nothing more than
    the guarantees above.

    A table may also offer ``bind_reader(zone)``: a one-argument lookup that
    answers MISS for an absent key and takes no lock, for the threads'
    per-packet path (:data:`Reader`; :func:`reader_of` makes one from
    ``bind`` otherwise), and ``share()``, which a thread-safe model calls
    once, on the empty table, before any ``bind``.  The built-in tables keep
    plain dicts until ``share()`` and :class:`NodeMap` s after it, whose
    subscript is their reader: a dict subclass made the single-threaded
    commit 23% slower (``python -m bench.experiments.ab_model``, per-zone,
    100 zones x 10,000), so only threads pay for it.
    """

    name: ClassVar[str]
    description: ClassVar[str]

    @property
    def options(self) -> Options:
        """The options this table runs with, defaults included ({} if none)."""
        ...

    def bind(self, zone: int) -> tuple[Lookup, Insert, Remove]: ...

    def zone_values(self, zone: int) -> Values:
        """The value of every node that iterating ``zone`` visits, in
        iteration order: a design without a zone index visits (and returns)
        every node of the table; the model keeps those of ``zone``."""
        ...

    def values(self) -> Values:
        """The value of every node of the table."""
        ...

    def items(self) -> Iterable[tuple[ConnKey, int]]: ...

    def __len__(self) -> int: ...

    def container_bytes(self) -> int:
        """Bytes held by the table's own containers (not the connections)."""
        ...


class NodeMap(dict[ConnKey, int]):
    """A map of key nodes whose subscript answers :data:`MISS` for an absent
    key, so that ``map.__getitem__`` is a :data:`Reader`.

    Why not ``dict.get``: on free-threaded CPython 3.13, ``dict.get`` holds
    the dict's own lock (its Argument Clinic wrapper is a critical section,
    Objects/clinic/dictobject.c.h) and a hit cost 20-42 us a call from a
    thread other than the one that made the dict and its keys, where a
    subscript, which takes no lock, cost 70-160 ns (``python -m
    bench.experiments.free_threading_idioms`` on 3.13.15t).
    A cmap reader takes no lock either.  Single-threaded, the model still
    calls ``get``: on the GIL build it is the cheaper call.
    """

    __slots__ = ()

    def __missing__(self, key: ConnKey) -> int:
        return MISS


def reader_of(table: ConnTable, zone: int) -> Reader:
    """The table's reader for ``zone``: its own ``bind_reader``, or its
    ``bind`` lookup with MISS as the default."""
    bind_reader = getattr(table, "bind_reader", None)
    if bind_reader is not None:
        return bind_reader(zone)  # type: ignore[no-any-return]
    lookup = table.bind(zone)[0]

    def read(key: ConnKey) -> int:
        return lookup(key, MISS)

    return read


# What a walk of a dict raises when another thread changes it meanwhile
# (only on the free-threaded build, where nothing else stops that thread):
# "dictionary changed size during iteration", or a short iterator.
_CHANGED: Final = (RuntimeError, ValueError)


def _exactly(values: Iterator[int], count: int) -> Values:
    """``count`` values as an array, or ValueError if there are more or
    fewer: np.fromiter with a count drops the extra ones silently, and a
    node another thread added after the count was taken may come before
    one that stays."""
    out = np.fromiter(values, np.int64, count)
    if next(values, None) is not None:
        raise ValueError("the maps grew during the walk")
    return out


def values_of(mapping: Mapping[ConnKey, int]) -> Values:
    """A dict's values as an array: one C-level pass over its nodes.  If
    another thread changes the dict meanwhile, a copy is walked instead
    (``dict.copy`` holds the dict's lock): like a cmap walk, it sees the map
    as it was at one moment."""
    try:
        return _exactly(iter(mapping.values()), len(mapping))
    except _CHANGED:
        snapshot = dict(mapping)
        return np.fromiter(snapshot.values(), np.int64, len(snapshot))


def values_of_all(mappings: Iterable[Mapping[ConnKey, int]]) -> Values:
    """The values of several dicts, one after the other (each copied
    first if another thread changes it meanwhile, see :func:`values_of`)."""
    maps = [m for m in mappings if m]
    total = sum(map(len, maps))
    values = chain.from_iterable(m.values() for m in maps)
    try:
        return _exactly(values, total)
    except _CHANGED:
        parts = [values_of(m) for m in maps]
        return np.concatenate(parts) if parts else np.empty(0, np.int64)


def items_of_all(
    mappings: Iterable[Mapping[ConnKey, int]],
) -> list[tuple[ConnKey, int]]:
    """The nodes of several dicts, each taken in one C-level pass (a copy
    of the dict if another thread changes it meanwhile, as
    :func:`values_of`): a Python loop over a dict another thread changes
    raises "dictionary changed size during iteration"."""
    out: list[tuple[ConnKey, int]] = []
    for m in mappings:
        try:
            part = list(m.items())
        except _CHANGED:
            part = list(dict(m).items())
        out += part
    return out


@dataclass(frozen=True)
class BackendSpec:
    """A backend by name, with options: parsed from ``name:key=value,...``."""

    name: str
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return spec_label(self.name, self.options)

    @classmethod
    def parse(cls, text: str) -> BackendSpec:
        name, _, rest = text.partition(":")
        name = name.strip()
        if not name:
            raise BackendError(f"backend spec {text!r} has no name")
        options: dict[str, str] = {}
        if rest:
            for item in rest.split(","):
                key, eq, value = item.partition("=")
                if not eq or not key.strip():
                    raise BackendError(
                        f"backend option {item!r} in {text!r} is not key=value"
                    )
                if key.strip() in options:
                    raise BackendError(
                        f"backend option {key.strip()!r} repeated in {text!r}"
                    )
                options[key.strip()] = value.strip()
        return cls(name, options)


# The distribution whose entry points are the built-in backends.
OWN_DISTRIBUTION: Final = "ctbench"


@functools.cache
def registry() -> Mapping[str, Any]:
    """Entry points of the group by name; loaded once, classes imported lazily.

    A name two distributions register is resolved as :func:`shadowed` says.
    """
    return _resolve(entry_points(group=ENTRY_POINT_GROUP))[0]


def shadowed() -> dict[str, str]:
    """For each backend name two or more installed distributions register,
    one line naming them and the one used: ctbench's own if it is one of
    them (a plugin cannot silently replace a built-in that results files
    name), else the first found (first on sys.path, as an import would)."""
    return _resolve(entry_points(group=ENTRY_POINT_GROUP))[1]


def _resolve(
    found: Iterable[EntryPoint],
) -> tuple[dict[str, EntryPoint], dict[str, str]]:
    by_name: dict[str, list[EntryPoint]] = {}
    for ep in found:
        same = by_name.setdefault(ep.name, [])
        if all(_package(ep) != _package(o) or ep.value != o.value for o in same):
            same.append(ep)
    chosen = {
        name: next((ep for ep in eps if _is_own(ep)), eps[0])
        for name, eps in by_name.items()
    }
    lines = {}
    for name, eps in by_name.items():
        if len(eps) < 2:
            continue
        used = chosen[name]
        why = "the built-in" if _is_own(used) else "the first on sys.path"
        packages = " and ".join(_package(ep) for ep in eps)
        ignored = " and ".join(f"{_package(ep)}'s" for ep in eps if ep is not used)
        lines[name] = (
            f"backend {name!r} is registered by {packages}: "
            f"{_package(used)}'s is used ({why}), {ignored} ignored"
        )
    return chosen, lines


def _package(ep: EntryPoint) -> str:
    """'name version' of the distribution that declares the entry point."""
    dist = ep.dist
    if dist is None:
        return f"an unknown package ({ep.value})"
    return f"{dist.name} {dist.version}"


def _is_own(ep: EntryPoint) -> bool:
    dist = ep.dist
    name = "" if dist is None else re.sub(r"[-_.]+", "-", dist.name).lower()
    return name == OWN_DISTRIBUTION


def backend_names() -> list[str]:
    return sorted(registry())


def load_backend(name: str) -> type[ConnTable]:
    eps = registry()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise BackendError(f"unknown backend {name!r} (known: {known})")
    try:
        factory = eps[name].load()
    except Exception as exc:  # a broken plugin must not crash the CLI
        raise BackendError(f"backend {name!r} failed to load: {exc}") from exc
    for attr in ("bind", "zone_values", "values", "items", "container_bytes"):
        if not callable(getattr(factory, attr, None)):
            raise BackendError(f"backend {name!r} has no {attr}() method")
    return factory  # type: ignore[no-any-return]


def check_options(
    backend: str, options: Mapping[str, str], known: Iterable[str]
) -> None:
    """Refuse any option not in ``known``, naming the ones that exist
    (``lock``, which every backend takes, among them)."""
    known = sorted({*known, LOCK_OPTION})
    for key in sorted(options):
        if key not in known:
            accepted = ", ".join(known) if known else "none"
            raise BackendError(
                f"backend {backend!r} has no option {key!r} (options: {accepted})"
            )


def int_option(
    backend: str,
    options: Mapping[str, str],
    key: str,
    default: int,
    low: int,
    high: int,
) -> int:
    """The integer option ``key`` in ``low..high``, or ``default`` if absent."""
    text = options.get(key)
    if text is None:
        return default
    # ASCII digits only: int() would also take other scripts' digits.
    value = int(text) if text.isascii() and text.isdigit() else None
    if value is None or not low <= value <= high:
        raise BackendError(
            f"backend {backend!r}: option {key}={text!r} must be an integer "
            f"from {low} to {high}"
        )
    return value


def lock_scopes_of(factory: object) -> tuple[str, ...]:
    """The lock scopes a table class (or table) supports: its
    ``lock_scopes``, or only the global lock when it declares none."""
    return tuple(getattr(factory, "lock_scopes", (GLOBAL_LOCK,)))


def lock_scope_of(table: object) -> str:
    """The lock scope a table was built with (global unless it says)."""
    return str(getattr(table, "lock_scope", GLOBAL_LOCK))


def check_lock_scope(factory: object, scope: str) -> str:
    """``scope`` if the table class supports it, else a one-line
    BackendError naming the ones it does."""
    supported = lock_scopes_of(factory)
    if scope not in supported:
        name = getattr(factory, "name", type(factory).__name__)
        listed = ", ".join(f"lock={s}" for s in supported)
        only = " only" if len(supported) == 1 else ""
        raise BackendError(
            f"backend {name!r}: lock={scope} is not supported "
            f"({name} supports {listed}{only})"
        )
    return scope


def lock_options(scope: str) -> Options:
    """The ``lock`` entry of a table's effective options: none for the
    global lock (see the module docstring)."""
    return {} if scope == GLOBAL_LOCK else {LOCK_OPTION: scope}


def backend_kwargs(spec: BackendSpec) -> tuple[type[ConnTable], dict[str, Any]]:
    """The backend class and its validated constructor arguments.

    Lets a caller check every spec before doing any work with the first one.
    ``lock`` is checked here, against the class's ``lock_scopes``, and
    passed as ``lock_scope`` when it is finer than global.
    """
    factory = load_backend(spec.name)
    parse_options = getattr(factory, "parse_options", None)
    options = dict(spec.options)
    scope = options.pop(LOCK_OPTION, GLOBAL_LOCK)
    try:
        check_lock_scope(factory, scope)
        if parse_options is not None:
            kwargs = dict(parse_options(options))
        elif options:
            raise BackendError(
                f"backend {spec.name!r} takes no options but lock "
                f"(got {', '.join(sorted(options))})"
            )
        else:
            kwargs = {}
    except BackendError:
        raise
    except (TypeError, ValueError) as exc:
        raise BackendError(f"backend {spec.label!r}: {exc}") from exc
    if scope != GLOBAL_LOCK:
        kwargs["lock_scope"] = scope
    return factory, kwargs


def effective_options(spec: BackendSpec, table: object) -> Options:
    """What a result records of the table it ran: the spec's options, the
    table's own (defaults included) over them, and ``lock`` only when
    finer than global."""
    options: Options = {k: v for k, v in spec.options.items() if k != LOCK_OPTION}
    options.update(getattr(table, "options", {}))
    options.pop(LOCK_OPTION, None)
    options.update(lock_options(lock_scope_of(table)))
    return options


def create_table(spec: BackendSpec) -> ConnTable:
    """Instantiate a backend, turning bad options into a BackendError."""
    factory, kwargs = backend_kwargs(spec)
    try:
        return factory(**kwargs)
    except BackendError:
        raise
    except (TypeError, ValueError) as exc:
        raise BackendError(f"backend {spec.label!r}: {exc}") from exc


def describe(name: str) -> str:
    """The backend's description and the lock scopes it supports."""
    try:
        factory = load_backend(name)
    except BackendError as exc:
        return f"(unavailable: {exc})"
    scopes = "|".join(lock_scopes_of(factory))
    return f"{factory.description}; lock={scopes}"
