"""Run the generated cases through the real ``coach`` command and count what went wrong.

Every case runs in a subprocess in a fresh sandbox (``in/`` the inputs, ``out/`` the only
place it may write and its working folder, ``lib/`` the instructor's library, ``home/`` its
home and data folders, ``tmp/`` its temp folder). A subprocess is either a fork of this
process calling ``coach.cli.main`` (the console script's own entry point; fast, the default)
or an exec of the installed ``coach`` script (``--exec``). What is counted:

- traceback: a Python traceback on stderr, exit code 3 (the CLI's guard caught an
  unexpected error) or death by a signal;
- hang: still running after the case's time limit (then killed);
- memory blow-up: peak resident memory above ``MEMORY_BOUND_MB``, or a MemoryError;
- write outside the output folder: any change under ``in/``, ``home/`` or ``tmp/``, or under
  ``lib/`` when the command refused (the library and databases are unchanged after a refusal);
- half-written: a hidden temp file left in ``out/``;
- not one line: a refusal whose stderr does not hold exactly one error line naming the file
  (or the option), or a refusal with exit code 0.

    python -m tests.fuzz.runner              # every case (make fuzz)
    python -m tests.fuzz.runner --quick      # a sample of every kind (make test runs this)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.generators import Case, Content, Fifo, Folder, Link, Sparse, all_cases, quick_cases

#: Peak resident memory a command may use on a hostile input, in MB. The pose model with a
#: video takes 400-550 MB (README, batch bench); a reader that allocated what a hostile header
#: claims would take gigabytes.
MEMORY_BOUND_MB = 1536
#: Address space a case may reserve, in bytes: a safety net for the machine, far above the
#: bound (the model's runtime reserves more address space than it uses).
ADDRESS_SPACE_LIMIT = 12 * 1024**3
#: Seconds a case may run: commands that run the pose model start it (about a second) and
#: read at most a short clip.
TIMEOUT_S, MODEL_TIMEOUT_S, BATCH_TIMEOUT_S = 30.0, 90.0, 240.0
COACH = str(Path(sys.executable).with_name("coach"))
ERROR_LINE = re.compile(r"^coach(?: [a-z]+)*: error: ")
PROBLEMS = ("traceback", "hang", "memory", "outside", "half-written", "not one line")


@dataclass
class Outcome:
    """What one case did, and the problems found."""

    case: Case
    code: int | None
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    problems: list[str] = field(default_factory=list)
    detail: str = ""


# -- sandboxes --------------------------------------------------------------------------------


def _lay_out(root: Path, files: dict[str, Content]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes | str):
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        elif isinstance(content, Fifo):
            os.mkfifo(path)
        elif isinstance(content, Link):
            path.symlink_to(content.target)
        elif isinstance(content, Sparse):
            with open(path, "wb") as handle:
                handle.truncate(content.size)
        elif isinstance(content, Folder):
            path.mkdir()


def _snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under ``root`` but ``skip``: (mode, size, mtime) by relative path."""
    seen: dict[str, tuple[int, int, int]] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == skip:
            dirs[:] = []
            continue
        for name in dirs + files:
            path = here / name
            if path == skip:
                continue
            info = path.lstat()
            if stat.S_ISDIR(info.st_mode):  # a folder's own times change with temp files
                seen[str(path.relative_to(root))] = (info.st_mode, 0, 0)
            else:
                seen[str(path.relative_to(root))] = (info.st_mode, info.st_size,
                                                     info.st_mtime_ns)
    return seen


