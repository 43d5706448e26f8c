"""The command line: parse, validate, call the core, render.  Nothing else.

Each command lives in its own module and registers on the ``cli`` group
here; a command whose runs make results files registers its record instead
(:mod:`ctbench.registry`), which names its CLI module, and the group finds it
there.
Every domain error (:class:`ctbench.errors.CtbenchError`) becomes one line on
stderr and exit status 2, in one place: :func:`main`.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO, cast

import click
from click.shell_completion import shell_complete

from ctbench import __version__, registry
from ctbench.cli.run import EXIT_INTERRUPTED, EXIT_USAGE
from ctbench.errors import CtbenchError, OutputError
from ctbench.files import writing

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports it
# click's shell completion: the shell runs `ctbench` with this set
# (docs/installation.md, "Shell completion").
COMPLETE_VAR = "_CTBENCH_COMPLETE"


class _Group(click.Group):
    """ctbench's group: the commands added here, and each registered
    command's (:mod:`ctbench.registry`), looked up by name when asked for,
    so that a command registered after this module was imported is found."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *registry.names()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in registry.names():
            found = _registered(registry.command(cmd_name))
        return found


def _registered(record: registry.Command[Any]) -> click.Command:
    """The click command a record names as "module:attribute"."""
    module, _, attribute = record.cli.partition(":")
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise registry.CommandError(
            f"command {record.name!r}: cannot load its CLI {record.cli}: {exc}"
        ) from None
    if not isinstance(found, click.Command):
        raise registry.CommandError(
            f"command {record.name!r}: {record.cli} is not a click command"
        )
    return found


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctbench")
def cli() -> None:
    """Benchmark conntrack table designs the way ovstest test-conntrack does.

    \b
    Examples:
      ctbench benchmark-zones 10000 1000 1000
      ctbench benchmark 4 33554432 32 1
    """


def _register() -> None:
    from ctbench.cli import (
        backends,
        compare,
        history,
        import_ovstest,
        merge,
        pcap,
        report,
    )

    cli.add_command(backends.backends)
    cli.add_command(report.report)
    cli.add_command(compare.compare)
    cli.add_command(history.history)
    cli.add_command(merge.merge)
    cli.add_command(pcap.pcap)
    cli.add_command(import_ovstest.import_ovstest)


_register()


def _register_growth() -> None:
    """How cost grows: sweep, and plot for its figures (and any file's)."""
    from ctbench.cli import plot, sweep

    cli.add_command(sweep.sweep)
    cli.add_command(plot.plot)


_register_growth()


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"ctbench: error: {message}", err=True)
    sys.exit(code)


class _Stdout:
    """Standard output whose failed writes (a full disk behind ``>``, EIO)
    are the one-line error of :func:`ctbench.files.writing`, exit status
    2, rather than a traceback and exit 1, which compare uses for a
    regression.  Everything else is the stream's own."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.failed = False

    def write(self, text: str) -> int:
        with self._noting_failure():
            return self._stream.write(text)

    def flush(self) -> None:
        with self._noting_failure():
            self._stream.flush()

    @contextmanager
    def _noting_failure(self) -> Iterator[None]:
        try:
            with writing("standard output"):
                yield
        except OutputError:
            self.failed = True
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _silence_stdout(stream: TextIO | None) -> None:
    """Point ``stream``'s descriptor at /dev/null: what it still buffers
    is lost anyway, and the interpreter's final flush would otherwise fail
    again ("Exception ignored on flushing sys.stdout") and turn the exit
    status into 120.  A stream with no descriptor (a test's) is left be."""
    try:
        fd = stream.fileno() if stream is not None else -1
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return
    if fd < 0:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


@contextmanager
def _guarded_stdout() -> Iterator[None]:
    stream = sys.stdout
    if stream is None:  # no standard output at all (pythonw)
        yield
        return
    guarded = _Stdout(stream)
    sys.stdout = cast(TextIO, guarded)
    try:
        yield
    finally:
        sys.stdout = stream
        if guarded.failed:  # once reported, nothing more can be written
            _silence_stdout(stream)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors, exit 2 for bad input, 130 for Ctrl-C."""
    args = sys.argv[1:] if argv is None else argv
    instruction = os.environ.get(COMPLETE_VAR)
    if instruction:
        # click's main() would answer this; make_context below does not.
        sys.exit(shell_complete(cli, {}, "ctbench", COMPLETE_VAR, instruction))
    try:
        # make_context + invoke rather than cli.main(): click's main turns a
        # broken pipe into exit status 1, which compare uses for regressions.
        # Statuses set with ctx.exit() (compare's 1 and 3) arrive as Exit.
        with _guarded_stdout(), cli.make_context("ctbench", list(args)) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "Try 'ctbench --help'.")
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        fail(exc.format_message().replace("\n", " "), exc.exit_code)
    except CtbenchError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`| head`): not an error of the run, and never
        # compare's "regression". Silence the final flush and exit as a shell
        # does for SIGPIPE.
        _silence_stdout(sys.stdout)
        sys.exit(EXIT_BROKEN_PIPE)
