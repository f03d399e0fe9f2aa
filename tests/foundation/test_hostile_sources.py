"""Hostile videos, images and sources through the real ``coach`` command, and the CLI's one
guard for errors that are coach's own fault."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

COACH = str(Path(sys.executable).with_name("coach"))


def _coach(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COACH, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def _error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("coach: error:")]
    assert len(lines) == 1, done.stderr
    return lines[0]


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                                0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1) * 4)) + chunk(b"IEND", b""))


def test_a_small_png_declaring_a_huge_picture_is_refused_from_its_header(
        tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "a.png").write_bytes(_png(16000, 16000))  # 768 MB of pixels in a tiny file
    done = _coach("extract", str(folder), "-o", str(tmp_path / "x.npz"))
    assert done.returncode == 2
    assert _error_line(done) == (f"coach: error: {folder / 'a.png'}: an image larger than the "
                                 "40000000 pixels allowed")
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize(("source", "words"), [
    ("", "the source is empty"),
    ("9" * 5000, "not a camera index"),
    ("12345", "not a camera index"),
])
def test_hostile_source_names_are_refused(tmp_path: Path, source: str, words: str) -> None:
    done = _coach("extract", source, "-o", str(tmp_path / "x.npz"))
    assert done.returncode == 2 and words in _error_line(done)


def test_a_fifo_named_like_a_video_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    done = _coach("extract", str(fifo), "-o", str(tmp_path / "x.npz"), timeout=60)
    assert done.returncode == 2
    assert _error_line(done) == f"coach: error: {fifo}: not a regular file"


@pytest.mark.slow
def test_a_truncated_video_is_scored_with_a_warning(tmp_path: Path,
                                                    sample_path: Callable[[str], Path]) -> None:
    from coach.sources import open_source
    from coach.video_writer import VideoWriter

    whole = tmp_path / "whole.mp4"  # index first, so the cut file still opens
    with open_source(sample_path("squats")) as source, VideoWriter(whole, source.fps) as out:
        for frame in source:
            out.write(frame.rgb, frame.timestamp_ms)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    done = _coach("score", str(cut), "--exercise", "squat")
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "decoding stopped" in line]
    assert len(warnings) == 1, done.stderr
    decoded = re.fullmatch(rf"coach: {re.escape(str(cut))}: decoding stopped after (\d+) of 65 "
                           r"frames \(the file may be truncated.*\)", warnings[0])
    assert decoded and 0 < int(decoded.group(1)) < 65, warnings[0]


BROKEN = """
import sys
from coach.library.store import Exercise
def broken(*args, **kwargs):
    raise ZeroDivisionError("a fault inside coach\\nsecond line")
Exercise.scorer = broken
from coach.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_one_line_naming_the_input(sample_path: Callable[[str], Path],
                                                          debug: bool) -> None:
    clip = str(sample_path("keraal_ELK"))
    args = ["--debug"] * debug + ["score", clip, "--exercise", "keraal-flank-stretch"]
    done = subprocess.run([sys.executable, "-c", BROKEN, *args], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 3
    line = [x for x in done.stderr.splitlines() if x.startswith("coach: error:")]
    assert line == [f"coach: error: {clip}: unexpected error (ZeroDivisionError: a fault inside "
                    "coach); run again with --debug for the traceback and report it"]
    assert ("Traceback (most recent call last)" in done.stderr) is debug
