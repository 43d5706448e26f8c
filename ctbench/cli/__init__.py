"""The command line: parse, validate, call the core, render.  Nothing else.

Each command lives in its own module and registers on the ``cli`` group here.
Every domain error becomes one line on stderr and exit status 2, in one
place: :func:`main`.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from ctbench import __version__
from ctbench.backends import BackendError
from ctbench.cli.common import EXIT_INTERRUPTED, EXIT_USAGE
from ctbench.compare import CompareError
from ctbench.results import ResultsError
from ctbench.scenarios.common import ConfigError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctbench")
def cli() -> None:
    """Benchmark conntrack table designs the way ovstest test-conntrack does.

    \b
    Examples:
      ctbench benchmark-zones 10000 1000 1000
      ctbench benchmark 4 33554432 32 1
    """


def _register() -> None:
    from ctbench.cli import backends, results, threads, zones

    cli.add_command(backends.backends)
    cli.add_command(zones.benchmark_zones)
    cli.add_command(threads.benchmark)
    cli.add_command(results.report)
    cli.add_command(results.compare)


_register()


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"ctbench: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors, exit 2 for bad input, 130 for Ctrl-C."""
    try:
        # Outside standalone mode click returns ctx.exit()'s status instead
        # of exiting: compare's 1 and 3 arrive this way.
        status = cli.main(args=argv, prog_name="ctbench", standalone_mode=False)
        if isinstance(status, int) and status:
            sys.exit(status)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        fail(exc.format_message().replace("\n", " "), exc.exit_code)
    except (BackendError, CompareError, ConfigError, ResultsError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", EXIT_INTERRUPTED)
