"""``python -m ctbench`` and the ``ctbench`` console script."""

import sys


def run() -> None:
    # Importing click, rich and numpy takes a moment: a Ctrl-C then must not
    # print a traceback either.
    try:
        from ctbench.cli import main
    except KeyboardInterrupt:
        sys.exit(130)
    main()


if __name__ == "__main__":
    run()