@dataclass
class Sandbox:
    root: Path

    def __post_init__(self) -> None:
        for name in ("in", "out", "lib", "home", "tmp"):
            (self.root / name).mkdir(parents=True)

    def path(self, name: str) -> Path:
        return self.root / name

    def argv(self, case: Case) -> list[str]:
        return [a.replace("{in}", str(self.path("in"))).replace("{out}", str(self.path("out")))
                .replace("{lib}", str(self.path("lib"))) for a in case.argv]

    def env(self, cache: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("COACH_", "XDG_")) and k not in ("HOME", "TMPDIR")}
        env.update(HOME=str(self.path("home")), XDG_DATA_HOME=str(self.path("home") / "data"),
                   TMPDIR=str(self.path("tmp")), COACH_LIBRARY=str(self.path("lib")),
                   COACH_DB=str(self.path("out") / "history.sqlite3"),
                   MPLCONFIGDIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
        return env


# -- running ----------------------------------------------------------------------------------


class Running:
    """One case's subprocess."""

    def __init__(self, case: Case, sandbox: Sandbox, cache: Path, use_exec: bool) -> None:
        self.case, self.sandbox = case, sandbox
        _lay_out(sandbox.path("in"), case.files)
        _lay_out(sandbox.path("lib"), case.library)
        self.before = _snapshot(sandbox.root, sandbox.path("out"))
        self.stdout_path = sandbox.root / "stdout.txt"
        self.stderr_path = sandbox.root / "stderr.txt"
        self.limit = (BATCH_TIMEOUT_S if case.kind == "batch"
                      else MODEL_TIMEOUT_S if case.model else TIMEOUT_S)
        argv, env, cwd = sandbox.argv(case), sandbox.env(cache), sandbox.path("out")
        self.started = time.monotonic()
        sys.stdout.flush()
        sys.stderr.flush()
        if use_exec:
            with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
                # Kept referenced: a Popen dropped while its process runs is reaped by the
                # next Popen, and this runner reaps it itself (os.wait4, for its memory).
                self.process = subprocess.Popen(
                    [COACH, *argv], stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                    cwd=cwd, start_new_session=True,
                    preexec_fn=_limit_memory)  # noqa: PLW1509 - resource limit only
                self.pid = self.process.pid
        else:
            self.pid = os.fork()
            if self.pid == 0:
                _child(argv, env, cwd, self.stdout_path, self.stderr_path)
        self.status: int | None = None
        self.usage: resource.struct_rusage | None = None
        self.timed_out = False

    def poll(self) -> bool:
        """True once the subprocess has ended (killed when over its time)."""
        pid, status, usage = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            if time.monotonic() - self.started < self.limit:
                return False
            self.timed_out = True
            _kill_group(self.pid)
            pid, status, usage = os.wait4(self.pid, 0)
        self.status, self.usage = status, usage
        _kill_group(self.pid)  # anything it left running (batch workers die with it anyway)
        return True

    def outcome(self) -> Outcome:
        code = os.waitstatus_to_exitcode(self.status) if self.status is not None else None
        result = Outcome(
            self.case, None if self.timed_out else code,
            self.stdout_path.read_text(encoding="utf-8", errors="replace"),
            self.stderr_path.read_text(encoding="utf-8", errors="replace"),
            time.monotonic() - self.started,
            (self.usage.ru_maxrss / 1024) if self.usage else 0.0)
        judge(result, self.sandbox, self.before)
        return result


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _child(argv: list[str], env: dict[str, str], cwd: Path, stdout: Path,
           stderr: Path) -> None:  # pragma: no cover - runs in the forked process
    code = 1
    try:
        os.setpgid(0, 0)
        _limit_memory()
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = None
        os.chdir(cwd)
        for fd, path in ((1, stdout), (2, stderr)):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        # New streams on the descriptors: the parent's may be a test runner's capture.
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False,  # noqa: SIM115
                          errors="backslashreplace")
        from coach.cli import main

        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - what escapes main is what the console script shows
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


# -- judging ----------------------------------------------------------------------------------


def _named(case: Case, sandbox: Sandbox) -> tuple[str, ...]:
    names = list(case.names)
    for arg in sandbox.argv(case):
        if arg.startswith(str(sandbox.root)):
            names.append(Path(arg).name)
    return tuple(n for n in names if n)


def judge(result: Outcome, sandbox: Sandbox, before: dict[str, tuple[int, int, int]]) -> None:
    """Fill ``result.problems`` (see the module's docstring)."""
    case, err = result.case, result.stderr
    problems = result.problems
    if result.code is None:
        problems.append("hang")
    elif "Traceback (most recent call last)" in err or result.code == 3 or result.code < 0:
        problems.append("traceback")
    if result.peak_mb > MEMORY_BOUND_MB or "MemoryError" in err or "out of memory" in err:
        problems.append("memory")
    after = _snapshot(sandbox.root, sandbox.path("out"))
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    changed -= {"stdout.txt", "stderr.txt"}
    if result.code == 0 and case.argv[:1] in (["record"], ["references"]):
        changed = {k for k in changed if not k.startswith("lib")}  # a take or import saved
    if changed:
        problems.append("outside")
        result.detail = f"changed {sorted(changed)[:3]}"
    if [p for p in sandbox.path("out").rglob(".*") if ".tmp" in p.name]:
        problems.append("half-written")
    if case.kind == "batch":
        _judge_batch(result, sandbox)
    elif result.code not in (None, 0) and "traceback" not in problems:
        lines = [line for line in err.splitlines() if ERROR_LINE.match(line)]
        names = _named(case, sandbox)
        if len(lines) != 1 or not any(n in lines[0] for n in names):
            problems.append("not one line")
            result.detail = f"error lines {lines[:2]!r}, names {names}"


