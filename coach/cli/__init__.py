"""The ``coach`` command line: one module per subcommand, found automatically.

Every module in this package that defines ``register(subparsers)`` adds its subcommand and sets
``handler`` (a function taking the parsed arguments and returning an exit code) with
``parser.set_defaults(handler=...)``. User errors are ``CoachError``: printed as one line,
exit code 2. Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

from coach import __version__
from coach.cli.options import check_model_options
from coach.errors import CoachError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered subcommand."""
    parser = argparse.ArgumentParser(
        prog="coach",
        description="Camera-based posture and movement coach for qigong and yoga.",
    )
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="coach: %(message)s")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        check_model_options(args)
        return int(handler(args) or 0)
    except CoachError as exc:
        print(f"coach: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("coach: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``coach references list | head``): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
