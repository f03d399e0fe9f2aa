"""The real window under a virtual X display (Xvfb), and a clean refusal without a display."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coach.history import HistoryStore
from coach.sources import VideoFileSource

COACH = Path(sys.executable).parent / "coach"


def _env(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.mark.parametrize("display", [None, ":87"], ids=["unset", "unreachable"])
def test_no_display_exits_cleanly_with_a_message(tmp_path, sample_path, display):
    run = subprocess.run(
        [str(COACH), "live", "--exercise", "squat", "--source", str(sample_path("squats")),
         "--db", str(tmp_path / "h.sqlite3")],
        capture_output=True, text=True, timeout=120,
        env=_env(DISPLAY=display, WAYLAND_DISPLAY=None, QT_QPA_PLATFORM=None))
    assert run.returncode == 2, (run.returncode, run.stderr)  # not a signal (abort = -6)
    message = run.stderr.strip().splitlines()[-1]
    assert message.startswith("coach: error: ")
    assert ("DISPLAY environment variable is not set" if display is None
            else f"cannot open a window on display '{display}'") in message
    assert "--headless --output DIR" in message
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "h.sqlite3").exists()


@pytest.fixture(scope="module")
def xvfb_display():
    """A fresh virtual X display, once it accepts connections; skips when Xvfb is missing or
    does not start. Xvfb picks a free display number and writes it to a pipe when it is ready
    (-displayfd); -noreset keeps it from resetting when its last client leaves (a window
    opened during a reset cannot connect)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0",
                             "1280x1024x24", "-nolisten", "tcp", "-noreset"],
                            pass_fds=(write_end,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as ready:
        number = ready.readline().strip() if select.select([ready], [], [], 10)[0] else ""
    if not number.isdigit():
        proc.kill()
        proc.wait()
        pytest.skip("Xvfb did not start within 10 s")
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=10)


_WINDOW_SCRIPT = """
import json, numpy as np, cv2
from coach.live.display import display_problem
from coach.live.window import Window
out = {"problem": display_problem()}
scene = np.zeros((240, 320, 3), np.uint8); scene[:, :160] = (255, 0, 0)
window = Window("coach test")
out["command"] = window.show(scene)
for _ in range(5):
    window.show(scene)
out["visible"] = cv2.getWindowProperty("coach test", cv2.WND_PROP_VISIBLE)
out["rect"] = list(cv2.getWindowImageRect("coach test"))
out["closed_while_open"] = window.closed
cv2.destroyWindow("coach test")   # as when the person closes the window
cv2.waitKey(1)
out["after_close"] = window.show(scene)
window.close()
print(json.dumps(out))
"""


def test_window_opens_draws_and_closes(xvfb_display):
    run = subprocess.run([sys.executable, "-c", _WINDOW_SCRIPT], capture_output=True,
                         text=True, timeout=120, env=_env(DISPLAY=xvfb_display))
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["problem"] is None
    assert out["command"] is None
    assert out["visible"] >= 1 and not out["closed_while_open"]
    width, height = out["rect"][2:]
    assert width >= 160 and abs(width / height - 320 / 240) < 0.05  # shown, aspect kept
    assert out["after_close"] == "quit"  # a closed window ends the session


