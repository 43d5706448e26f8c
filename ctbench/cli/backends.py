"""ctbench backends: what is registered."""

from __future__ import annotations

import click

from ctbench.backends import backend_names, describe


@click.command()
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
