"""ctbench backends: what is registered, and what each design costs in memory."""

from __future__ import annotations

import click

from ctbench.backends import (
    BackendError,
    BackendSpec,
    backend_kwargs,
    backend_names,
    describe,
)
from ctbench.cli.options import warn_shadowed
from ctbench.cli.types import Integer
from ctbench.memory import DEFAULT_ENTRIES, DEFAULT_ZONES, measure_backends
from ctbench.model import DEFAULT_CONN_LIMIT
from ctbench.render.memory_table import format_memory_table
from ctbench.scenarios.benchmark_zones import MAX_ENTRIES, MAX_ZONES


@click.command()
@click.option(
    "--memory",
    is_flag=True,
    help="Measure each backend's empty-table bytes and bytes per connection.",
)
@click.option(
    "--entries",
    type=Integer(1, MAX_ENTRIES),
    default=None,
    help="With --memory: connections per zone, as benchmark-zones' ENTRIES "
    f"[default: {DEFAULT_ENTRIES}].",
)
@click.option(
    "--zones",
    type=Integer(1, MAX_ZONES),
    default=None,
    help="With --memory: zones in the fill, as benchmark-zones' ZONES "
    f"[default: {DEFAULT_ZONES}].",
)
@click.option(
    "--conn-limit",
    type=Integer(min=0),
    default=None,
    help="With --memory: the table-wide connection limit, as benchmark-zones' "
    f"(0 means no limit) [default: {DEFAULT_CONN_LIMIT:,}].",
)
@click.option(
    "--backend",
    "-b",
    "specs",
    multiple=True,
    metavar="NAME[:KEY=VALUE,...]",
    help="With --memory: a backend to measure, repeatable [default: all].",
)
def backends(
    memory: bool,
    entries: int | None,
    zones: int | None,
    conn_limit: int | None,
    specs: tuple[str, ...],
) -> None:
    """List the table backends registered under the ctbench.backends entry point.

    With --memory, measure each one with tracemalloc on a sample of at most
    50,000 connections, and print its fixed and per-connection memory, and
    what benchmark-zones ENTRIES ZONES would hold: the fill clipped by the
    connection limit, as the run clips it.

    \b
    Examples:
      ctbench backends
      ctbench backends --memory --entries 1000 --zones 100
      ctbench backends --memory --backend sharded:shards=64 --backend per-zone
    """
    if memory:
        chosen = [BackendSpec.parse(s) for s in specs] or _available()
        warn_shadowed([spec.name for spec in chosen])
        rows = measure_backends(
            chosen,
            DEFAULT_ENTRIES if entries is None else entries,
            DEFAULT_ZONES if zones is None else zones,
            conn_limit=DEFAULT_CONN_LIMIT if conn_limit is None else conn_limit,
        )
        click.echo(format_memory_table(rows))
        return
    if specs or entries is not None or zones is not None or conn_limit is not None:
        raise click.UsageError(
            "--backend, --entries, --zones and --conn-limit go with --memory"
        )
    warn_shadowed()
    names = backend_names()
    width = max(map(len, names), default=0)
    for name in names:
        click.echo(f"{name:<{width}}  {describe(name)}")


def _available() -> list[BackendSpec]:
    """Every registered backend that loads; a broken plugin is skipped with
    a one-line note, as the plain listing shows it unavailable."""
    specs = []
    for name in backend_names():
        spec = BackendSpec(name)
        try:
            backend_kwargs(spec)
        except BackendError as exc:
            click.echo(f"ctbench: note: skipped: {exc}", err=True)
            continue
        specs.append(spec)
    return specs
