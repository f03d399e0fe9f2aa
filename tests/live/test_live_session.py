"""The live session end to end: the real pose model on the bundled clips, headless."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from live_helpers import FlakySource

from coach.backend import PoseBackend
from coach.history import HistoryStore, recording_from_bytes
from coach.library import Library
from coach.live.app import LiveOptions, follow_along, run_live
from coach.live.coaching import ExerciseCoaching
from coach.live.session import Session, SessionConfig
from coach.overlay.follow import LIMB_COLOUR, SPINE_COLOUR
from coach.overlay.legend import ENTRIES
from coach.pipeline import FrameCapture
from coach.sources import open_source

COACH = Path(sys.executable).parent / "coach"
pytestmark = pytest.mark.slow


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        return [f.to_ndarray(format="rgb24") for f in container.decode(stream)]


def test_headless_session_on_a_sample_clip(tmp_path, sample_path):
    out, db = tmp_path / "demo", tmp_path / "history.sqlite3"
    run = subprocess.run(
        [str(COACH), "live", "--exercise", "squat", "--source", str(sample_path("dance")),
         "--headless", "--output", str(out), "--db", str(db), "--mirror"],
        capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "saved to the session history as session 1" in run.stdout
    (stem,) = {p.stem for p in out.iterdir()}
    assert stem.startswith("squat-")
    assert sorted(p.suffix for p in out.iterdir()) == [".json", ".mp4", ".npz", ".txt"]
    summary = json.loads((out / f"{stem}.json").read_text())
    assert summary["ended"] == "finished"
    assert summary["frames"]["processed"] == 102
    assert 0 <= summary["overall"] <= 100
    assert set(summary["regions"]) == {"spine", "neck", "shoulders", "hips", "arms", "legs"}
    assert summary["overall"] < 90, "a dance is not a squat: it is not scored as one"
    assert isinstance(summary["cues_shown"], list)
    assert (out / f"{stem}.txt").read_text().startswith("Session: Banded squat")
    assert summary["files"]["recording"] == str(out / f"{stem}.npz")
    frames = _decode(out / f"{stem}.mp4")
    assert len(frames) == 102 and frames[0].shape == (600, 600, 3)
    # mirrored display: away from the overlays, the output is the source flipped
    with open_source(sample_path("dance")) as source:
        raw = next(iter(source)).rgb
    band = np.s_[400:500, 400:500]  # clear of the overlays and the follow-along panel
    flipped_err = np.abs(frames[0][band].astype(int) - raw[:, ::-1][band]).mean()
    straight_err = np.abs(frames[0][band].astype(int) - raw[band]).mean()
    assert flipped_err < 8 < straight_err

    listing = subprocess.run([str(COACH), "history", "--db", str(db)], capture_output=True,
                             text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0] == "squat: 1 session"
    row = lines[2].split()
    assert row[0] == "1" and row[4] == f"{summary['overall']:.0f}"
    with HistoryStore(db) as store:
        saved = store.get(1)
    assert saved.video_mp4 is None  # no video unless asked
    assert len(recording_from_bytes(saved.recording_npz)) == summary["frames"]["scored"]


@pytest.mark.parametrize("live", [False, True], ids=["file", "camera"])
def test_source_failing_part_way_leaves_a_saved_session(tmp_path, sample_path, live):
    opened = []

    def opener(spec: str):
        if opened:
            raise OSError("camera 0: cannot open the camera")
        opened.append(FlakySource(sample_path("squats"), fail_after=20, live=live))
        return opened[0]

    db = tmp_path / "h.sqlite3"
    options = LiveOptions(exercise="squat", source="0", headless=True, output=tmp_path / "o",
                          db=db, reconnect_timeout_s=0.5, setup_check=False, keep_video=True)
    result = run_live(options, opener=opener)
    outcome = result.outcome
    assert outcome.reason == "source failed"
    assert "failed after 20 frames" in outcome.message or "did not come back" in outcome.message
    assert outcome.frames_processed + outcome.frames_dropped == 20
    if not live:
        assert outcome.frames_processed == 20
    with HistoryStore(db) as store:
        (record,) = store.sessions()
        full = store.get(record.id)
    saved = recording_from_bytes(full.recording_npz)
    assert record.summary["ended"] == "source failed"
    assert len(saved) == outcome.frames_scored > 0
    assert saved.timestamps_ms[-1] < 20 * 1000 / 5.0  # only frames from before the failure
    assert full.video_mp4 == result.files["video"].read_bytes()  # --keep-video


def test_nobody_in_frame_pauses_scoring(tmp_path, sample_path):
    source = FlakySource(sample_path("squats"), fail_after=None, live=False, blank_every=3)
    result = run_live(LiveOptions(exercise="squat", headless=True, output=tmp_path,
                                  save_history=False), opener=lambda spec: source)
    outcome = result.outcome
    assert outcome.frames_processed == 65
    blank = len(range(0, 65, 3))
    assert outcome.frames_scored <= 65 - blank
    assert len(outcome.recording) == outcome.frames_scored
    assert outcome.recording.present.all()
    assert outcome.report is not None


class _ScriptedKeys:
    """A sink that presses keys at given frames (as the window would)."""

    interactive = True

    def __init__(self, keys: dict[int, str]) -> None:
        self.keys = keys
        self.shown = 0

    def show(self, scene, timestamp_ms):
        self.shown += 1
        return self.keys.get(self.shown)

    def close(self, completed: bool = True) -> None:
        pass


def _session(clip: Path, sink=None, setup_check: bool = False, speak=None,
             exercise: str = "squat"):
    """Run a Session in this process on a real clip with the real model; (outcome, sink)."""
    source = open_source(clip)
    sink = sink or _ScriptedKeys({})
    backend = PoseBackend()
    try:
        session = Session(FrameCapture(lambda: source, live=False, first_source=source),
                          backend.detect, ExerciseCoaching(Library.open().get(exercise)),
                          SessionConfig(setup_check=setup_check), [sink], source.fps,
                          speak=speak)
        return session.run(), sink
    finally:
        backend.close()


def test_pause_restart_and_quit_keys(sample_path):
    outcome, sink = _session(sample_path("squats"), _ScriptedKeys(
        {4: "pause", 8: "pause", 10: "restart", 60: "quit"}))
    assert outcome.reason == "quit"
    assert sink.shown == 60
    # frames 11-60 after the restart were coached (10 s, long enough to score the 13 s
    # squat); the paused frames never were
    assert outcome.frames_coached == 50
    assert len(outcome.recording) == outcome.frames_scored == 50
    assert outcome.report is not None, outcome.report_error


def test_interrupt_still_gives_an_outcome(sample_path):
    class _Interrupting(_ScriptedKeys):
        def show(self, scene, timestamp_ms):
            if self.shown == 25:
                raise KeyboardInterrupt
            return super().show(scene, timestamp_ms)

    outcome, _ = _session(sample_path("squats"), _Interrupting({}))
    assert outcome.reason == "interrupted"
    assert outcome.frames_scored == 26
    assert outcome.report is not None


def test_ctrl_c_saves_the_session(tmp_path, sample_path):
    out, db = tmp_path / "o", tmp_path / "h.sqlite3"
    proc = subprocess.Popen(
        [str(COACH), "live", "--exercise", "lunge-and-reach", "--source",
         str(sample_path("multi")), "--headless", "--output", str(out), "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # Ctrl-C as in a terminal, also when the tests run in the background (a shell without
        # job control starts background commands with SIGINT ignored, and children inherit it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.exists() and any(out.iterdir())):
        time.sleep(0.1)  # the video's temp file appears with the first coached frame
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "ended: interrupted" in stdout
    with HistoryStore(db) as store:
        (record,) = store.sessions()
    assert record.summary["ended"] == "interrupted"
    assert 0 < record.summary["frames"]["processed"] < 230
    assert len(list(out.glob("lunge-and-reach-*.mp4"))) == 1


def test_second_person_does_not_take_over(tmp_path, sample_path):
    result = run_live(LiveOptions(exercise="lunge-and-reach", headless=True, output=tmp_path,
                                  save_history=False, source=str(sample_path("multi"))))
    outcome, rec = result.outcome, result.outcome.recording
    assert (rec.people_seen > 1).mean() > 0.5  # several people in view most of the time
    assert len(rec) == outcome.frames_scored > 100
    # frames where only the others were in view were not scored for the coached person
    assert outcome.frames_scored < outcome.frames_processed
    hips = (rec.image_xyz[:, 23, :2] + rec.image_xyz[:, 24, :2]) / 2
    consecutive = np.diff(rec.timestamps_ms) < 1.5 * 1000.0 / rec.fps
    step = np.linalg.norm(np.diff(hips, axis=0), axis=1)[consecutive]
    assert step.max() < 0.2, "the coached person must not switch to someone else"


def test_setup_check_and_countdown_come_first(sample_path):
    outcome, _ = _session(sample_path("squats"), setup_check=True)  # 5 fps: 200 ms a frame
    # at least 1 s of right setup, then a 3 s countdown, before any frame is coached
    setup_frames = outcome.frames_processed - outcome.frames_coached
    assert setup_frames >= 20 and outcome.frames_coached > 20
    assert len(outcome.recording) == outcome.frames_scored == outcome.frames_coached


def test_spoken_cues_follow_the_cue_on_screen(sample_path):
    spoken: list[str] = []
    outcome, _ = _session(sample_path("squats"), speak=spoken.append,
                          exercise="mountain-pose")
    assert spoken, "squats coached as mountain pose (standing tall): cues must be spoken"
    assert set(spoken) == set(outcome.cue_counts)
    assert all(a != b for a, b in zip(spoken, spoken[1:], strict=False))


def test_held_posture_coached_live(real_sequence):
    exercise = Library.open().get("mountain-pose")
    coaching = ExerciseCoaching(exercise, image_size=(720, 1280))
    seq = real_sequence("squats")
    views = [coaching.update(seq.frame(i)) for i in range(len(seq))]
    assert {v.target_s for v in views} == {30.0}
    assert all(v.progress is None and v.ghost is None for v in views)
    assert all(0 <= v.score <= 100 for v in views if v.score is not None)
    held = np.array([v.held_s for v in views])
    assert np.all((held == 0) | (np.diff(held, prepend=0) >= 0) | (np.roll(held, -1) == 0))
    assert views[0].region_scores["arms"] is None  # the posture sets no arm targets
    # squatting bends the knees far from the straight legs the posture asks for
    w = seq.world_xyz
    thigh, shin = w[:, 23] - w[:, 25], w[:, 27] - w[:, 25]
    knee_deg = np.degrees(np.arccos(np.sum(thigh * shin, axis=1) / np.linalg.norm(
        thigh, axis=1) / np.linalg.norm(shin, axis=1)))
    assert views[int(np.argmin(knee_deg))].region_scores["legs"] < 30
    assert views[int(np.argmax(knee_deg))].region_scores["legs"] > 80
    report = coaching.report().to_dict()
    assert report["held"]["target_hold_s"] == 30.0


def test_camera_lost_is_shown_and_the_session_goes_on(sample_path):
    class _Recorder(_ScriptedKeys):
        def __init__(self) -> None:
            super().__init__({})
            self.idle: list[np.ndarray] = []

        def show(self, scene, timestamp_ms):
            if timestamp_ms != timestamp_ms:  # NaN: a redraw while the camera is away
                self.idle.append(scene.copy())
                return None
            return super().show(scene, timestamp_ms)

    attempts = []

    def opener():
        attempts.append(1)
        if len(attempts) in (2, 3) or len(attempts) > 4:  # away twice, back once, then gone
            raise OSError("camera 0: cannot open the camera")
        return FlakySource(sample_path("squats"), fail_after=15, live=True)

    backend = PoseBackend()
    sink = _Recorder()
    try:
        capture = FrameCapture(opener, live=True, retry_interval_s=0.2, give_up_after_s=1.5)
        session = Session(capture, backend.detect, ExerciseCoaching(Library.open().get("squat")),
                          SessionConfig(setup_check=False), [sink], 5.0)
        outcome = session.run()
    finally:
        backend.close()
    assert sink.idle, "the lost camera must be said on screen"
    idle = sink.idle[0]
    cy, cx = idle.shape[0] // 2, idle.shape[1] // 2
    assert idle[cy - 60:cy + 60, cx - 200:cx + 200].std() > 20  # the message panel's text
    assert idle[:100].mean() < 90  # the last picture, dimmed
    assert outcome.reason == "source failed"
    assert "did not come back" in outcome.message
    # frames from both connections were coached in one session
    assert outcome.frames_processed + outcome.frames_dropped == 30
    times = outcome.recording.timestamps_ms
    assert np.all(np.diff(times) > 0)


def test_two_sessions_into_one_folder_keep_all_their_files(tmp_path, sample_path):
    out, db = tmp_path / "out", tmp_path / "h.sqlite3"
    results = [run_live(LiveOptions(exercise="squat", source=str(sample_path("squats")),
                                    headless=True, output=out, db=db, pain_before=pain,
                                    pain_after=pain - 1)) for pain in (5, 3)]
    files = [set(r.files.values()) for r in results]
    assert len(files[0]) == len(files[1]) == 4 and not files[0] & files[1]
    assert sorted(out.iterdir()) == sorted(files[0] | files[1])  # nothing overwritten
    for result in results:
        saved = json.loads(result.files["summary_json"].read_text())
        assert saved["session_id"] == result.session_id
        assert saved["frames"]["processed"] == 65
    with HistoryStore(db) as store:
        rows = store.sessions("squat")
    assert [(r.pain_before, r.pain_after) for r in rows] == [(5, 4), (3, 2)]


def test_processing_rate_is_shown_in_the_window_but_not_saved(sample_path):
    class _Keep(_ScriptedKeys):
        def __init__(self, interactive: bool) -> None:
            super().__init__({})
            self.interactive = interactive
            self.frames: list[np.ndarray] = []

        def show(self, scene, timestamp_ms):
            self.frames.append(scene.copy())
            return super().show(scene, timestamp_ms)

    video, window = _Keep(False), _Keep(True)
    source = open_source(sample_path("squats"))
    backend = PoseBackend()
    exercise = Library.open().get("squat")
    follow = follow_along(exercise)
    try:
        Session(FrameCapture(lambda: source, live=False, first_source=source), backend.detect,
                ExerciseCoaching(exercise), SessionConfig(setup_check=False),
                [window, video], source.fps, follow=follow).run()
    finally:
        backend.close()
    assert len(video.frames) == len(window.frames) == 65
    differs = np.any(window.frames[-1] != video.frames[-1], axis=2)
    rows, cols = np.nonzero(differs)
    assert len(rows) > 50  # the rate, drawn on the window's picture only
    assert cols.min() > 720 * 0.75 and rows.max() < 1280 * 0.1  # top right, nothing else
    # the follow-along figure in its panel and the colour legend, on every coached frame
    x0, y0, x1, y1 = follow.panel_box(video.frames[0])
    for frame in video.frames[::16]:
        panel = frame[y0:y1, x0:x1]
        assert np.all(panel == LIMB_COLOUR, axis=2).sum() > 100
        assert np.all(panel == SPINE_COLOUR, axis=2).sum() > 20
        for colour, _ in ENTRIES:
            assert np.all(frame[:400, :300] == colour, axis=2).sum() >= 36
