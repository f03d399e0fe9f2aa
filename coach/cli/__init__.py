"""The ``coach`` command line: one module per subcommand, found automatically.

Every module in this package that defines ``register(subparsers)`` adds its subcommand and sets
``handler`` (a function taking the parsed arguments and returning an exit code) with
``parser.set_defaults(handler=...)``. User errors are ``CoachError``: printed as one line,
exit code 2. Ctrl-C exits with 130. Anything else that escapes a command is a fault of coach's,
not the user's: one line naming the input and the error, exit code 3, and the traceback only
with ``--debug`` (or ``COACH_DEBUG=1``). Every line printed from an error is stripped of control
characters, since messages quote names and text from files. Files are written atomically, so
a command stopped by any error leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
import traceback

from coach import __version__
from coach.cli.options import check_model_options
from coach.errors import CoachError
from coach.text import printable

EXIT_USER_ERROR = 2
#: Exit code of an unexpected error (a fault in coach, reported with the input it was reading).
EXIT_UNEXPECTED = 3
EXIT_INTERRUPTED = 130
#: Set to 1 for tracebacks of unexpected errors, like ``--debug``.
DEBUG_ENV = "COACH_DEBUG"
#: The arguments that name what a command reads, in the order they are looked for.
_INPUT_ARGS = ("input", "inputs", "source", "path", "exercise", "name", "db")
#: Longest error line printed, in characters.
MAX_ERROR_CHARS = 400


class _PrintableFormatter(logging.Formatter):
    """Log lines without control characters: log messages quote names from files."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), keep_newlines=True)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every discovered subcommand."""
    parser = argparse.ArgumentParser(
        prog="coach",
        description="Camera-based posture and movement coach for qigong and yoga.",
    )
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an unexpected error (a fault in coach)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def _input_named(args: argparse.Namespace) -> str:
    """What the command was reading, for the line reporting an unexpected error."""
    for name in _INPUT_ARGS:
        value = getattr(args, name, None)
        if isinstance(value, list | tuple):
            value = " ".join(str(v) for v in value[:3]) + (" ..." if len(value) > 3 else "")
        if value not in (None, "", []):
            return str(value)
    return str(getattr(args, "command", None) or "coach")


def _one_line(text: str) -> str:
    line = printable(text.strip().splitlines()[0] if text.strip() else "")
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler_out = logging.StreamHandler()
    handler_out.setFormatter(_PrintableFormatter("coach: %(message)s"))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        handlers=[handler_out])
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        check_model_options(args)
        return int(handler(args) or 0)
    except CoachError as exc:
        print(f"coach: error: {_one_line(str(exc)) or type(exc).__name__}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("coach: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``coach references list | head``): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the one guard: a fault of coach's, in one line
        if args.debug or os.environ.get(DEBUG_ENV) == "1":
            traceback.print_exc()
        reason = _one_line(str(exc))
        what = "out of memory" if isinstance(exc, MemoryError) else type(exc).__name__
        print(f"coach: error: {_one_line(_input_named(args))}: unexpected error ({what}"
              f"{': ' + reason if reason else ''}); run again with --debug for the traceback "
              "and report it", file=sys.stderr)
        return EXIT_UNEXPECTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