class _Driven:
    """``coach live`` with a window under the virtual display, driven with real key presses
    (xdotool) as a person would."""

    def __init__(self, display: str, args: list[str], **env: str) -> None:
        if shutil.which("xdotool") is None:
            pytest.skip("xdotool is not installed (apt-get install xdotool)")
        self.env = _env(DISPLAY=display, **env)
        self.started = time.monotonic()
        self.proc = subprocess.Popen([str(COACH), "live", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=self.env)
        self.lines: list[str] = []

    def window(self, title: str, timeout_s: float = 30.0) -> tuple[str, float]:
        """The window's id once it is on screen, and how long after the start it appeared."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = subprocess.run(["xdotool", "search", "--pid", str(self.proc.pid), "--name",
                                    title], capture_output=True, text=True, env=self.env)
            if found.stdout.strip():
                seconds = time.monotonic() - self.started
                # had it printed anything yet (the safety notes come once everything loaded)?
                self.printed_before_window = bool(select.select([self.proc.stdout], [], [],
                                                                0)[0])
                return found.stdout.split()[0], seconds
            if self.proc.poll() is not None:
                raise AssertionError(f"coach ended with {self.proc.returncode} before its "
                                     f"window: {self.proc.stderr.read()}")
            time.sleep(0.02)
        named = subprocess.run(["xdotool", "search", "--name", title], capture_output=True,
                               text=True, env=self.env).stdout.split()
        raise AssertionError(f"no window {title!r} of process {self.proc.pid} after "
                             f"{timeout_s} s (windows of that name: {named})")

    def wait_line(self, start: str) -> str:
        """The next line of output starting with ``start``."""
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith(start):
                return line
        raise AssertionError(f"no line starting {start!r}: {self.lines}")

    def keys(self, window: str, *keys: str) -> None:
        for key in keys:
            subprocess.run(["xdotool", "key", "--window", window, key], env=self.env,
                           capture_output=True, check=True)
            time.sleep(0.15)

    def finish(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=120)
        return self.proc.returncode, "".join(self.lines) + out, err


@pytest.fixture
def drive(xvfb_display):
    """Start ``coach live`` with a window (``drive(args, **env)``); every process started is
    killed at the end of the test, passed or failed."""
    started: list[_Driven] = []

    def start(args: list[str], **env: str) -> _Driven:
        started.append(_Driven(xvfb_display, args, **env))
        return started[-1]

    yield start
    for coach in started:
        if coach.proc.poll() is None:
            coach.proc.kill()
            coach.proc.communicate()


def _bare_window_s(display: str) -> float:
    """Seconds from starting Python to an OpenCV window on screen, nothing else loaded."""
    script = ("import cv2, numpy as np; cv2.namedWindow('bare', cv2.WINDOW_NORMAL); "
              "cv2.imshow('bare', np.zeros((48, 64, 3), np.uint8)); cv2.waitKey(1); "
              "print(flush=True); cv2.waitKey(3000)")
    start = time.monotonic()
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          env=_env(DISPLAY=display)) as proc:
        proc.stdout.readline()
        seconds = time.monotonic() - start
        proc.kill()
    return seconds


def _saved(db: Path) -> int:
    if not db.exists():
        return 0
    with HistoryStore(db, readonly=True) as store:
        return len(store.sessions())


@pytest.mark.slow
def test_live_session_in_a_window(tmp_path, sample_path, drive, xvfb_display):
    db = tmp_path / "h.sqlite3"
    coach = drive(["--exercise", "squat", "--source", str(sample_path("squats")),
                                   "--db", str(db), "--no-setup-check"])
    window, appeared_s = coach.window("coach - Banded squat")
    # the window opens with its loading screen before the source and the pose model are
    # loaded, and soon: about a second after the start on an idle machine, which is what any
    # OpenCV window takes here plus loading coach (the machine may be busy: compared with a
    # bare window started now)
    assert not coach.printed_before_window
    assert appeared_s < _bare_window_s(xvfb_display) + 1.5, appeared_s
    coach.wait_line("safety: ")  # the safety screen is up: the pain check-in, then start
    coach.keys(window, "5", "Return")
    start = time.monotonic()
    while _saved(db) == 0:  # the session is saved as soon as it ends, before the summary
        assert time.monotonic() - start < 60 and coach.proc.poll() is None
        time.sleep(0.1)
    time.sleep(0.5)
    assert coach.proc.poll() is None, "the summary screen waits for a key"
    coach.keys(window, "2", "Return")
    code, out, err = coach.finish()
    assert code == 0, err
    assert "ended: finished" in out
    with HistoryStore(db) as store:
        (record,) = store.sessions()
    assert record.exercise == "squat" and record.frames == 65
    assert (record.pain_before, record.pain_after) == (5, 2)
    # the 13 s clip played at its own speed
    assert 12.0 <= record.summary["wall_s"] <= 14.0, record.summary["wall_s"]


@pytest.mark.slow
def test_stopping_on_the_safety_screen_starts_nothing(tmp_path, sample_path, drive):
    db = tmp_path / "h.sqlite3"
    coach = drive(["--exercise", "squat", "--source", str(sample_path("squats")),
                                   "--db", str(db)])
    window, _ = coach.window("coach - Banded squat")
    coach.wait_line("safety: ")
    coach.keys(window, "Escape")
    code, out, err = coach.finish()
    assert code == 0, err
    assert "Session not started" in out
    assert not db.exists()


@pytest.mark.slow
def test_stop_key_during_the_session_then_the_summary(tmp_path, sample_path, drive):
    db = tmp_path / "h.sqlite3"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    coach = drive(["--exercise", "squat", "--source", str(sample_path("squats")),
                   "--db", str(db), "--no-setup-check", "--keep-video"],
                  TMPDIR=str(scratch))
    window, _ = coach.window("coach - Banded squat")
    coach.wait_line("safety: ")
    coach.keys(window, "Return")
    time.sleep(2.0)  # the 13 s clip plays at its own speed: this is during the session
    coach.keys(window, "q")  # stop at once
    while _saved(db) == 0:
        assert coach.proc.poll() is None
        time.sleep(0.1)
    coach.keys(window, "Return")  # closes the summary screen
    code, out, err = coach.finish()
    assert code == 0, err
    assert "ended: quit" in out
    with HistoryStore(db) as store:
        (record,) = store.sessions()
    assert 0 < record.summary["frames"]["processed"] < 65
    assert record.pain_before is None and record.pain_after is None
    # --keep-video without --output: the annotated video is in the history, and only there
    with HistoryStore(db) as store:
        video = store.get(record.id).video_mp4
    assert video is not None
    kept = tmp_path / "kept.mp4"
    kept.write_bytes(video)
    assert len(list(VideoFileSource(kept))) == record.summary["frames"]["processed"]
    assert "video" not in record.summary["files"]
    assert list(scratch.iterdir()) == []


@pytest.mark.slow
def test_unusable_history_without_output_keeps_the_session(tmp_path, sample_path, drive):
    db = tmp_path / "history.sqlite3"
    db.write_bytes(b"not an SQLite database " * 100)
    data = tmp_path / "data"
    coach = drive(["--exercise", "squat", "--source", str(sample_path("squats")), "--db",
                   str(db), "--no-setup-check", "--fast", "--keep-video"],
                  XDG_DATA_HOME=str(data))  # where unsaved sessions go
    window, _ = coach.window("coach - Banded squat")
    coach.wait_line("safety: ")
    coach.keys(window, "Return")
    unsaved = data / "coach" / "unsaved-sessions"
    deadline = time.monotonic() + 60
    while len(list(unsaved.glob("squat-*.npz"))) == 0:  # written before the summary screen
        assert time.monotonic() < deadline and coach.proc.poll() is None
        time.sleep(0.1)
    coach.keys(window, "Return")
    code, out, err = coach.finish()
    assert code == 2
    assert "Traceback" not in err
    message = err.strip().splitlines()[-1]
    assert "could not be saved to the history" in message and str(db) in message
    assert f"its summary and landmark recording are in {unsaved}" in message
    # --keep-video: the video the history could not take is kept with the rest
    assert sorted(p.suffix for p in unsaved.iterdir()) == [".json", ".mp4", ".npz", ".txt"]
    assert db.read_bytes() == b"not an SQLite database " * 100
