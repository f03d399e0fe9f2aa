"""``coach record`` from a camera, and a live session whose camera is lost: a fake camera plays
a real sample clip through the real pose model, then drops a frame, stalls or ends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_live_display import xvfb_display  # noqa: F401 - the virtual display fixture

import coach.cli.record as record_cli
from coach.cli import main
from coach.library.recorder import TakeMoment, preview_scene
from coach.live.app import LiveOptions, run_live
from coach.recording import load_recording
from coach.sources import Frame, VideoFileSource

NEW_EXERCISE = ["--tradition", "rehabilitation", "--description", "A squat."]
#: The longest a stalled fake camera blocks (s), should nothing release it.
STALL_LIMIT_S = 60.0


class ClipCamera:
    """A camera that plays a real clip (frames with the clip's own times), then fails as
    ``fault`` says once ``fault_at`` frames have been read in all:

    "drop": one read fails (the frame is lost, the stream ends as a real camera's does), and
        the camera opens again at the next frame;
    "stall": the read never returns (until the camera is closed);
    "end": the camera is gone: the stream ends and it cannot be opened again.
    """

    def __init__(self, clip: Path, fault: str, fault_at: int) -> None:
        self.clip = clip
        self.fault = fault
        self.fault_at = fault_at
        self.opened = 0
        self.delivered: list[int] = []
        self._failed = False
        self._released = threading.Event()

    def open(self, spec: str | int | Path) -> _Connection:
        """The opener ``coach record`` and the live session are given."""
        if self.opened and self.fault == "end":
            raise OSError(f"camera {spec}: cannot open the camera")
        self.opened += 1
        return _Connection(self, spec)

    def frames(self) -> Iterator[Frame]:
        """The clip's frames from the first not yet read, until the fault."""
        with VideoFileSource(self.clip) as video:
            for frame in video:
                if frame.index < len(self.delivered) + (1 if self._failed else 0):
                    continue
                if frame.index == self.fault_at and not self._failed:
                    self._failed = True
                    if self.fault == "stall":
                        self._released.wait(STALL_LIMIT_S)
                    return
                self.delivered.append(frame.index)
                yield Frame(frame.rgb, frame.timestamp_ms, frame.index)

    def release(self) -> None:
        """Let a stalled read return."""
        self._released.set()


class _Connection:
    """One opening of a ``ClipCamera`` (what ``open_source`` returns for a camera)."""

    is_live = True
    still_images = False
    frame_count = None
    fps = 5.0

    def __init__(self, camera: ClipCamera, spec: str | int | Path) -> None:
        self.camera = camera
        self.name = f"camera {spec}"

    def __iter__(self) -> Iterator[Frame]:
        return self.camera.frames()

    def close(self) -> None:
        self.camera.release()

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _record(monkeypatch: pytest.MonkeyPatch, camera: ClipCamera, library: Path,
            *options: str) -> int:
    monkeypatch.setattr(record_cli, "open_source", camera.open)
    return main(["record", "my-squat", "--source", "0", "--headless", "--countdown", "0",
                 "--library", str(library), *NEW_EXERCISE, *options])


def test_record_from_a_camera_checks_setup_and_survives_a_dropped_frame(
        tmp_path, sample_path, monkeypatch, capsys):
    camera = ClipCamera(sample_path("squats"), "drop", fault_at=30)
    code = _record(monkeypatch, camera, tmp_path / "lib", "--duration", "9")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert camera.opened == 2, "the camera is opened again after the failed read"
    assert 30 not in camera.delivered and 31 in camera.delivered
    assert "setup: Hold still" in err  # the setup check ran: right at once, then held
    assert "recording: move now" in err
    take_path = tmp_path / "lib" / "my-squat" / "takes" / "take-001.npz"
    assert f"saved take {take_path} " in out
    take = load_recording(take_path)
    assert take.present.all() and take.has_world
    steps = np.diff(take.timestamps_ms)
    assert np.all(steps > 0)
    # 5 fps; the times of the reopened camera's frames continue from the last frame before
    # the failed read, by the time the reopening took
    assert np.median(steps) == pytest.approx(200.0, abs=1e-6)
    assert (np.abs(steps - 200.0) > 1e-6).sum() == 1
    assert take.timestamps_ms[-1] > 31 * 200.0  # frames from after the drop were kept
    # the setup check held 1 s (5 frames) before the start: the take starts at frame 5 or later
    assert take.timestamps_ms[0] >= 1000.0


@pytest.mark.parametrize("fault", ["stall", "end"])
def test_a_lost_camera_ends_the_recording_in_one_line(tmp_path, sample_path, monkeypatch,
                                                      capsys, fault):
    camera = ClipCamera(sample_path("squats"), fault, fault_at=20)
    try:
        code = _record(monkeypatch, camera, tmp_path / "lib", "--reconnect-timeout", "1")
    finally:
        camera.release()
    _, err = capsys.readouterr()
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("coach: error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].startswith("coach: error: camera 0: camera lost")
    assert "the take was not saved" in errors[0]
    assert not list((tmp_path / "lib").rglob("take-*.npz"))


def test_a_live_session_whose_camera_stalls_ends_with_what_it_had(tmp_path, sample_path):
    camera = ClipCamera(sample_path("squats"), "stall", fault_at=25)
    options = LiveOptions(exercise="squat", source="0", headless=True, output=tmp_path,
                          save_history=False, reconnect_timeout_s=1.0, setup_check=False)
    try:
        result = run_live(options, opener=camera.open)
    finally:
        camera.release()
    outcome = result.outcome
    assert outcome.reason == "source failed"
    assert outcome.message.startswith("No picture for")
    assert 0 < outcome.frames_processed <= 25
    saved = load_recording(result.files["recording"])
    assert len(saved) == outcome.frames_scored > 0
    assert saved.timestamps_ms[-1] < 25 * 200.0  # only frames from before the stall


def test_the_preview_shows_setup_countdown_recording_and_a_lost_camera(sample_path,
                                                                       real_sequence):
    with VideoFileSource(sample_path("squats")) as video:
        frame = next(iter(video))
        rgb = frame.rgb
    pose = real_sequence("squats").frame(0)
    moments = {
        "setup": TakeMoment("setup", frame, pose, ("Step back a little",)),
        "countdown": TakeMoment("countdown", frame, pose, seconds=2.5),
        "recording": TakeMoment("recording", frame, pose, seconds=4.0),
    }
    scenes = {phase: preview_scene(moment, "My squat", None, duration_s=10.0)
              for phase, moment in moments.items()}
    for phase, scene in scenes.items():
        assert scene.shape == rgb.shape, phase
        assert not np.array_equal(scene, rgb[:, ::-1]), f"{phase}: nothing drawn"
    assert not np.array_equal(scenes["setup"], scenes["countdown"])
    waiting = preview_scene(TakeMoment("waiting", lines=("No picture from camera 0 for 3 s",)),
                            "My squat", scenes["recording"])
    centre = waiting[waiting.shape[0] // 2 - 40:waiting.shape[0] // 2 + 40]
    assert centre.std() > 20  # the message panel's text
    assert waiting[:50].mean() < scenes["recording"][:50].mean()  # the last picture, dimmed


def test_record_from_a_camera_without_a_display_asks_for_headless(tmp_path, sample_path,
                                                                  monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    camera = ClipCamera(sample_path("squats"), "end", fault_at=20)
    monkeypatch.setattr(record_cli, "open_source", camera.open)
    code = main(["record", "my-squat", "--source", "0", "--library", str(tmp_path / "lib"),
                 *NEW_EXERCISE])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip().splitlines() == [
        "coach: error: no display: the DISPLAY environment variable is not set; use "
        "--headless to record without a preview, or run where a screen is attached"]
    assert camera.opened == 0, "the display is checked before the camera is opened"


_RECORD_WITH_PREVIEW = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
import coach.cli.record as record_cli
from coach.cli import main
from coach.live.window import Window
from test_live_record import ClipCamera
shown = []
real_show = Window.show
def show(window, rgb):
    shown.append(rgb.shape)
    return real_show(window, rgb)
Window.show = show
record_cli.open_source = ClipCamera(Path({clip!r}), "end", fault_at=65).open
code = main(["record", "my-squat", "--source", "0", "--countdown", "1", "--duration", "4",
             "--library", {library!r}, "--tradition", "rehabilitation",
             "--description", "A squat."])
print("frames shown", len(shown), file=sys.stderr)
sys.exit(code)
"""


def test_record_from_a_camera_shows_the_preview_window(tmp_path, sample_path, xvfb_display):  # noqa: F811
    script = _RECORD_WITH_PREVIEW.format(tests=str(Path(__file__).parent),
                                         clip=str(sample_path("squats")),
                                         library=str(tmp_path / "lib"))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "DISPLAY": xvfb_display})
    assert run.returncode == 0, run.stderr
    shown = int(run.stderr.strip().splitlines()[-1].split()[-1])
    assert shown >= 25  # the setup check, the countdown and 4 s of recording, at 5 fps
    take = tmp_path / "lib" / "my-squat" / "takes" / "take-001.npz"
    assert f"saved take {take} " in run.stdout
