"""The command line: parse, validate, call the core, render.  Nothing else.

Every domain error becomes one line on stderr and exit status 2 (click's
usage-error status), in one place: :func:`main`.
"""

from __future__ import annotations

import sys

import click

from ctbench import __version__
from ctbench.backends import BackendError, backend_names, describe


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctbench")
def cli() -> None:
    """Benchmark conntrack table designs the way ovstest test-conntrack does.

    \b
    Example:
      ctbench benchmark-zones 10000 1000 1000
    """


@cli.command()
def backends() -> None:
    """List the table backends registered under the ctbench.backends entry point.

    \b
    Example:
      ctbench backends
    """
    names = backend_names()
    width = max(map(len, names), default=0)
    for name in names:
        click.echo(f"{name:<{width}}  {describe(name)}")


def main() -> None:
    try:
        cli.main(standalone_mode=True)
    except BackendError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
