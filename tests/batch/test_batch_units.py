"""Discovery, keys, the result store, and the summary/report writers, on small real files."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coach.backend import DEFAULT_MAX_PEOPLE
from coach.batch.discover import discover_inputs
from coach.batch.jobs import RESULT_FORMAT, Job, hash_input, result_key
from coach.batch.references import unmatched_reason
from coach.batch.report import summary_row, timeline_svg, write_report_html, write_summary_csv
from coach.batch.store import Outcome, ResultStore
from coach.batch.worker import _summary, error_result
from coach.errors import InputError
from coach.params import DEFAULT_PARAMS
from coach.report import Moment, Report
from coach.scoring import worst_moments


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_discovery_folders_globs_and_named_files(tmp_path: Path) -> None:
    a = _touch(tmp_path / "up" / "b.mp4")
    b = _touch(tmp_path / "up" / "deep" / "a.MOV")
    rec = _touch(tmp_path / "up" / "take.npz")
    _touch(tmp_path / "up" / "README.txt")
    _touch(tmp_path / "up" / ".hidden.mp4")
    _touch(tmp_path / "up" / ".cache" / "c.mp4")
    frames = tmp_path / "frames"
    _touch(frames / "0001.jpg")
    _touch(frames / "0002.jpg")
    notes = _touch(tmp_path / "notes.txt")

    found = discover_inputs([str(tmp_path / "up"), str(frames), str(notes)])
    assert found == [a, b, rec, frames, notes]  # folder order sorted; named file kept as is

    globbed = discover_inputs([str(tmp_path / "up" / "**" / "*.mp4"), str(a)])
    assert globbed == [a]  # recursive glob; the same file named twice appears once


def test_missing_names_stay_as_inputs_and_nothing_named_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "gone.mp4"
    pattern = str(tmp_path / "*.avi")
    assert discover_inputs([str(missing), pattern]) == [missing, Path(pattern)]
    with pytest.raises(InputError, match="no inputs"):
        discover_inputs([])


def test_hash_and_key_follow_content_not_name(tmp_path: Path) -> None:
    one = _touch(tmp_path / "one.mp4", b"same bytes")
    two = _touch(tmp_path / "two.mp4", b"same bytes")
    other = _touch(tmp_path / "three.mp4", b"other bytes")
    assert hash_input(one) == hash_input(two)
    assert hash_input(one)[0] != hash_input(other)[0]
    assert hash_input(one)[1] == len(b"same bytes")
    sha = hash_input(one)[0]
    base = result_key(sha, "squat", "v1", 1, "m")
    assert base == result_key(sha, "squat", "v1", 1, "m")
    changed = {result_key(sha, "auto", "v1", 1, "m"), result_key(sha, "squat", "v2", 1, "m"),
               result_key(sha, "squat", "v1", 2, "m"), result_key(sha, "squat", "v1", 1, "n"),
               result_key(sha, "squat", "v1", 1, "m", max_people=1)}
    assert base not in changed and len(changed) == 5
    # Results stored before --max-people existed (made with the default) keep their keys.
    before = (f"format={RESULT_FORMAT}|input={sha}|exercise=squat|reference=v1|stride=1|"
              "model=m")
    assert base == hashlib.sha256(before.encode()).hexdigest()[:32]
    assert base == result_key(sha, "squat", "v1", 1, "m", max_people=DEFAULT_MAX_PEOPLE)
    with pytest.raises(InputError, match="no such file"):
        hash_input(tmp_path / "missing.mp4")


def test_folder_hash_changes_with_any_frame(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    _touch(frames / "0001.png", b"a")
    _touch(frames / "0002.png", b"b")
    before = hash_input(frames)[0]
    _touch(frames / "0002.png", b"c")
    assert hash_input(frames)[0] != before


def _job(tmp_path: Path, key: str = "k" * 32) -> Job:
    return Job(str(tmp_path / "clip.mp4"), "s" * 64, 10, key, "squat", 1, False)


def test_store_writes_artefacts_then_result_and_reloads(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "out")
    job = _job(tmp_path)
    result = error_result(job, InputError("clip.mp4: broken"))
    result["status"] = "ok"
    result["thumbnails"] = [{"file": f"thumbs/{job.key}-0.jpg", "timestamp_ms": 0.0}]
    path = store.save(Outcome(result, {f"thumbs/{job.key}-0.jpg": b"jpeg"}))
    assert path == store.result_path(job.key)
    assert store.load(job.key) == result
    assert not list((tmp_path / "out").rglob(".*tmp*"))
    (tmp_path / "out" / "thumbs" / f"{job.key}-0.jpg").unlink()
    assert store.load(job.key) is None  # a result whose picture is gone is done again


def test_store_ignores_damaged_or_foreign_results_and_clears_temps(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    key = "a" * 32
    store.result_path(key).parent.mkdir(parents=True)
    store.result_path(key).write_text('{"key": "a', encoding="utf-8")
    assert store.load(key) is None
    store.result_path(key).write_text(json.dumps({"key": "b" * 32}), encoding="utf-8")
    assert store.load(key) is None
    temp = store.result_path(key).parent / f".{key}.x1y2.tmp.json"
    temp.write_text("{", encoding="utf-8")
    assert store.remove_stale_temps() == 1 and not temp.exists()
    with pytest.raises(ValueError, match="leaves the output folder"):
        store.save(Outcome({"key": key}, {"../escape.jpg": b"x"}))


def test_worst_moments_are_lowest_and_apart() -> None:
    times = np.array([0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0])
    scores = np.array([90.0, 20.0, 25.0, np.nan, 60.0, 10.0, 95.0])
    names = ("trunk_flexion_deg",)
    z = np.array([[0.0], [3.0], [2.5], [np.nan], [1.0], [-4.0], [0.0]])
    regions = {"spine": scores}
    worst = worst_moments(times, scores, regions, names, z, np.ones(1), DEFAULT_PARAMS)
    # 25 at 1 s and 60 at 2 s are each within 1 s of a worse moment; 90 and 95 are good
    assert [m.timestamp_ms for m in worst] == [2500.0, 500.0]
    assert [m.score for m in worst] == [10.0, 20.0]
    assert worst[0].region == "spine" and worst[0].what != worst[1].what  # leaning back / fwd
    one = worst_moments(times, scores, regions, names, z, np.ones(1),
                        replace(DEFAULT_PARAMS, worst_count=1))
    assert [m.timestamp_ms for m in one] == [2500.0]


def _report(kind: str) -> Report:
    held = kind == "held"
    return Report(
        kind=kind, reference_name="x", reference_version=None, overall=71.25, form=71.25,
        coverage_factor=1.0, tempo_factor=1.0, regions={"spine": 80.0, "neck": None},
        features={}, timeline_ms=np.array([0.0, 1000.0]), timeline_score=np.array([70.0, 72.5]),
        reference_index=None if held else np.array([0, 5]),
        worst_moments=(Moment(0.0, "spine", "w", 70.0),), tempo_ratio=np.nan if held else 1.0,
        tempo_text="held posture" if held else "about", reference_covered=np.nan,
        cues=("c",), cue_keys=(("trunk_flexion_deg", "+"),), plane="world", frames_used=2,
        frames_dropped=0, mirrored=False)


def test_summary_is_read_from_the_report() -> None:
    a = _summary(_report("flowing"), 3)
    assert a["overall"] in (71.2, 71.3)
    assert a["timeline"] == {"t_ms": [0.0, 1000.0], "score": [70.0, 72.5]}
    assert a["kind"] == "flowing" and a["tempo"] == "about" and a["worst"][0]["region"] == "spine"
    assert a["regions"] == {"spine": 80.0, "neck": None} and a["cues"] == ["c"]
    b = _summary(_report("held"), 3)
    assert b["kind"] == "held" and b["tempo"] is None


def test_timeline_svg_breaks_lines_at_gaps_and_marks_moments() -> None:
    svg = timeline_svg([0.0, 1000.0, 2000.0, 3000.0], [100.0, None, 50.0, 0.0], [2000.0])
    assert len(svg["lines"]) == 2
    first = [tuple(map(float, p.split(","))) for p in svg["lines"][0].split()]
    second = [tuple(map(float, p.split(","))) for p in svg["lines"][1].split()]
    assert len(first) == 1 and len(second) == 2
    assert second[0][1] < second[1][1]  # score 50 drawn above score 0
    assert svg["marks"][0]["x"] == second[0][0]
    assert [t["label"] for t in svg["xticks"]] == ["0 s", "0.5 s", "1 s", "1.5 s", "2 s",
                                                   "2.5 s", "3 s"]
    assert timeline_svg([], [])["lines"] == []


def _ok_result(name: str, overall: float, key: str) -> dict:
    return {
        "key": key, "status": "ok", "error": None, "exercise": "squat",
        "input": {"path": f"/in/{name}", "name": name, "sha256": "s", "size_bytes": 1},
        "video": {"frames_scored": 3, "frames_with_person": 3, "duration_s": 2.0},
        "match": {"exercise": "squat", "overall": overall, "margin": None, "candidates": []},
        "summary": {"overall": overall, "regions": {"spine": overall}, "cues": ["Sit back"],
                    "tempo": "about the reference's pace", "plane": "world",
                    "kind": "flowing",
                    "timeline": {"t_ms": [0.0, 1000.0, 2000.0], "score": [overall] * 3},
                    "worst": [{"timestamp_ms": 1000.0, "region": "spine",
                               "what": "Lengthen <your> spine", "score": overall,
                               "thumbnail": f"thumbs/{key}-0.jpg"}]},
        "thumbnails": [{"file": f"thumbs/{key}-0.jpg", "timestamp_ms": 1000.0}],
        "annotated_video": None,
    }


def test_csv_and_html_hold_every_input_with_errors(tmp_path: Path) -> None:
    close = _ok_result("fair.mp4", 61.5, "b" * 32)
    close["match"]["margin"] = 4.2
    results = [_ok_result("good.mp4", 88.0, "a" * 32), close,
               error_result(Job("/in/bad.mp4", "", 0, "", "squat", 1, False),
                            InputError("/in/bad.mp4: the file is empty (0 bytes)"))]
    rows = [summary_row(r, f"results/{r['key']}.json" if r["key"] else "") for r in results]
    csv_path = write_summary_csv(rows, tmp_path / "summary.csv")
    with open(csv_path, newline="", encoding="utf-8") as handle:
        read = list(csv.DictReader(handle))
    assert [r["input"] for r in read] == ["/in/good.mp4", "/in/fair.mp4", "/in/bad.mp4"]
    assert [r["status"] for r in read] == ["ok", "ok", "error"]
    assert read[0]["overall"] == "88.0" and read[0]["main_cue"] == "Sit back"
    assert [r["close_call"] for r in read] == ["", "yes", ""]
    assert read[2]["error"] == "/in/bad.mp4: the file is empty (0 bytes)"

    html_path = write_report_html(results, rows, tmp_path / "report.html", title="T",
                                  settings={"exercise": "squat", "stride": 1,
                                            "max_people": 1, "reference_version": "v"})
    html = html_path.read_text(encoding="utf-8")
    assert "up to 1 person per frame" in html
    assert html.count(">close call</span>") == 1
    assert "4.2 points: a close call, the movement may be none of the references" in html
    assert html.count("<tr>") == 4  # header + one row per input
    assert 'src="thumbs/' + "a" * 32 + '-0.jpg"' in html
    assert "Lengthen &lt;your&gt; spine" in html  # text is escaped
    assert "the file is empty (0 bytes)" in html
    assert "http://" not in html and "https://" not in html  # nothing from the internet


def test_timeline_svg_breaks_where_frames_are_missing() -> None:
    times = [0.0, 100.0, 200.0, 300.0, 900.0, 1000.0]  # 300 -> 900 ms: frames dropped
    svg = timeline_svg(times, [50.0] * 6)
    assert [len(line.split()) for line in svg["lines"]] == [4, 2]


def test_a_movement_far_from_every_reference_is_not_matched() -> None:
    assert unmatched_reason([("lunge-and-reach", 73.0), ("mountain-pose", 40.5)]) is None
    assert unmatched_reason([("squat", 85.0), ("mountain-pose", 80.0)]) is None  # two fit well
    assert unmatched_reason([("squat", 75.0)]) is None
    dance = unmatched_reason([("squat", 66.9), ("mountain-pose", 64.5)])
    assert dance is not None and "no exercise of the library clearly" in dance
    assert "'squat' 67/100" in dance and "'mountain-pose'" in dance
    far = unmatched_reason([("mountain-pose", 57.2), ("squat", 30.0)])
    assert far is not None and "far from every exercise" in far
