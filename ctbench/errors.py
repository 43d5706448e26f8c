"""The one error base class every domain error derives from.

The command line catches :class:`CtbenchError` in one place
(``ctbench.cli.main``) and prints its message as one line with exit status
2; nothing else turns errors into messages.  The core raises these and never
prints.
"""

from __future__ import annotations


class CtbenchError(Exception):
    """Something the user can fix: a bad argument, option, file or plugin.

    The message is one line, without a trailing period, that says what is
    wrong and, where it helps, what would work instead.
    """


class OutputError(CtbenchError):
    """An output file that cannot be written where it was asked for."""
