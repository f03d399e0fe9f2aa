"""Landmark recordings: round trips, atomic writes, and refusal of malformed files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coach.atomic import atomic_write
from coach.errors import RecordingError
from coach.recording import load_keraal, load_recording, recording_bytes, save_recording
from tests.foundation.helpers import tiny_sequence


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_round_trip_keeps_every_field(tmp_path, suffix):
    sequence = tiny_sequence(with_gap=True)
    path = save_recording(sequence, tmp_path / f"run{suffix}")
    loaded = load_recording(path)
    np.testing.assert_array_equal(loaded.image_xyz, sequence.image_xyz)  # NaN stays NaN
    np.testing.assert_array_equal(loaded.world_xyz, sequence.world_xyz)
    np.testing.assert_array_equal(loaded.visibility, sequence.visibility)
    np.testing.assert_array_equal(loaded.timestamps_ms, sequence.timestamps_ms)
    np.testing.assert_array_equal(loaded.people_seen, sequence.people_seen)
    # The source is the file read, not what the file says of itself.
    assert (loaded.fps, loaded.source, loaded.image_size) == (30.0, str(path), (640, 480))
    assert not loaded.present[2]


def test_real_recording_round_trip(real_sequence, tmp_path):
    sequence = real_sequence("squats")
    loaded = load_recording(save_recording(sequence, tmp_path / "squats.json"))
    np.testing.assert_allclose(loaded.world_xyz, sequence.world_xyz)


def test_json_recording_is_plain_json_with_null_for_missing(tmp_path):
    path = save_recording(tiny_sequence(with_gap=True), tmp_path / "run.json")
    data = json.loads(path.read_text())
    assert data["format"] == "coach-landmarks" and data["version"] == 1
    assert data["image_xyz"][2][0] == [None, None, None]


def test_image_only_recording_has_no_world(tmp_path, sample_path):
    keraal = load_keraal(sample_path("keraal_RTK"))
    assert not keraal.has_world and len(keraal) > 150
    loaded = load_recording(save_recording(keraal, tmp_path / "k.npz"))
    assert loaded.world_xyz is None
    # A KERAAL file is also accepted directly where a recording is expected.
    assert len(load_recording(sample_path("keraal_RTK"))) == len(keraal)


def _fields(sequence) -> dict:
    return json.loads(recording_bytes(sequence, "json"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("image_xyz"), "missing field 'image_xyz'"),
        (lambda d: d.update(version=99), "unsupported recording version"),
        (lambda d: d.update(format="other"), "not a coach landmark recording"),
        (lambda d: d.update(image_xyz=[[[0, 0, 0]] * 17] * 4), "expected (T, 33, 3)"),
        (lambda d: d.update(visibility="high"), "not an array of numbers"),
        (lambda d: d.update(timestamps_ms=[0, 0, 1, 2]), "strictly increasing"),
        (lambda d: d.update(fps=-1), "not a plausible frame rate"),
        (lambda d: d.update(image_xyz=[]), "expected (T, 33, 3)"),
    ],
)
def test_malformed_recordings_are_refused(tmp_path, change, message):
    fields = _fields(tiny_sequence())
    change(fields)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(fields))
    with pytest.raises(RecordingError, match="bad.json") as caught:
        load_recording(path)
    assert message in str(caught.value)


def test_truncated_npz_is_refused(tmp_path):
    data = recording_bytes(tiny_sequence(), "npz")
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordingError, match="cut.npz"):
        load_recording(path)


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "run.npz"
    save_recording(tiny_sequence(), target)
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]


@pytest.mark.parametrize("text, fault", [
    ('{"positions": {"0": [0.5, 0.5, 0.0]}}', "expected an object of landmarks"),
    ('{"positions": {"0": {"Nose": [0.5, 0.5, 0.0]}, "0.0": {"Nose": [0.5, 0.5, 0.0]}}}',
     "frame numbers must be finite and distinct"),
    ('{"positions": {"nan": {"Nose": [0.5, 0.5, 0.0]}}}',
     "frame numbers must be finite and distinct"),
])
def test_malformed_keraal_file_is_a_recording_error(tmp_path, text, fault):
    path = tmp_path / "keraal.json"
    path.write_text(text)
    with pytest.raises(RecordingError, match=fault):
        load_recording(path)