def _judge_batch(result: Outcome, sandbox: Sandbox) -> None:
    summary = sandbox.path("out") / "batch" / "summary.csv"
    if result.code != 1 or not summary.is_file():
        result.problems.append("not one line")
        result.detail = f"batch exit {result.code}, summary written: {summary.is_file()}"
        return
    with open(summary, newline="", encoding="utf-8") as handle:
        rows = {Path(r["input"].lstrip("'")).name: r for r in csv.DictReader(handle)}
    good = rows.get(result.case.batch_good or "")
    bad = [r for name, r in rows.items() if name != result.case.batch_good]
    if good is None or good["status"] != "ok" or len(bad) != result.case.inputs or any(
            r["status"] == "error" and not r["error"] for r in bad):
        result.problems.append("not one line")
        result.detail = f"batch rows {len(rows)} for {result.case.inputs + 1} inputs"


# -- the run ----------------------------------------------------------------------------------


def run(cases: list[Case], *, jobs: int = 2, use_exec: bool = False, keep: Path | None = None,
        progress: bool = True) -> list[Outcome]:
    """Run ``cases`` ``jobs`` at a time; return their outcomes in order."""
    from coach.cli import build_parser

    build_parser()  # import every subcommand before forking, once
    work = Path(tempfile.mkdtemp(prefix="coach-fuzz-"))
    cache = work / "mplconfig"
    cache.mkdir()
    outcomes: list[Outcome | None] = [None] * len(cases)
    running: dict[int, Running] = {}
    queue = list(enumerate(cases))
    try:
        while queue or running:
            while queue and len(running) < jobs:
                index, case = queue.pop(0)
                running[index] = Running(case, Sandbox(work / f"case-{index}"), cache,
                                         use_exec)
            for index in [i for i, r in running.items() if r.poll()]:
                done = running.pop(index)
                outcomes[index] = done.outcome()
                if outcomes[index].problems and keep is not None:
                    with contextlib.suppress(shutil.Error, OSError):  # FIFOs are not copied
                        shutil.copytree(done.sandbox.root, keep / f"case-{index}",
                                        symlinks=True, dirs_exist_ok=True)
                shutil.rmtree(done.sandbox.root, ignore_errors=True)
                if progress and sum(o is not None for o in outcomes) % 100 == 0:
                    print(f"  {sum(o is not None for o in outcomes)} of {len(cases)} cases run",
                          file=sys.stderr, flush=True)
            time.sleep(0.005)
    finally:
        for r in running.values():
            _kill_group(r.pid)
        shutil.rmtree(work, ignore_errors=True)
    return [o for o in outcomes if o is not None]


def report(outcomes: list[Outcome]) -> tuple[Counter[str], str]:
    """The counts of every problem, and the report's text."""
    counts: Counter[str] = Counter()
    for o in outcomes:
        counts.update(o.problems)
    inputs = sum(o.case.inputs for o in outcomes)
    kinds = Counter()
    for o in outcomes:
        kinds[o.case.kind] += o.case.inputs
    refused = sum(1 for o in outcomes if o.code not in (0, None))
    peak = max((o.peak_mb for o in outcomes), default=0.0)
    lines = [f"{inputs} generated bad inputs in {len(outcomes)} runs of coach "
             f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})",
             f"refused with an error: {refused} runs; accepted (the damage left a usable "
             f"file): {sum(1 for o in outcomes if o.code == 0)} runs",
             f"tracebacks: {counts['traceback']}", f"hangs: {counts['hang']}",
             f"memory blow-ups (peak above {MEMORY_BOUND_MB} MB): {counts['memory']} "
             f"(highest peak {peak:.0f} MB)",
             f"writes outside the output folder: {counts['outside']}",
             f"half-written files: {counts['half-written']}",
             f"refusals without one error line naming the file: {counts['not one line']}"]
    for o in outcomes:
        if o.problems:
            lines.append(f"  {','.join(o.problems)}: [{o.case.kind}] {o.case.name[:60]!r}: "
                         f"exit {o.code}; {o.detail or _last_line(o.stderr)}")
    return counts, "\n".join(lines)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a sample of every kind")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--kind", help="only cases of this kind")
    parser.add_argument("--exec", action="store_true", help="exec the coach script per case")
    parser.add_argument("--keep", type=Path, help="copy failing sandboxes here")
    args = parser.parse_args(argv)
    cases = quick_cases(args.seed) if args.quick else all_cases(args.seed)
    if args.kind:
        cases = [c for c in cases if c.kind == args.kind]
    started = time.monotonic()
    outcomes = run(cases, jobs=args.jobs, use_exec=args.exec, keep=args.keep)
    counts, text = report(outcomes)
    print(text)
    print(f"({time.monotonic() - started:.0f} s)")
    return 1 if any(counts[p] for p in PROBLEMS) else 0


if __name__ == "__main__":
    sys.exit(main())
