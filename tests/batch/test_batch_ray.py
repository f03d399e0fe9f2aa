"""The Ray engine, on a local Ray started by the test, writes the same results as the pool."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from coach.batch.runner import BatchOptions, run_batch

pytestmark = pytest.mark.slow


def _comparable(out: Path) -> dict[str, dict]:
    """Every stored result without its run facts (timings, process ids), by file name."""
    found = {}
    for path in sorted((out / "results").glob("*.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        result.pop("run")
        found[path.name] = result
    return found


def test_ray_engine_writes_what_the_pool_writes(tmp_path: Path,
                                                sample_path: Callable[[str], Path]) -> None:
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install coach[ray]")
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(sample_path("squats"), inputs / "squats.mp4")
    shutil.copy(sample_path("keraal_RTK"), inputs / "rtk.json")
    (inputs / "notes.mp4").write_text("not a video", encoding="utf-8")
    common = {"inputs": [str(inputs)], "exercise": "auto", "workers": 2, "stride": 2}

    pool = run_batch(BatchOptions(out_dir=tmp_path / "pool", **common))
    ray = run_batch(BatchOptions(out_dir=tmp_path / "ray", engine="ray", **common))

    assert (pool.computed, pool.failed) == (ray.computed, ray.failed) == (3, 1)
    pool_results, ray_results = _comparable(tmp_path / "pool"), _comparable(tmp_path / "ray")
    assert pool_results == ray_results
    thumbs = sorted(p.name for p in (tmp_path / "pool" / "thumbs").iterdir())
    assert thumbs and thumbs == sorted(p.name for p in (tmp_path / "ray" / "thumbs").iterdir())
    for name in thumbs:
        assert ((tmp_path / "pool" / "thumbs" / name).read_bytes()
                == (tmp_path / "ray" / "thumbs" / name).read_bytes())
    assert ((tmp_path / "pool" / "summary.csv").read_text(encoding="utf-8")
            == (tmp_path / "ray" / "summary.csv").read_text(encoding="utf-8"))
    pids = {r["run"]["pid"] for r in (json.loads(p.read_text(encoding="utf-8")) for p in
                                      (tmp_path / "ray" / "results").glob("*.json"))}
    assert len(pids) <= 2  # two actors, each reused for several inputs


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     sample_path: Callable[[str], Path]) -> None:
    import builtins

    from coach.errors import CoachError

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray" or name.startswith("ray."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(CoachError, match=r"pip install coach\[ray\]"):
        run_batch(BatchOptions([str(sample_path("keraal_RTK"))], "squat", tmp_path / "o",
                               engine="ray"))


def test_unreachable_cluster_address_fails_at_once_with_one_line(
        tmp_path: Path, sample_path: Callable[[str], Path]) -> None:
    """``coach batch --engine ray --address`` naming a port nobody listens on: one line, exit
    code 2, no output folder, and no waiting for Ray's own retries."""
    import socket
    import subprocess
    import sys

    pytest.importorskip("ray", reason="Ray is an optional extra: pip install coach[ray]")
    with socket.socket() as probe:  # a free port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "out"
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        result = subprocess.run(
            [sys.executable, "-m", "coach", "batch", str(sample_path("keraal_RTK")),
             "--exercise", "squat", "-o", str(out), "--engine", "ray", "--address", address],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert result.stderr.strip() == (f"coach: error: --address {address}: no Ray cluster "
                                         "answers there (Connection refused)")
        assert not out.exists()
