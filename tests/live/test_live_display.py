"""The real window under a virtual X display (Xvfb), and a clean refusal without a display."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coach.history import HistoryStore

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
    """A fresh virtual X display; skips when Xvfb is missing or does not start."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    for number in range(140, 160):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and \
                not Path(f"/tmp/.X{number}-lock").exists():
            break
    else:
        pytest.skip("no free X display number")
    proc = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "1280x1024x24",
                             "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.skip("Xvfb did not start")
        time.sleep(0.05)
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


@pytest.mark.slow
def test_live_session_in_a_window(tmp_path, sample_path, xvfb_display):
    db = tmp_path / "h.sqlite3"
    run = subprocess.run(
        [str(COACH), "live", "--exercise", "squat", "--source", str(sample_path("squats")),
         "--db", str(db), "--no-setup-check"],
        capture_output=True, text=True, timeout=300, env=_env(DISPLAY=xvfb_display))
    assert run.returncode == 0, run.stderr
    assert "ended: finished" in run.stdout
    with HistoryStore(db) as store:
        (record,) = store.sessions()
    assert record.exercise == "squat" and record.frames == 65
